"""A configuration of seed 004, searched as the explorer's lean state and run as a
kernel world, and what can be read off it.

Seed 004's configuration is the pool M of undelivered messages, each node's private
input and the sequence of messages each node has received. The searches (valency,
Lemma 2) walk it as a :class:`~smrkit.explore.space.Space` state — nodes frozen and
interned, steps memoized, the pool a multiset — under ``async``: the pool is the
in-flight messages and the pending timers (a time-out under ``async`` is a dummy message
the adversary delivers when it likes), the input is each
:class:`~smrkit.protocols.consensus.binary.BinaryProcess`'s configuration, and what a
node received is in its state. The pool begins as the seed's does: one dummy message
(r, ⊥) per node — its ``start``, which the adversary delivers when it likes, like any
message (so a node crashed before its start never sends a thing). The run itself is
also kept on a kernel :class:`~smrkit.sim.kernel.World`, which knows each message's
identity and so its age, and writes the trace.

Two adversaries pick the next delivery. ``crash`` (FLP's classic one) may also crash
one node, once, at any point (a crash budget of 1). ``byzantine`` (seed 004's) makes one
node two-faced (:class:`~smrkit.protocols.consensus.binary.TwoFaced`): it follows the
protocol honestly with its own input or with the other, as the adversary picks — the
strategy of Lemma 1; the decisions that count are the honest nodes'. The strategy of
Lemma 2's case r = r' (the Byzantine node acting as if two messages had arrived in the
other order) is not modelled: what the searches find is reachable against the full
adversary too, but a ``0-valent`` verdict holds against the modelled strategies only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smrkit.core.ids import NodeId, server_ids
from smrkit.core.node import Node
from smrkit.explore.models import Model
from smrkit.explore.properties import View, always
from smrkit.explore.replay import kernel_world, path_to_json
from smrkit.explore.space import (
    ASYNC,
    DOWN,
    LIVE,
    NODES,
    NONDUPLICATING,
    POOL,
    TIMERS,
    UNSTARTED,
    Move,
    Space,
    SpaceConfig,
    State,
)
from smrkit.protocols.consensus.binary import BinaryProcess, BinaryProtocol, is_coin
from smrkit.sim.faults import Fault
from smrkit.sim.kernel import Crash, Deliver, Event, Fire, Start, World
from smrkit.sim.trace import encode

CRASH = "crash"
BYZANTINE = "byzantine"
ADVERSARIES = (CRASH, BYZANTINE)

Json = dict[str, Any]


def inputs_x(n: int, i: int) -> tuple[int, ...]:
    """Lemma 1's X_i: the first ``i`` nodes have input 1, the other ``n − i`` input 0."""
    return (1,) * i + (0,) * (n - i)


def _decision(node: Node) -> int | None:
    if not (isinstance(node, BinaryProcess) and node.decided):
        return None
    return 1 if node.decision == 1 else 0


def flp_model(
    protocol: BinaryProtocol,
    inputs: Sequence[int],
    adversary: str = CRASH,
    byzantine: NodeId | None = None,
) -> Model:
    """The world of an FLP run as a model (``smrkit replay`` rebuilds it from a trace):
    ``protocol``'s processes with ``inputs`` (``byzantine`` two-faced), its honest
    processes judged for agreement, validity and "no live node decided" along a path."""
    ids = server_ids(len(inputs))
    values = tuple(int(v) for v in inputs)
    honest = [p for p in ids if p != byzantine]
    honest_inputs = {v for p, v in zip(ids, values, strict=True) if p != byzantine}

    def decided(view: View) -> dict[str, int]:
        found = {p: view.node_fact(p, _decision) for p in honest}
        return {p: v for p, v in found.items() if v is not None}

    def agreement(view: View) -> bool:
        return len(set(decided(view).values())) <= 1

    def validity(view: View) -> bool:
        return len(honest_inputs) > 1 or set(decided(view).values()) <= honest_inputs

    def undecided(view: View) -> bool:
        return all(view.is_down(p) for p in decided(view))

    return Model(
        name=f"flp {protocol.name}",
        nodes=lambda: list(protocol.build(values, byzantine)),
        space=SpaceConfig(
            timing=ASYNC,
            network=NONDUPLICATING,
            start_at_init=False,
            crash_budget=1 if adversary == CRASH else 0,
            crashable=ids,
        ),
        properties=(
            always("agreement", agreement),
            always("validity", validity),
            always("no live node decided", undecided),
        ),
        parameters={
            "model": "flp",
            "protocol": protocol.name,
            "inputs": list(values),
            "adversary": adversary,
            "byzantine": byzantine,
        },
    )


@dataclass
class Setup:
    """A protocol, its inputs and the adversary (and which node is two-faced, under the
    ``byzantine`` one); the search space of its runs. Only honest nodes' decisions
    count: for agreement, validity and termination alike."""

    protocol: BinaryProtocol
    inputs: tuple[int, ...]
    adversary: str = CRASH
    byzantine: NodeId | None = None
    model: Model = field(init=False)
    space: Space = field(init=False)
    _decisions: dict[int, int | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.model = flp_model(self.protocol, self.inputs, self.adversary, self.byzantine)
        self.space = self.model.build_space()
        self.honest = [i for i, p in enumerate(self.space.ids) if p != self.byzantine]

    @property
    def ids(self) -> tuple[NodeId, ...]:
        return self.space.ids

    def initial(self) -> State:
        return self.space.initial()

    def world(self, seed: int = 0) -> World:
        """The initial configuration as a kernel world (nothing started); ``seed`` seeds
        each node's generator, from which a run draws the coins nodes ask for."""
        return kernel_world(self.model, seed)

    # --- facts about a state ------------------------------------------------------------

    def decision(self, state: State, i: int) -> int | None:
        snap = state[NODES][i]
        if snap not in self._decisions:
            self._decisions[snap] = _decision(self.space.thawed(i, snap))
        return self._decisions[snap]

    def decisions(self, state: State) -> dict[int, int]:
        """Who decided what (a node that decided and then crashed included: agreement is
        uniform in FLP's model)."""
        found = {i: self.decision(state, i) for i in self.honest}
        return {i: v for i, v in found.items() if v is not None}

    def live_decided(self, state: State) -> list[NodeId]:
        return [self.ids[i] for i in self.decisions(state) if state[DOWN][i] == LIVE]

    def safety_violation(self, state: State) -> str | None:
        """Which safety property ``state`` breaks, in one line, or ``None``: agreement
        (two nodes decided differently) or validity (all inputs v, another decision)."""
        decided = self.decisions(state)
        values = set(decided.values())
        if len(values) > 1:
            zero = ", ".join(self.ids[i] for i, v in decided.items() if v == 0)
            one = ", ".join(self.ids[i] for i, v in decided.items() if v == 1)
            return f"agreement: {zero} decided 0 and {one} decided 1"
        inputs = {self.inputs[i] for i in self.honest}
        if len(inputs) == 1 and values and values != inputs:
            every = "every honest input" if self.byzantine else "every input"
            return f"validity: {every} is {min(inputs)}, and {min(values)} was decided"
        return None

    def blocked(self, state: State) -> bool:
        """Nothing is left for the adversary to deliver to a live node, and a live honest
        node has not decided: termination is broken by a finite run."""
        down = state[DOWN]
        live = [i for i in range(len(self.ids)) if down[i] == LIVE]
        space = self.space
        if any(i in live for i in state[UNSTARTED]):
            return False
        if any(space.envs.values[e][1] in live for e in state[POOL]):
            return False
        if any(space.timer_ids.values[t][0] in live for t in state[TIMERS]):
            return False
        decided = self.decisions(state)
        return any(i not in decided for i in live if i in self.honest)

    def moves(self, state: State) -> list[tuple[Move, State]]:
        """The adversary's choices: start a node, deliver, fire, crash (the space's
        moves, less the start of a node already crashed, which the kernel ignores).
        While a live node waits for a coin it asked for, the only moves are that coin's
        two outcomes: the coin is flipped when the node flips it, and a search branches
        on both values (:mod:`~smrkit.protocols.consensus.binary`, "Coins")."""
        down = state[DOWN]
        found = [
            (move, after)
            for move, after in self.space.successors(state)
            if not (move.kind == "start" and down[move.node] != LIVE)
        ]
        coins = [(m, after) for m, after in found if self.coin(m) is not None]
        return coins or found

    def coin(self, move: Move) -> int | None:
        """The value a move gives a coin, or ``None`` if it flips none."""
        if move.kind != "fire":
            return None
        _, timer = self.space.timer(move.item)
        return int(timer[1]) if is_coin(timer) and isinstance(timer, tuple) else None

    def to_json(self, move: Move) -> Json:
        return path_to_json(self.space, [move])[0]


# --- the run's kernel world: identities, ages ---------------------------------------------


def start_seq(world: World, node: NodeId) -> int:
    """Where a node's dummy message stands in the pool's order: before every message."""
    return list(world.nodes).index(node) - len(world.nodes)


def pool(world: World) -> list[Event]:
    """The dummy messages of live nodes not started yet, then the undelivered messages
    and pending timers of live nodes, oldest first (by the world's sequence number: the
    order they entered the pool)."""
    entries: list[tuple[int, Event]] = [
        (start_seq(world, node), Start(node)) for node in world.unstarted if node not in world.down
    ]
    entries += [(m.seq, m) for m in world.messages.values() if m.dst not in world.down]
    entries += [(f.gen, f) for f in world.timers.values() if f.node not in world.down]
    return [event for _, event in sorted(entries, key=lambda entry: entry[0])]


def seq(world: World, event: Event) -> int:
    """The order in which ``event``'s message entered the pool (see :func:`pool`)."""
    if isinstance(event, Start):
        return start_seq(world, event.node)
    if isinstance(event, Deliver):
        return event.seq
    if isinstance(event, Fire):
        return event.gen
    return -1


def event_json(event: Event) -> Json:
    """A kernel event in the explorer's JSON words."""
    if isinstance(event, Deliver):
        return {"kind": "deliver", "src": event.src, "dst": event.dst, "msg": encode(event.msg)}
    if isinstance(event, Fire):
        return {"kind": "fire", "node": event.node, "timer": encode(event.timer)}
    if isinstance(event, Start):
        return {"kind": "start", "node": event.node}
    if isinstance(event, Crash):
        return {"kind": "crash", "node": event.fault.node}
    raise TypeError(f"an FLP run has no {event!r}")


def kernel_event(world: World, move: Json) -> Event:
    """The kernel event of a JSON move at ``world``: for a delivery, the oldest in-flight
    message with that sender, receiver and content (the one a replay delivers)."""
    kind = move["kind"]
    if kind == "deliver":
        wanted = (move["src"], move["dst"], move["msg"])
        for message in world.messages.values():
            if (message.src, message.dst, encode(message.msg)) == wanted:
                return message
        raise ValueError(f"no such message in flight: {wanted}")
    if kind == "fire":
        for (node, name), fire in world.timers.items():
            if (node, encode(name)) == (move["node"], move["timer"]):
                return fire
        raise ValueError(f"no such timer pending: {move}")
    if kind == "start":
        return Start(move["node"])
    if kind == "crash":
        return Crash(Fault("crash", move["node"], start=world.now))
    raise ValueError(f"an FLP run has no {kind} move")


def describe(move: Json) -> str:
    """A move in the adversary's words."""
    kind = move["kind"]
    if kind == "deliver":
        msg = move["msg"]
        fields = ", ".join(f"{k}={v}" for k, v in msg.items() if k != "type")
        return f"deliver {move['src']}->{move['dst']} {msg['type']}({fields})"
    if kind == "fire":
        return f"fire {move['node']} {move['timer']}"
    return f"{kind} {move['node']}"
