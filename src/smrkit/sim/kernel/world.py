"""The world: every node's state and everything in flight, and the one transition
function over it.

A :class:`World` holds the nodes (their states; their configurations are shared, see
:class:`~smrkit.core.state.Configured`), each node's effect sink ``Out`` with its seeded
generator, what each node saved, the in-flight messages (by id), the pending timers,
the nodes not started yet, the crashed and halted nodes, the fault state (the plan's
rules, cuts armed for a crash in the middle of a step, changes still to come) and the
network, whose generator draws the delays — and the keyring that mints and checks the
nodes' signatures (:mod:`~smrkit.sim.kernel.signatures`). A plan's ``byzantine:`` faults
put adversary code in place of the nodes they name (:mod:`smrkit.sim.adversary`).
:meth:`World.advance` applies one event; the effects of a node's step go through
:func:`~smrkit.sim.kernel.effects.apply_effects`, with the world as the sink. Observers
(:class:`Observer`) watch steps and add records.

A world is a value a search can branch: :meth:`World.copy` is a deep copy (node
configurations shared, the record log left behind), and :func:`~smrkit.sim.kernel.
fingerprint.world_fingerprint` a canonical hash of what decides its future.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Sequence
from heapq import heappush
from typing import Any

from smrkit.core.byzantine import ByzantineNode
from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Node, Out, Timer, apply_saves
from smrkit.sim import order
from smrkit.sim.adversary import byzantine_node
from smrkit.sim.faults import Fault, FaultPlan, FaultState
from smrkit.sim.kernel.effects import CrashCut, apply_effects
from smrkit.sim.kernel.events import Act, Crash, Deliver, Event, FaultChange, Fire, Round, Start
from smrkit.sim.kernel.records import (
    ACT,
    CRASH,
    DELIVER,
    DROP,
    FAULT,
    ROUND,
    SAVE,
    SEND,
    START,
    TIMER,
    Record,
)
from smrkit.sim.kernel.signatures import Keyring
from smrkit.sim.network import ROUNDS, SECONDS, STEPS, LockStepNetwork, Network
from smrkit.sim.order import EventKey, event_key

NO_SUCH_NODE = "no such node"
"""The cause of a drop: a message to a node the world does not have (only where a
Byzantine node could have named it; elsewhere such a send is a protocol bug)."""

# The agenda of a timed world is ordered by the one rule for events due at one instant
# (:mod:`smrkit.sim.order`, which the TCP runtime's timers follow too): by instant to the
# nanosecond; then faults (``crash:p1@1.0`` crashes p1 before anything else at 1.0),
# starts, deliveries and timers — so a time-out at t + δ sees every message due by
# t + δ (seed 001's model); then the world's sequence number: scheduling order. An entry
# is ``(event_key(at, class, seq), at, event)``.
FAULT_CLASS, START_CLASS, DELIVER_CLASS, TIMER_CLASS = (
    order.FAULT,
    order.START,
    order.DELIVER,
    order.TIMER,
)


class SimulationError(RuntimeError):
    """A node's handler raised: a bug in the protocol (or a broken invariant), not input."""


_new = tuple.__new__
"""``_new(Record, (...))`` builds a record without the Python-level ``__new__`` of a
``NamedTuple``: the hot paths below make one per event of the trace."""


class Observer:
    """Watches a world's steps and adds records for what the nodes expose.

    Every hook does nothing here; an observer overrides the ones it needs (the world
    calls only those). Hooks run at fixed points of a step, so their records sit where
    a reader expects them: ``delivered`` after the ``deliver`` record and before the
    handler, ``stepped`` after the handler and before its effects, ``sent`` after each
    ``send`` record, ``stopped`` after a ``crash`` or ``halt`` record. An observer's own
    state is plain data and is copied with the world.
    """

    def attach(self, world: World) -> None:
        """Called once, when the world is built."""

    def watches(self, node_id: NodeId, node: Node) -> bool:
        """Whether the hooks need to hear about ``node`` at all (asked once, after
        :meth:`attach`): the world calls an observer only about the nodes it watches —
        the hooks run on the simulator's hot path."""
        return True

    def delivered(self, world: World, message: Deliver) -> None:
        """``message`` reached a live node, which is about to handle it."""

    def stepped(self, world: World, node_id: NodeId, node: Node) -> None:
        """``node`` has just run a handler; its effects are not applied yet."""

    def sent(self, world: World, src: NodeId, dst: NodeId, msg: Message) -> None:
        """``src`` sent ``msg`` to ``dst`` (it may still be dropped)."""

    def stopped(self, world: World, node_id: NodeId) -> None:
        """``node_id`` crashed or halted."""

    def restarted(self, world: World, node_id: NodeId, node: Node) -> None:
        """``node`` is a new incarnation of ``node_id`` (:meth:`World.restart`); it has
        not started yet. An observer that holds the old node object swaps it here."""


def _overrides(observer: Observer, hook: str) -> bool:
    return getattr(type(observer), hook) is not getattr(Observer, hook)


class World:
    """Nodes, network, faults and observers of one run, and its transition function."""

    def __init__(
        self,
        nodes: Sequence[Node],
        *,
        seed: int,
        network: Network,
        plan: FaultPlan | None = None,
        observers: Sequence[Observer] = (),
        crash_budget: int = 0,
        rebuild: Callable[[NodeId], Node] | None = None,
    ) -> None:
        ids = [node.id for node in nodes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate node ids in {ids}")
        plan = FaultPlan() if plan is None else plan
        plan.validate(ids)
        self.seed = seed
        self.rebuild = rebuild
        """Builds a new incarnation of a node for a plan's ``restart`` fault."""
        self.adversaries = {f.node: f.strategy for f in plan.faults if f.strategy is not None}
        """The plan's Byzantine nodes and their strategies."""
        nodes = [self._in_place(node, ids) for node in nodes]
        self.nodes: dict[NodeId, Node] = {node.id: node for node in nodes}
        self.byzantine: tuple[NodeId, ...] = tuple(
            node.id for node in nodes if isinstance(node, ByzantineNode)
        )
        """The nodes running adversary code (from the plan, or built so by hand)."""
        self.keyring = Keyring()
        """Mints every node's signatures (its own only) and verifies them; shared by copies."""
        self.outs: dict[NodeId, Out] = {
            node.id: Out(
                random.Random(f"{seed}/node/{node.id}"),
                signer=self.keyring.signer(node.id),
                verifier=self.keyring.verify,
            )
            for node in nodes
        }
        self.keyring.close()
        self.storage: dict[NodeId, dict[str, object]] = {node.id: {} for node in nodes}
        self.network = network
        self.round_s = network.round_s if isinstance(network, LockStepNetwork) else 1.0
        """Lock-step: the virtual seconds of one round (round r starts at r · round_s)."""
        self.faults = FaultState(plan, random.Random(f"{seed}/faults"), self.round_s)
        self.now = 0.0
        self.round = 0
        self.steps = 0
        self.messages: dict[int, Deliver] = {}
        """The pool of messages in flight, by id (each is the event delivering it)."""
        self.timers: dict[tuple[NodeId, Timer], Fire] = {}
        self.unstarted: list[NodeId] = list(ids)
        self.down: dict[NodeId, str] = {}
        self.cuts: dict[NodeId, CrashCut] = {}
        self.crash_budget = crash_budget
        self.pending_faults: list[FaultChange] = []
        self.agenda: list[tuple[EventKey, float, Event]] = []
        self.log: list[Record] = []
        self.last_message_id = 0
        self.seq = 0
        self.timed = network.clock == SECONDS
        self._clock_visible = network.clock_visible
        self._delivery_time = network.delivery_time
        self._send_rules = bool(self.faults.send_rules)
        self._receive_rules = bool(self.faults.receive_rules)
        for fault in plan.faults:
            self._plan_change(FaultChange(self.faults.at(fault, fault.start), "begin", fault))
            if fault.kind != "crash" and fault.end != float("inf"):
                self._plan_change(FaultChange(self.faults.at(fault, fault.end), "end", fault))
        for node_id in ids:
            self._schedule(0.0, START_CLASS, Start(node_id))
        self.observers = tuple(observers)
        for observer in self.observers:
            observer.attach(self)
        self._on_delivered = self._hooked("delivered")
        self._on_stepped = self._hooked("stepped")
        self._on_sent = self._hooked("sent")
        self._on_stopped = self._hooked("stopped")

    def _in_place(self, node: Node, ids: Sequence[NodeId]) -> Node:
        """``node``, or the adversary the plan puts in its place."""
        strategy = self.adversaries.get(node.id)
        if strategy is None or isinstance(node, ByzantineNode):
            return node
        return byzantine_node(strategy, node, ids)

    def _hooked(self, hook: str) -> dict[NodeId, tuple[Observer, ...]]:
        """For each node, the observers that override ``hook`` and watch the node."""
        return {
            node_id: tuple(
                o for o in self.observers if _overrides(o, hook) and o.watches(node_id, node)
            )
            for node_id, node in self.nodes.items()
        }

    # --- the agenda (timed networks) ---------------------------------------------------

    def _schedule(self, at: float, klass: int, event: Event) -> None:
        self.seq += 1
        if self.timed:
            heappush(self.agenda, (event_key(at, klass, self.seq), at, event))

    def _plan_change(self, change: FaultChange) -> None:
        self.pending_faults.append(change)
        self._schedule(change.at, FAULT_CLASS, change)

    # --- branching ---------------------------------------------------------------------

    def copy(self) -> World:
        """A deep copy to branch a search from: node configurations, the fault plan and
        the keyring are shared (they are immutable, or only ever grow by seals that any
        branch would mint alike), everything else is copied; the copy's record log starts
        empty."""
        memo: dict[int, Any] = {
            id(self.log): [],
            id(self.faults.plan): self.faults.plan,
            id(self.keyring): self.keyring,
        }
        for generator in self._generators():
            twin = random.Random(0)
            twin.setstate(generator.getstate())  # not 625 ints through deepcopy, one by one
            memo[id(generator)] = twin
        return copy.deepcopy(self, memo)

    def _generators(self) -> list[random.Random]:
        found = [out.rng for out in self.outs.values()] + [self.faults.rng]
        found += [v for v in vars(self.network).values() if isinstance(v, random.Random)]
        return found

    @property
    def live(self) -> list[NodeId]:
        """The nodes that have not crashed or halted, in the world's order."""
        return [node for node in self.nodes if node not in self.down]

    # --- the transition function -------------------------------------------------------

    def time_of(self, event: Event) -> float:
        """When ``event`` happens if it is taken now, in the world's clock units: its due
        time in a timed network, its round in lock-step, the step count in ``async``."""
        clock = self.network.clock
        if clock == STEPS:
            return float(self.steps + 1)
        if isinstance(event, Round):
            return event.r * self.round_s
        if isinstance(event, FaultChange):
            return max(self.now, event.at)
        if clock == ROUNDS:
            return self.now
        if isinstance(event, Deliver):
            return event.due
        if isinstance(event, Fire):
            return max(self.now, event.at)
        return self.now

    def advance(self, event: Event, at: float | None = None) -> None:
        """Apply ``event`` at time ``at`` (default :meth:`time_of`), appending its records
        to :attr:`log`. Raises :class:`SimulationError` if a node's handler raises."""
        self.now = self.time_of(event) if at is None else at
        self.steps += 1
        if type(event) is Deliver:
            self._deliver(event.id)
        elif isinstance(event, Fire):
            self._fire(event)
        elif isinstance(event, FaultChange):
            self._fault_change(event)
        elif isinstance(event, Start):
            self._start(event.node)
        elif isinstance(event, Round):
            self._round(event.r)
        elif isinstance(event, Crash):
            self.crash_budget = max(0, self.crash_budget - 1)
            self._crash(event.fault)
        elif isinstance(event, Act):
            self._act(event)
        else:
            raise TypeError(f"not an event: {event!r}")

    def _start(self, node_id: NodeId) -> None:
        self.unstarted.remove(node_id)
        if node_id in self.down:
            return
        self.log.append(Record(self.now, START, node_id, None, None, None))
        node = self.nodes[node_id]
        self.outs[node_id].saved = dict(self.storage[node_id])
        self._handle(node_id, node, node.on_start, ())

    def _deliver(self, mid: int) -> None:
        try:
            message = self.messages.pop(mid)
        except KeyError:
            raise ValueError(f"message {mid} is not in flight") from None
        dst, src = message.dst, message.src
        log = self.log
        if dst in self.down:
            log.append(_new(Record, (self.now, DROP, dst, src, mid, self.down[dst])))
            return
        if self._receive_rules:
            cause = self.faults.receive_drop(src, dst, self.now)
            if cause is not None:
                log.append(_new(Record, (self.now, DROP, dst, src, mid, cause)))
                return
        log.append(_new(Record, (self.now, DELIVER, dst, src, mid, message.msg)))
        for observer in self._on_delivered[dst]:
            observer.delivered(self, message)
        node = self.nodes[dst]
        self._handle(dst, node, node.on_message, (src, message.msg))

    def _fire(self, event: Fire) -> None:
        node_id = event.node
        key = (node_id, event.timer)
        current = self.timers.get(key)
        if current is None or current.gen != event.gen or node_id in self.down:
            return  # replaced or cancelled since: the old entry fires as nothing
        del self.timers[key]
        self.log.append(_new(Record, (self.now, TIMER, node_id, None, None, event.timer)))
        node = self.nodes[node_id]
        self._handle(node_id, node, node.on_timer, (event.timer,))

    def _fault_change(self, change: FaultChange) -> None:
        self.pending_faults.remove(change)
        fault = change.fault
        self.log.append(Record(self.now, FAULT, None, None, None, (change.phase, fault.spec)))
        if fault.kind == "crash" and fault.node not in self.down:
            self._crash(fault)
        elif fault.kind == "restart" and fault.node in self.down:
            if self.rebuild is None:
                raise SimulationError(f"cannot restart {fault.node}: this world builds no nodes")
            self.restart(self.rebuild(fault.node))

    def _act(self, event: Act) -> None:
        node = self.nodes[event.node]
        if not isinstance(node, ByzantineNode):
            raise ValueError(f"{event.node} is not Byzantine: it has no free moves")
        if event.node in self.down:
            return
        self.log.append(Record(self.now, ACT, event.node, None, None, event.move))
        self._handle(event.node, node, node.on_move, (event.move,))

    def lose(self, mid: int, cause: str) -> None:
        """The adversary loses the in-flight message ``mid`` (a ``drop`` record with
        ``cause``): what a scenario's ``drop`` does, outside any fault plan."""
        try:
            message = self.messages.pop(mid)
        except KeyError:
            raise ValueError(f"message {mid} is not in flight") from None
        self.log.append(Record(self.now, DROP, message.dst, message.src, mid, cause))

    def restart(self, node: Node) -> None:
        """A new incarnation of a crashed or halted node: ``node``, built afresh, takes
        the old one's place (its storage kept, its timers gone; the plan's adversary
        again, if the node was Byzantine) and starts now — after the faults due now, by
        the one rule's order — reading what the old one saved from ``out.saved``. Its
        generator is seeded anew, ``"{seed}/node/p3/{now!r}"``; its signer is the same."""
        node_id = node.id
        if node_id not in self.down:
            raise ValueError(f"{node_id} is running: only a crashed or halted node restarts")
        del self.down[node_id]
        self.cuts.pop(node_id, None)
        self.timers = {key: fire for key, fire in self.timers.items() if key[0] != node_id}
        node = self._in_place(node, list(self.nodes))
        self.nodes[node_id] = node
        old = self.outs[node_id]
        rng = random.Random(f"{self.seed}/node/{node_id}/{self.now!r}")
        self.outs[node_id] = Out(rng, signer=old.signer, verifier=old.verifier)
        for observer in self.observers:
            observer.restarted(self, node_id, node)
        self.unstarted.append(node_id)
        self._schedule(self.now, START_CLASS, Start(node_id))

    def _crash(self, fault: Fault) -> None:
        """Crash ``fault.node`` now, or arm a cut for its next step."""
        if fault.after_sends is None and fault.receivers is None:
            self._take_down(fault.node, CRASH, fault.spec)
        else:
            receivers = None if fault.receivers is None else frozenset(fault.receivers)
            self.cuts[fault.node] = CrashCut(fault.spec, fault.after_sends, receivers)

    def _round(self, r: int) -> None:
        """Lock-step round ``r``: each live node, in the world's order, receives the
        messages sent to it in round ``r − 1`` (in send order) and takes its step,
        ``on_round``; then its timers due by now fire (an event-driven node run in
        rounds: deliveries before time-outs, as at equal times in the synchronous model).
        Whatever is sent meanwhile is round ``r``'s, delivered in round ``r + 1``."""
        self.round = r
        now = self.now
        log = self.log
        log.append(Record(now, ROUND, None, None, r, None))
        inboxes: dict[NodeId, list[Deliver]] = {}
        for message in self.messages.values():
            inboxes.setdefault(message.dst, []).append(message)
        self.messages = {}
        for node_id, node in self.nodes.items():
            arrived = inboxes.get(node_id, [])
            if node_id in self.down:
                for m in arrived:
                    log.append(Record(now, DROP, node_id, m.src, m.id, self.down[node_id]))
                continue
            inbox: list[tuple[NodeId, Message]] = []
            for m in arrived:
                cause = (
                    self.faults.receive_drop(m.src, node_id, now)
                    if self.faults.receive_rules
                    else None
                )
                if cause is not None:
                    log.append(Record(now, DROP, node_id, m.src, m.id, cause))
                    continue
                log.append(Record(now, DELIVER, node_id, m.src, m.id, m.msg))
                for observer in self._on_delivered[node_id]:
                    observer.delivered(self, m)
                inbox.append((m.src, m.msg))
            self._handle(node_id, node, node.on_round, (r, tuple(inbox)))
            # Due by now, in the one rule's order: by instant, then as they were set.
            last = order.instant(now)
            due = [
                (event_key(f.at, TIMER_CLASS, f.gen), f)
                for f in self.timers.values()
                if f.node == node_id and order.instant(f.at) <= last
            ]
            for _, fire in sorted(due):
                self._fire(fire)

    def _handle(self, node_id: NodeId, node: Node, handler: Any, args: tuple[Any, ...]) -> None:
        """One step of one node: run the handler, let observers look, apply the effects."""
        out = self.outs[node_id]
        out.now = self.now if self._clock_visible else 0.0
        try:
            handler(*args, out)
        except Exception as error:
            what = getattr(handler, "__name__", "handler")
            raise SimulationError(
                f"{node_id} raised {type(error).__name__} in {what} at t={self.now:.6f}: {error}"
            ) from error
        cut = self.cuts.pop(node_id, None) if self.cuts else None
        for observer in self._on_stepped[node_id]:
            observer.stepped(self, node_id, node)
        apply_effects(node_id, out, self, cut)

    # --- the effect sink ---------------------------------------------------------------

    def persist(self, node: NodeId, saves: Sequence[tuple[str, object]]) -> None:
        storage = self.storage[node]
        now, log = self.now, self.log
        apply_saves(storage, saves)
        for key, _ in saves:
            log.append(_new(Record, (now, SAVE, node, None, None, key)))

    def send(self, src: NodeId, dst: NodeId, msg: Message) -> None:
        self.last_message_id = mid = self.last_message_id + 1
        now = self.now
        log = self.log
        log.append(_new(Record, (now, SEND, src, dst, mid, msg)))
        for observer in self._on_sent[src]:
            observer.sent(self, src, dst, msg)
        if dst not in self.nodes:
            if not self.byzantine:  # a correct protocol in a benign world: a bug
                raise SimulationError(f"{src} sent {type(msg).__name__} to unknown node {dst!r}")
            # A Byzantine node may have named a stranger (a hint, a client id): no route.
            log.append(_new(Record, (now, DROP, dst, src, mid, NO_SUCH_NODE)))
            return
        if self._send_rules:
            cause = self.faults.send_drop(src, dst, now)
            if cause is not None:
                log.append(_new(Record, (now, DROP, dst, src, mid, cause)))
                return
        due = self._delivery_time(src, dst, now)
        self.seq = seq = self.seq + 1
        message = _new(Deliver, (mid, src, dst, msg, now, due, seq))
        self.messages[mid] = message
        if self.timed:
            heappush(self.agenda, (event_key(due, DELIVER_CLASS, seq), due, message))

    def set_timer(self, node: NodeId, timer: Timer, at: float | None) -> None:
        key = (node, timer)
        if at is None:
            self.timers.pop(key, None)
            return
        self.seq = seq = self.seq + 1
        fire = _new(Fire, (node, timer, seq, at))
        self.timers[key] = fire
        if self.timed:
            heappush(self.agenda, (event_key(at, TIMER_CLASS, seq), at, fire))

    def stop(self, node: NodeId, kind: str, reason: str) -> None:
        self._take_down(node, kind, reason)

    def _take_down(self, node_id: NodeId, kind: str, reason: str) -> None:
        self.down[node_id] = "crashed" if kind == CRASH else "halted"
        self.log.append(Record(self.now, kind, node_id, None, None, reason))
        for observer in self._on_stopped[node_id]:
            observer.stopped(self, node_id)


def enabled(world: World) -> list[Event]:
    """What may happen next in ``world``, in a deterministic order.

    * Timed networks (``synchronous``, ``partial-sync``): the delays were drawn when the
      messages were sent, so one event is next — the agenda's first (it may be an old
      entry of a replaced timer, which fires as nothing).
    * A fault change that is due comes alone: the plan's faults are not the adversary's
      choice (under ``async`` a fault at T is due once T events have happened; under
      ``lock-step`` the faults of round r come just before round r).
    * ``lock-step``: the next round, unless nothing is left to do (nothing in flight,
      every live node ``done``, no timer pending).
    * ``async``: start a node not started yet; deliver any in-flight message whose
      destination has started (or is down: it is dropped there); fire any pending
      timer of a live node — in the order starts, messages by id, timers by generation.
    * ``async`` and ``lock-step``: each free move of a live Byzantine node (an
      :class:`Act`; under ``lock-step`` after the next round, which comes first).
    * With a crash budget left, crashing any live node now (a :class:`Crash`).
    """
    if world.timed:
        return [world.agenda[0][2]] if world.agenda else []
    clock = world.network.clock
    if clock == ROUNDS:  # round 0 is every node's start; round r's faults come before it
        horizon = (world.round + (0 if world.unstarted else 1)) * world.round_s
    else:
        horizon = world.steps
    due = [c for c in world.pending_faults if c.at <= horizon]
    if due:
        return [min(due, key=lambda c: c.at)]
    events: list[Event] = []
    if clock == ROUNDS:
        if world.unstarted:
            events.extend(Start(node) for node in world.unstarted)
        else:
            if _rounds_left(world):
                events.append(Round(world.round + 1))
            events.extend(_acts(world))
    else:
        waiting = set(world.unstarted)
        events.extend(Start(node) for node in world.unstarted)
        events.extend(
            m for m in world.messages.values() if m.dst not in waiting or m.dst in world.down
        )
        fires = sorted(world.timers.values(), key=lambda fire: fire.gen)
        events.extend(fire for fire in fires if fire.node not in world.down)
        events.extend(_acts(world))
    if events and world.crash_budget > 0:
        rounds = clock == ROUNDS
        start = float(world.round + 1) if rounds else world.now
        events.extend(
            Crash(Fault("crash", node, start=start, in_rounds=rounds)) for node in world.live
        )
    return events


def _acts(world: World) -> list[Event]:
    """The free moves of the live, started Byzantine nodes, in the world's order."""
    acts: list[Event] = []
    for node_id in world.byzantine:
        if node_id in world.down or node_id in world.unstarted:
            continue
        node = world.nodes[node_id]
        assert isinstance(node, ByzantineNode)
        acts.extend(Act(node_id, move) for move in node.moves())
    return acts


def _rounds_left(world: World) -> bool:
    """Whether a lock-step run goes on: a correct live node is not done, has a timer
    pending, or sent a message still in flight. What Byzantine nodes do or send alone
    does not keep a run going (an adversary could otherwise keep it going forever)."""
    byzantine, down = world.byzantine, world.down
    if any(m.src not in byzantine for m in world.messages.values()):
        return True
    if any(f.node not in down and f.node not in byzantine for f in world.timers.values()):
        return True
    return any(
        not node.done
        for node_id, node in world.nodes.items()
        if node_id not in down and node_id not in byzantine
    )


def step(world: World, event: Event, at: float | None = None) -> list[Record]:
    """Apply ``event`` to ``world`` (in place) and return the records it produced."""
    start = len(world.log)
    world.advance(event, at)
    return world.log[start:]
