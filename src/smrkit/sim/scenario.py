"""Scenario tests: a world driven step by step from a script, as etcd-raft writes them.

A scenario script (:mod:`smrkit.sim.datadriven` is its text format) builds a world the
way ``smrkit sim`` would, then plays the adversary by hand — start, deliver, drop,
crash, restart, fire, let time run — and prints after each command what happened: the
kernel's records (sends, deliveries, drops, saves, crashes, halts), what the observers
saw (a new primary, an applied command, a decision), and the timers the step set or
cancelled. A test runner compares that with the script and rewrites it on request.

Commands (``key=value`` options; ``(a,b)`` for several values)::

    world protocol=NAME [replicas=N] [clients=K] [ops=M] [seed=S] [delta=D] [tau=T]
          [timing=NAME] [gst=G] [cap=C] [faults=(spec,…)] [bytes=B]
                                build the world (clients issue ``ops`` ops of their
                                workload; scripts usually keep 0 and send ``request``s;
                                ``bytes``: the protocols' largest message)
    start [NODE…]               start nodes (all not started yet, by default)
    run until=T [verbose]       let time run to T, every event in its order (timed
                                worlds); prints what observers saw and what was lost
                                on the way (not to a node that is down), all with
                                verbose
    run steps=N [verbose]       N events of the timing model's own chooser (any world)
    deliver [ID…] [from=] [to=] [type=]
                                deliver in-flight messages now, in id order
    drop [ID…] [from=] [to=] [type=]
                                lose in-flight messages now
    block [from=] [to=] [type=] lose every matching message as it is sent, from now on
    unblock                     forget every block
    crash NODE                  crash NODE now
    restart NODE                a new incarnation of a crashed or halted server starts
                                now, with what the old one saved
    fire NODE TIMER             fire a pending timer (TIMER as JSON: round, ["lease", 3]);
                                the clock moves to its time if that is later
    request CLIENT SERVER F [KEY [VALUE]]
                                CLIENT sends SERVER the next command ``F KEY VALUE``
    resend CLIENT SERVER        CLIENT sends SERVER its latest request again, the same
                                sequence number, as a client retries after a time-out
    state NODE [fields=(a,…)]   print NODE's state (all of it, or these fields)
    pool                        print the messages in flight
    timers [NODE…]              print the pending timers

A command that cannot be done prints ``error: …`` as its output (so a script can show
an error, too). Records print as ``time what``, a message as its type and fields; sets
and dicts print in sorted order, so outputs do not depend on the interpreter's hash seed.
"""

from __future__ import annotations

import dataclasses
import enum
import heapq
import json
from collections.abc import Callable, Iterable
from typing import Any

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest, PrimaryHint
from smrkit.core.ops import Command, Op, Value
from smrkit.core.signatures import Signed
from smrkit.core.state import state_fields
from smrkit.protocols.registry import MESSAGE_BYTES_MAX_DEFAULT
from smrkit.sim import trace as tr
from smrkit.sim.choosers import LockStep, OldestFirst, UntimedChooser
from smrkit.sim.datadriven import Directive
from smrkit.sim.faults import Fault
from smrkit.sim.kernel.events import Crash, Deliver, Event, FaultChange, Fire, Start
from smrkit.sim.kernel.world import SimulationError, World
from smrkit.sim.network import ROUNDS
from smrkit.sim.order import instant
from smrkit.sim.world import ConfigError, SimConfig, build_simulator

NOTABLE = frozenset(
    {
        tr.CRASH,
        tr.HALT,
        tr.PRIMARY,
        tr.APPLY,
        tr.DEST,
        tr.INVOKE,
        tr.COMPLETE,
        tr.FAULT,
        tr.PROPOSED,
        tr.DECIDED,
        tr.DELIVERED,
        tr.ACT,
        tr.DROP,
        tr.ELECTED,
        tr.COMMITTED,
    }
)
"""What ``run`` prints without ``verbose``: what the observers saw, and losses (but not
those of messages to a node that is down)."""

BLOCKED = "blocked"
DROPPED = "scenario"


class ScenarioError(ValueError):
    """A command that cannot be done now; printed as the command's output."""


@dataclasses.dataclass(frozen=True)
class Match:
    """Which messages a ``deliver``, ``drop`` or ``block`` means."""

    ids: frozenset[int]
    src: frozenset[NodeId]
    dst: frozenset[NodeId]
    types: frozenset[str]

    def __call__(self, message: Deliver) -> bool:
        return (
            (not self.ids or message.id in self.ids)
            and (not self.src or message.src in self.src)
            and (not self.dst or message.dst in self.dst)
            and (not self.types or type(message.msg).__name__ in self.types)
        )

    def describe(self) -> str:
        parts = [f"#{mid}" for mid in sorted(self.ids)]
        for key, values in (("from", self.src), ("to", self.dst), ("type", self.types)):
            if values:
                parts.append(f"{key}={','.join(sorted(values))}")
        return " ".join(parts) or "every message"


class Scenario:
    """The world a script drives, and the script's standing blocks."""

    def __init__(self) -> None:
        self._world: World | None = None
        self.blocks: list[Match] = []
        self.requests: dict[NodeId, int] = {}
        self.latest: dict[NodeId, ClientRequest] = {}
        """Each client's latest request, for ``resend``."""

    @property
    def world(self) -> World:
        if self._world is None:
            raise ScenarioError("no world yet: start the script with 'world protocol=NAME'")
        return self._world

    def execute(self, directive: Directive) -> str:
        """Run one command; its output (or ``error: …``)."""
        command = COMMANDS.get(directive.command)
        if command is None:
            return f"error: unknown command {directive.command!r}; commands: {', '.join(COMMANDS)}"
        try:
            return command(self, directive)
        except (ScenarioError, ConfigError) as error:
            return f"error: {error}"
        except SimulationError as error:
            return f"error: the protocol raised: {error}"

    # --- taking events ------------------------------------------------------------------

    def _take(self, event: Event, at: float | None = None) -> list[tr.Record]:
        """Take ``event`` (now, or at ``at``), after the plan's fault changes due by
        then, as the kernel orders them."""
        world = self.world
        start = len(world.log)
        when = world.now if at is None else at
        for change in sorted(world.pending_faults, key=lambda c: c.at):
            if change.at <= when and change is not event:
                world.advance(change, max(world.now, change.at))
        world.advance(event, when)
        self._apply_blocks(start)
        return world.log[start:]

    def _apply_blocks(self, start: int) -> None:
        world = self.world
        if not self.blocks:
            return
        for record in world.log[start:]:
            if record.kind == tr.SEND and record.num in world.messages:
                message = world.messages[record.num]
                if any(block(message) for block in self.blocks):
                    world.lose(record.num, BLOCKED)

    def _stepped(self, step: Callable[[], list[tr.Record]], verbose: bool = True) -> str:
        """Run ``step`` and print its records and the timers it changed."""
        world = self.world
        before = dict(world.timers)
        records = step()
        lines = [describe(r) for r in records if verbose or _notable(r)]
        if verbose:
            fired = {(r.node, r.data) for r in records if r.kind == tr.TIMER}
            lines.extend(_timer_changes(before, world.timers, fired, world.now))
        return "\n".join(lines) or "ok"

    # --- commands -----------------------------------------------------------------------

    def cmd_world(self, d: Directive) -> str:
        known = {"protocol", "replicas", "clients", "ops", "seed", "delta", "tau"}
        known |= {"timing", "gst", "cap", "faults", "app", "bytes"}
        unknown = sorted(set(d.options) - known)
        if unknown or d.args:
            raise ScenarioError(f"world takes {', '.join(sorted(known))}; got {unknown or d.args}")
        faults = d.options.get("faults", ())
        config = SimConfig(
            protocol=_text(d, "protocol", "pb-crash"),
            replicas=_number(d, "replicas", int, None),
            clients=_number(d, "clients", int, 1),
            ops=_number(d, "ops", int, 0),
            app=_text(d, "app", "kv"),
            seed=_number(d, "seed", int, 0),
            delta_s=_number(d, "delta", float, 0.01),
            tau_s=_number(d, "tau", float, 0.05),
            timing=_text(d, "timing", "synchronous"),
            gst_s=_number(d, "gst", float, None),
            delay_cap_s=_number(d, "cap", float, None),
            faults=(faults,) if isinstance(faults, str) else faults,
        )
        bytes_max = _number(d, "bytes", int, MESSAGE_BYTES_MAX_DEFAULT)
        simulator, run = build_simulator(config, message_bytes_max=bytes_max)
        self._world = simulator.world
        self.blocks, self.requests, self.latest = [], {}, {}
        lines = [
            f"{run.protocol.name}: n = {run.n}, f = {run.f}, {config.timing}; "
            f"nodes {' '.join(self.world.nodes)}"
        ]
        lines.extend(f"outside the protocol's model: {problem}" for problem in run.admissibility)
        return "\n".join(lines)

    def cmd_start(self, d: Directive) -> str:
        nodes = list(d.args) or list(self.world.unstarted)
        for node in nodes:
            if node not in self.world.unstarted:
                raise ScenarioError(f"{node} has started already (or is not a node)")
        return self._stepped(lambda: [r for n in nodes for r in self._take(Start(n))])

    def cmd_run(self, d: Directive) -> str:
        verbose = "verbose" in d.args
        if "until" in d.options:
            until = _number(d, "until", float, 0.0)
            if not self.world.timed:
                raise ScenarioError("run until=T needs a clock: use run steps=N here")
            return self._stepped(lambda: self._run_until(until), verbose)
        steps = _number(d, "steps", int, 0)
        if steps <= 0:
            raise ScenarioError("write run until=T or run steps=N (N > 0)")
        return self._stepped(lambda: self._run_steps(steps), verbose)

    def _run_until(self, until: float) -> list[tr.Record]:
        world = self.world
        if until < world.now:
            raise ScenarioError(f"until={until} is in the past (now {world.now:.4f})")
        records: list[tr.Record] = []
        last = instant(until)  # what is due at ``until`` by the one rule runs too
        while world.agenda and world.agenda[0][0][0] <= last:
            _, at, event = heapq.heappop(world.agenda)
            if not _live(world, event):
                continue
            records.extend(self._take(event, at))
        world.now = until
        return records

    def _run_steps(self, steps: int) -> list[tr.Record]:
        world = self.world
        records: list[tr.Record] = []
        chooser: UntimedChooser = LockStep() if world.network.clock == ROUNDS else OldestFirst()
        for _ in range(steps):
            if world.timed:
                while world.agenda and not _live(world, world.agenda[0][2]):
                    heapq.heappop(world.agenda)
                if not world.agenda:
                    break
                _, at, event = heapq.heappop(world.agenda)
                records.extend(self._take(event, at))
                continue
            choice = chooser.choose(world)
            if choice is None:
                break
            chosen_at, chosen = choice
            when = world.time_of(chosen) if chosen_at is None else chosen_at
            records.extend(self._take(chosen, when))
        return records

    def cmd_deliver(self, d: Directive) -> str:
        chosen = self._matching(d, "deliver")
        return self._stepped(lambda: [r for m in chosen for r in self._take(m)])

    def cmd_drop(self, d: Directive) -> str:
        chosen = self._matching(d, "drop")

        def lose() -> list[tr.Record]:
            start = len(self.world.log)
            for message in chosen:
                self.world.lose(message.id, DROPPED)
            return self.world.log[start:]

        return self._stepped(lose)

    def cmd_block(self, d: Directive) -> str:
        match = _match(d)
        self.blocks.append(match)
        return f"blocked: {match.describe()}"

    def cmd_unblock(self, d: Directive) -> str:
        count, self.blocks = len(self.blocks), []
        return f"unblocked {count}"

    def cmd_crash(self, d: Directive) -> str:
        node = _one(d, "crash NODE")
        if node not in self.world.live:
            raise ScenarioError(f"{node} is not a live node")
        fault = Fault("crash", node, start=self.world.now)
        return self._stepped(lambda: self._take(Crash(fault)))

    def cmd_restart(self, d: Directive) -> str:
        node = _one(d, "restart NODE")
        rebuild = self.world.rebuild
        assert rebuild is not None  # every scenario world is built by build_simulator
        try:
            self.world.restart(rebuild(node))
        except ValueError as error:
            raise ScenarioError(str(error)) from None
        return self._stepped(lambda: self._take(Start(node)))

    def cmd_fire(self, d: Directive) -> str:
        if len(d.args) != 2:
            raise ScenarioError('write fire NODE TIMER (TIMER as JSON: round, ["lease", 3])')
        node, timer = d.args[0], _timer(d.args[1])
        fire = self.world.timers.get((node, timer))
        if fire is None:
            raise ScenarioError(f"{node} has no timer {d.args[1]} pending")
        return self._stepped(lambda: self._take(fire, max(self.world.now, fire.at)))

    def cmd_request(self, d: Directive) -> str:
        if not 3 <= len(d.args) <= 5:
            raise ScenarioError("write request CLIENT SERVER F [KEY [VALUE]]")
        client, server, f, *rest = d.args
        world = self.world
        if client not in world.nodes or server not in world.nodes:
            raise ScenarioError(f"no node {client if client not in world.nodes else server}")
        key = rest[0] if rest else None
        value: Value = _value(rest[1]) if len(rest) > 1 else None
        seq = self.requests[client] = self.requests.get(client, 0) + 1
        self.latest[client] = ClientRequest(client, seq, Op(f, key, value))
        return self._send_request(server, self.latest[client])

    def cmd_resend(self, d: Directive) -> str:
        if len(d.args) != 2:
            raise ScenarioError("write resend CLIENT SERVER")
        client, server = d.args
        if server not in self.world.nodes:
            raise ScenarioError(f"no node {server}")
        request = self.latest.get(client)
        if request is None:
            raise ScenarioError(f"{client} has sent no request yet")
        return self._send_request(server, request)

    def _send_request(self, server: NodeId, request: ClientRequest) -> str:
        world = self.world

        def send() -> list[tr.Record]:
            start = len(world.log)
            world.send(request.client, server, request)
            self._apply_blocks(start)
            return world.log[start:]

        return self._stepped(send)

    def cmd_state(self, d: Directive) -> str:
        node_id = _one(d, "state NODE [fields=(a,b)]")
        node = self.world.nodes.get(node_id)
        if node is None:
            raise ScenarioError(f"no node {node_id}")
        state = state_fields(node)
        wanted = d.options.get("fields")
        names = sorted(state) if wanted is None else [wanted] if isinstance(wanted, str) else wanted
        missing = [name for name in names if name not in state]
        if missing:
            fields = ", ".join(sorted(state))
            raise ScenarioError(f"{node_id} has no field {missing[0]}; it has {fields}")
        world = self.world
        status = world.down.get(node_id, "unstarted" if node_id in world.unstarted else "up")
        return "\n".join([f"{node_id} ({status})", *(f"  {n}: {show(state[n])}" for n in names)])

    def cmd_pool(self, d: Directive) -> str:
        lines = [
            f"#{m.id} {m.src}->{m.dst} sent {m.sent_at:.4f} due {m.due:.4f} {show(m.msg)}"
            for m in self.world.messages.values()
        ]
        return "\n".join(lines) or "nothing in flight"

    def cmd_timers(self, d: Directive) -> str:
        nodes = set(d.args)
        lines = [
            f"{node} {_timer_text(timer)} at {fire.at:.4f}"
            for (node, timer), fire in sorted(self.world.timers.items(), key=lambda kv: kv[1].gen)
            if not nodes or node in nodes
        ]
        return "\n".join(lines) or "no timer pending"

    def _matching(self, d: Directive, verb: str) -> list[Deliver]:
        match = _match(d)
        chosen = [m for m in self.world.messages.values() if match(m)]
        if not chosen:
            raise ScenarioError(f"nothing in flight to {verb}: {match.describe()}")
        return chosen


COMMANDS: dict[str, Callable[[Scenario, Directive], str]] = {
    name.removeprefix("cmd_"): method
    for name, method in vars(Scenario).items()
    if name.startswith("cmd_")
}


def _notable(record: tr.Record) -> bool:
    """Whether ``run`` prints ``record`` without ``verbose``: what the observers saw,
    the service's answers to clients, and losses other than the expected ones (messages
    to a node that is down)."""
    if record.kind == tr.DROP:
        return record.data not in ("crashed", "halted")
    if record.kind == tr.SEND:  # what the service tells its clients
        return type(record.data) in (ClientReply, PrimaryHint)
    return record.kind in NOTABLE


def _live(world: World, event: Event) -> bool:
    """Whether an agenda entry still stands (a scenario may have delivered, dropped or
    restarted what it was for)."""
    if isinstance(event, Deliver):
        return event.id in world.messages
    if isinstance(event, Fire):
        current = world.timers.get((event.node, event.timer))
        return current is not None and current.gen == event.gen
    if isinstance(event, Start):
        return event.node in world.unstarted
    if isinstance(event, FaultChange):
        return event in world.pending_faults
    return True


def _timer_changes(
    before: dict[Any, Fire], after: dict[Any, Fire], fired: set[Any], now: float
) -> list[str]:
    lines = [
        f"{now:.4f} set {node} {_timer_text(timer)} at {fire.at:.4f}"
        for (node, timer), fire in after.items()
        if before.get((node, timer)) is not fire
    ]
    lines.extend(
        f"{now:.4f} cancel {node} {_timer_text(timer)}"
        for (node, timer) in before
        if (node, timer) not in after and (node, timer) not in fired
    )
    return lines


# --- arguments ------------------------------------------------------------------------


def _text(d: Directive, key: str, default: str) -> str:
    value = d.options.get(key, default)
    if not isinstance(value, str):
        raise ScenarioError(f"{key} takes one value")
    return value


def _number(d: Directive, key: str, kind: Callable[[str], Any], default: Any) -> Any:
    if key not in d.options:
        return default
    text = _text(d, key, "")
    try:
        return kind(text)
    except ValueError:
        raise ScenarioError(f"{key}={text} is not a number") from None


def _one(d: Directive, usage: str) -> str:
    if len(d.args) != 1:
        raise ScenarioError(f"write {usage}")
    return d.args[0]


def _values(d: Directive, key: str) -> frozenset[str]:
    value = d.options.get(key, ())
    return frozenset([value] if isinstance(value, str) else value)


def _match(d: Directive) -> Match:
    ids: set[int] = set()
    for arg in d.args:
        if not arg.lstrip("#").isdigit():
            raise ScenarioError(f"{arg} is not a message id")
        ids.add(int(arg.lstrip("#")))
    return Match(frozenset(ids), _values(d, "from"), _values(d, "to"), _values(d, "type"))


def _timer(text: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return _freeze(value)


def _freeze(value: Any) -> Any:
    return tuple(_freeze(item) for item in value) if isinstance(value, list) else value


def _value(text: str) -> Value:
    try:
        return int(text)
    except ValueError:
        return text


# --- printing -------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value as a script prints it: messages as ``Type(field=…)``, collections in
    sorted order, commands and ops in words."""
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "none"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int | enum.Enum):
        return str(value)
    if isinstance(value, Op):
        return str(value)
    if isinstance(value, Command):
        return f"{value.client}#{value.seq} {value.op}"
    if isinstance(value, Signed):
        return f"Signed({value.signer}, {show(value.value)})"
    if isinstance(value, tuple):
        return "(" + ", ".join(show(item) for item in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(show(item) for item in value)) + "}"
    if isinstance(value, dict):
        items = sorted(f"{show(k)}: {show(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ", ".join(
            f"{f.name}={show(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"{type(value).__name__}({fields})"
    return type(value).__name__


def describe(record: tr.Record) -> str:
    """One record as a line of output."""
    t, kind, node, other, num, data = record
    what: Callable[[], str] = {
        tr.SEND: lambda: f"send #{num} {node}->{other} {show(data)}",
        tr.DELIVER: lambda: f"deliver #{num} {other}->{node} {type(data).__name__}",
        tr.DROP: lambda: f"drop #{num} {other}->{node} ({data})",
        tr.TIMER: lambda: f"fire {node} {_timer_text(data)}",
        tr.START: lambda: f"start {node}",
        tr.CRASH: lambda: f"crash {node} ({data})",
        tr.HALT: lambda: f"halt {node}: {data}",
        tr.SAVE: lambda: f"save {node} {data}",
        tr.FAULT: lambda: f"fault {data[0]} {data[1]}",
        tr.ROUND: lambda: f"round {num}",
        tr.ACT: lambda: f"act {node} {show(data)}",
        tr.PRIMARY: lambda: f"primary {node} {show(data)}",
        tr.DEST: lambda: f"dest {node} {other}",
        tr.INVOKE: lambda: f"invoke {node}#{num} {show(data)}",
        tr.COMPLETE: lambda: f"complete {node}#{num} {data[0]} {show(data[1])}",
        tr.APPLY: lambda: f"apply {node} #{num} {show(data)}",
        tr.PROPOSED: lambda: f"proposed {node} {show(data)}",
        tr.DECIDED: lambda: f"decided {node} round {num} {show(data)}",
        tr.DELIVERED: lambda: f"delivered {node} from {other} {show(data)}",
        tr.ELECTED: lambda: (
            f"elected {node} term {num}, log terms {show(data[2])}"
            + (f" after #{data[0]}" if data[0] else "")
        ),
        tr.COMMITTED: lambda: (
            f"committed {node} #{data[1]}..#{num} in term {data[0]}: "
            + ", ".join(f"t{term} {client or 'no-op'}" for term, client, _ in data[2])
        ),
        tr.END: lambda: "end",
    }[kind]
    return f"{t:.4f} {what()}"


def _timer_text(timer: Any) -> str:
    return json.dumps(timer) if not isinstance(timer, str) else timer


def run_script(directives: Iterable[Directive]) -> list[str]:
    """The outputs of a script's commands, run in order on one scenario."""
    scenario = Scenario()
    return [scenario.execute(directive) for directive in directives]
