"""The searchable state space of a world: lean states, and the moves between them.

A search visits each state of a world once and may branch from it many times, so it
cannot copy kernel :class:`~smrkit.sim.kernel.World` objects (a deep copy of a two-node
world takes ~160 µs). A :class:`Space` keeps a world's searchable state as a tuple of
small ints — each node's frozen state (:mod:`smrkit.explore.frozen`) and each in-flight
message interned once — so that a state is built, hashed and compared in C, nodes that a
move does not touch are shared (copy-on-write per node), and the message pool is a sorted
tuple (a multiset). A node's step is a pure function of its state and its input, so the
space memoizes it: the same node in the same state receiving the same message is run
once per search, whatever the rest of the world.

A step runs the node's own handler on a scratch node (configuration shared, state thawed
from the frozen value) and its effects go through the kernel's one applier,
:func:`~smrkit.sim.kernel.apply_effects` — saves, then sends in order (a
:class:`~smrkit.sim.kernel.CrashCut` keeps a prefix or some receivers when the node
crashes during the step), then timers, then the halt. The moves mirror the kernel's
events, and a path of moves replays on a kernel world (:mod:`smrkit.explore.replay`); a
test walks both side by side and compares them state by state.

Three timings, as the kernel's choosers define them:

* ``async`` — no clock (nodes read ``out.now == 0``). Any in-flight message may be
  delivered next and any pending timer may fire (seed 004's pool M; Stateright's actor
  model). The network is ``nonduplicating`` (a delivered message leaves the pool) or
  ``duplicating`` (it stays and may be delivered again: a set of messages, as in
  Stateright's 2PC), or ``merging`` (nonduplicating, but a message equal to one already
  in flight is lost on sending: a lossy network's adversary that drops the copy, so that
  a node re-sending what it already sent — a heartbeat — leaves the state as it was and
  the pool stays finite), or ``overwriting`` (a link holds one message: one sent on a
  link with a message in flight replaces it, which is lost — a lossy network's adversary
  that loses every message but the newest on each link). A delivery or timer that
  changes nothing — the node's state equal, no effect asked for but sends to nodes that
  ignore them (``ignored_by``) — is not a move (Stateright's ``is_no_op``): the message stays in
  flight, as if delayed. A message to a crashed node is never delivered (the kernel
  would drop it; it changes no node either way).
* ``synchronous`` — seed 001's model with the delays drawn from a finite set: each
  message sent gets a delay the adversary chooses from ``delays`` (a move per
  combination), FIFO per link; the next event is then fixed — the earliest of the
  agenda, ordered as the kernel orders it (:mod:`smrkit.sim.order`: by instant, then
  faults, starts, deliveries, timers, then scheduling order). A ``horizon_s`` bounds
  the virtual time explored.
* ``lock-step`` — rounds: a round move runs every live node's ``on_round`` on what was
  sent to it in the previous round (in send order), then its timers due by then.

Byzantine nodes (:class:`~smrkit.core.byzantine.ByzantineNode`, passed already in place
of the honest ones) run their handlers like any node and, under ``lock-step``, may also
take any of their free moves (:meth:`~smrkit.core.byzantine.ByzantineNode.moves`) between
two rounds: an ``act`` move each, so the search branches over every behaviour of a
bounded adversary. Nodes sign through the space's own keyring
(:mod:`smrkit.sim.kernel.signatures`): a Byzantine node can relay a signature, not forge
one.

Crashes (``crash_budget`` > 0, nodes in ``crashable``): a live node may crash between
steps (``crash`` moves), or — ``mid_step_crashes`` — during a step, after k of its sends
(``async``, ``synchronous``: k from 0 to the sends minus one). Under ``lock-step`` with
``mid_step_crashes`` a crash is part of a round move instead: any k ≤ budget live nodes
crash in the round, each with its round's messages reaching any subset of the nodes that
stay up (seed 002's crash patterns, :meth:`Space.round_patterns`; a crash before a
round's sends is the empty subset, so there are no separate ``crash`` moves).
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from smrkit.core.byzantine import ByzantineNode
from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Node, Out, Timer, apply_saves
from smrkit.explore.frozen import Interner, freeze, freeze_node, thaw_into
from smrkit.sim.kernel.effects import CrashCut, apply_effects
from smrkit.sim.kernel.records import CRASH, HALT
from smrkit.sim.kernel.signatures import Keyring
from smrkit.sim.kernel.world import DELIVER_CLASS, START_CLASS, TIMER_CLASS
from smrkit.sim.network import fifo_due
from smrkit.sim.order import instant

ASYNC = "async"
SYNCHRONOUS = "synchronous"
LOCK_STEP = "lock-step"
TIMINGS = (ASYNC, SYNCHRONOUS, LOCK_STEP)

NONDUPLICATING = "nonduplicating"
DUPLICATING = "duplicating"
MERGING = "merging"
OVERWRITING = "overwriting"

State = tuple[Any, ...]
"""A lean state: a tuple of ints and tuples of ints (see :class:`Space`)."""

# Positions in a state tuple, shared by the three timings.
NODES, STORAGE, DOWN, BUDGET, AUX, POOL, TIMERS, CLOCK, LINKS, UNSTARTED = range(10)

LIVE, CRASHED, HALTED = 0, 1, 2

RoundPattern = tuple[tuple[int, tuple[int, ...]], ...]
"""A lock-step round's crashes: ``(node index, indices of the nodes its messages of the
round reach)`` for each node crashing in it."""


class Move(NamedTuple):
    """One step of the search, in the kernel's words.

    ``kind`` is ``start``, ``deliver`` (``item`` is the envelope: ``(src, dst, msg)``
    interned), ``fire`` (``item`` the timer), ``next`` (``synchronous``: the agenda's
    first event; ``item`` is its agenda class and its envelope, timer or node),
    ``round`` (``item`` the round), ``act`` (``lock-step``: Byzantine ``node`` takes its
    free move ``item``), or ``crash`` (``node`` crashes now).
    ``cut``: the acting node crashes during the step — the number of its sends that
    leave (``async``, ``synchronous``), or, under ``lock-step``, a tuple of
    ``(node, receivers)``. ``delays``: the delay chosen for each message that leaves,
    in send order (``synchronous``)."""

    kind: str
    node: int
    item: Any = None
    cut: Any = None
    delays: tuple[float, ...] = ()


class Recorder:
    """Auxiliary state a model keeps beside the nodes, updated as messages leave and
    arrive (Stateright's ``record_msg_out``/``record_msg_in``; a history for a
    linearizability property). Values are hashable and part of the state."""

    def initial(self) -> Hashable:
        return None

    def sent(self, aux: Any, src: NodeId, dst: NodeId, msg: Message) -> Any:
        return aux

    def received(self, aux: Any, src: NodeId, dst: NodeId, msg: Message) -> Any:
        return aux


class _Effects:
    """A sink for the one applier that records what a step did."""

    __slots__ = ("saves", "sends", "stopped", "timers")

    def __init__(self) -> None:
        self.saves: list[tuple[str, object]] = []
        self.sends: list[tuple[NodeId, Message]] = []
        self.timers: list[tuple[Timer, float | None]] = []
        self.stopped: tuple[str, str] | None = None

    def persist(self, node: NodeId, saves: Sequence[tuple[str, object]]) -> None:
        self.saves.extend(saves)

    def send(self, src: NodeId, dst: NodeId, msg: Message) -> None:
        self.sends.append((dst, msg))

    def set_timer(self, node: NodeId, timer: Timer, at: float | None) -> None:
        self.timers.append((timer, at))

    def stop(self, node: NodeId, kind: str, reason: str) -> None:
        self.stopped = (kind, reason)


class Step(NamedTuple):
    """A node's step, applied: its new frozen state (interned), its saves, its sends
    (envelopes, interned), its timer changes (``(timer, at | None)``), how it stopped
    (``None``, ``crashed`` or ``halted``) and whether it was a no-op."""

    snap: int
    saves: tuple[tuple[str, Hashable], ...]
    sends: tuple[int, ...]
    timers: tuple[tuple[int, float | None], ...]
    stop: int
    noop: bool


class _Raw(NamedTuple):
    """What a handler asked for, before the applier (kept to apply cuts later)."""

    snap: int
    saves: tuple[tuple[str, object], ...]
    sends: tuple[tuple[NodeId, Message], ...]
    timers: tuple[tuple[Timer, float | None], ...]
    halt: str | None


class NoRandomness(random.Random):
    """The generator of a node in a search: a model checker explores choices, it does not
    draw them; a protocol that draws from ``out.rng`` needs its draws made explicit."""

    def random(self) -> float:
        raise RuntimeError(
            "this node draws from out.rng, which the explorer does not model; "
            "make the choice a message or a timer the adversary picks"
        )

    def getrandbits(self, k: int) -> int:
        return int(self.random())


@dataclass
class SpaceConfig:
    """How a world is searched (see the module docstring)."""

    timing: str = ASYNC
    network: str = NONDUPLICATING
    start_at_init: bool = True
    """``async``: every node starts, in the world's order, before the search (Stateright
    runs ``on_start`` in its initial state); otherwise starts are moves."""
    crash_budget: int = 0
    crashable: tuple[NodeId, ...] = ()
    mid_step_crashes: bool = False
    delays: tuple[float, ...] = ()
    horizon_s: float = float("inf")
    round_s: float = 1.0
    recorder: Recorder = field(default_factory=Recorder)
    ignored_by: tuple[NodeId, ...] = ()
    """Nodes that ignore every message (a model's clients, blind to replies): what is sent
    to them is dropped as it is sent — in the pool it could only sit (its delivery would
    change nothing) and tell states apart. A mid-step crash's cut counts every send."""
    obsolete: Callable[[Node, NodeId, Message], bool] | None = None
    """``async``: whether a message from ``NodeId`` is one its destination, in the state
    given, ignores now and in every state it can reach (Raft: a reply of an older term).
    Such messages — and messages to crashed nodes — leave the pool after each move:
    they can never change anything, and left in flight they would only tell states
    apart. Exact when the model says true only of messages that are no-ops for good."""
    lost: Callable[[Space, State], frozenset[int]] | None = None
    """``async``: the messages (interned envelopes) of a state that a model's bound on
    the adversary loses after each move — what depends on more than the destination's
    state (Raft's ``requests-once``: a request some server's log holds already). A
    bound removes behaviours and adds none: what the search finds is real."""
    fifo_links: bool = False
    """``async``: each link delivers in the order it was sent (TCP's order): only the
    oldest message in flight on a link may arrive — and, when others wait behind it, it
    leaves the link even if it changes nothing at its destination."""
    may_fire: Callable[[Space, State, int], bool] | None = None
    """``async``: whether the (interned) timer may fire in the state — a model's bound
    on the adversary, such as a number of elections (``None``: any pending timer)."""
    move_order: Callable[[Space, Move], Any] | None = None
    """Sort key for the moves out of a state (the order a search tries them in). Without
    one, moves come as generated: starts, deliveries in the pool's order (interned
    envelopes, first seen first), timers, crashes — deterministic, not Stateright's."""


class Space:
    """The states of the world of ``nodes`` (in the world's order) and the moves
    between them. ``nodes`` are used as scratch nodes from now on: pass fresh ones."""

    def __init__(self, nodes: Sequence[Node], config: SpaceConfig) -> None:
        if config.timing not in TIMINGS:
            raise ValueError(f"unknown timing {config.timing!r}; timings: {TIMINGS}")
        if config.timing == SYNCHRONOUS and not config.delays:
            raise ValueError("synchronous timing needs a non-empty set of delays")
        self.config = config
        self.nodes = list(nodes)
        self.ids: tuple[NodeId, ...] = tuple(node.id for node in nodes)
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"duplicate node ids in {self.ids}")
        self.index = {node_id: i for i, node_id in enumerate(self.ids)}
        unknown = [n for n in config.crashable if n not in self.index]
        if unknown:
            raise ValueError(f"crashable nodes {unknown} are not in the world {self.ids}")
        self.crashable = frozenset(self.index[n] for n in config.crashable)
        keyring = Keyring()
        self.outs = [
            Out(NoRandomness(), signer=keyring.signer(node.id), verifier=keyring.verify)
            for node in nodes
        ]
        keyring.close()
        self.byzantine = tuple(i for i, node in enumerate(nodes) if isinstance(node, ByzantineNode))
        self.snaps = Interner()
        self.envs = Interner()
        self.timer_ids = Interner()
        self.stores = Interner()
        self.auxes = Interner()
        self.empty_store = self.stores(())
        self._raw: dict[tuple[Any, ...], _Raw] = {}
        self._applied: dict[tuple[Any, ...], Step] = {}
        self._aux_memo: dict[tuple[int, int, bool], int] = {}
        self._deliveries: dict[tuple[int, int], Step] = {}
        self._deliver_moves: dict[int, Move] = {}
        self.facts: dict[tuple[Any, ...], Any] = {}
        """Memo for properties: facts about an interned value (see ``View``)."""
        self._order_keys: dict[Move, Any] = {}
        self._obsolete: dict[tuple[int, int], bool] = {}
        self.recorder = config.recorder
        self.ignored = frozenset(config.ignored_by)
        self.dmin = min(config.delays) if config.delays else 0.0
        self.initial_snaps = tuple(self.snaps(freeze_node(node)) for node in nodes)

    # --- names ---------------------------------------------------------------------------

    def envelope(self, env: int) -> tuple[NodeId, NodeId, Message]:
        src, dst, msg = self.envs.values[env]
        return self.ids[src], self.ids[dst], msg

    def timer(self, timer: int) -> tuple[NodeId, Timer]:
        node, name = self.timer_ids.values[timer]
        return self.ids[node], name

    def node_state(self, snap: int) -> Hashable:
        """A node's frozen state."""
        return self.snaps.values[snap]  # type: ignore[no-any-return]

    def thawed(self, i: int, snap: int) -> Node:
        """Node ``i`` (a scratch node) loaded with the state ``snap``: read it, do not keep
        it — the next step reuses it."""
        node = self.nodes[i]
        thaw_into(node, self.snaps.values[snap])
        return node

    # --- the initial state ---------------------------------------------------------------

    def initial(self) -> State:
        config = self.config
        n = len(self.ids)
        aux = self.auxes(self.recorder.initial())
        if config.timing == ASYNC:
            state: State = (
                self.initial_snaps,
                (self.empty_store,) * n,
                (LIVE,) * n,
                config.crash_budget,
                aux,
                (),
                (),
                0.0,
                (),
                tuple(range(n)),
            )
            if config.start_at_init:
                for i in range(n):
                    state = self._after_start(state, i)
            return state if config.obsolete is None else self._collect(state)
        if config.timing == SYNCHRONOUS:
            agenda = tuple((0.0, START_CLASS, i) for i in range(n))
            return (
                self.initial_snaps,
                (self.empty_store,) * n,
                (LIVE,) * n,
                config.crash_budget,
                aux,
                agenda,
                (),
                0.0,
                (),
                (),
            )
        state = (
            self.initial_snaps,
            (self.empty_store,) * n,
            (LIVE,) * n,
            config.crash_budget,
            aux,
            (),
            (),
            0,
            (),
            tuple(range(n)),
        )
        for i in range(n):
            state = self._after_start(state, i)
        return state

    def _after_start(self, state: State, i: int) -> State:
        step = self._step(i, state[NODES][i], ("start", state[STORAGE][i]), 0.0, None)
        return self._apply(state, i, step, consumed=None, fired=None, unstart=i)[0]

    # --- node steps ----------------------------------------------------------------------

    def _run(self, i: int, snap: int, what: tuple[Any, ...], now: float) -> _Raw:
        """Run node ``i``'s handler (memoized: a pure function of its arguments)."""
        key = (i, snap, what, now)
        raw = self._raw.get(key)
        if raw is not None:
            return raw
        node = self.thawed(i, snap)
        out = self.outs[i]
        out.now = now
        out.halt_reason = None
        kind = what[0]
        if kind == "start":
            out.saved = dict(self.stores.values[what[1]])
            node.on_start(out)
        elif kind == "deliver":
            src, _, msg = self.envs.values[what[1]]
            node.on_message(self.ids[src], msg, out)
        elif kind == "fire":
            node.on_timer(self.timer_ids.values[what[1]][1], out)
        elif kind == "act":
            assert isinstance(node, ByzantineNode)
            node.on_move(what[1], out)
        else:
            inbox = tuple(
                (self.ids[self.envs.values[e][0]], self.envs.values[e][2]) for e in what[2]
            )
            node.on_round(what[1], inbox, out)
        raw = _Raw(
            self.snaps(freeze_node(node)),
            tuple(out.saves),
            tuple(out.sends),
            tuple(out.timers.items()),
            out.halt_reason,
        )
        out.clear()
        out.halt_reason = None
        self._raw[key] = raw
        return raw

    def _step(self, i: int, snap: int, what: tuple[Any, ...], now: float, cut: Any) -> Step:
        """Node ``i``'s step, through the one applier (``cut``: it crashes during it)."""
        key = (i, snap, what, now, cut)
        step = self._applied.get(key)
        if step is not None:
            return step
        raw = self._run(i, snap, what, now)
        out = self.outs[i]
        out.saves.extend(raw.saves)
        out.sends.extend(raw.sends)
        out.timers.update(raw.timers)
        out.halt_reason = raw.halt
        sink = _Effects()
        crash = None
        if cut is not None:
            crash = (
                CrashCut("explore", after_sends=cut)
                if isinstance(cut, int)
                else CrashCut("explore", receivers=frozenset(cut))
            )
        apply_effects(self.ids[i], out, sink, crash)
        out.halt_reason = None
        index = self.index
        ignored = self.ignored
        stopped = sink.stopped
        stop = LIVE if stopped is None else (CRASHED if stopped[0] == CRASH else HALTED)
        step = Step(
            raw.snap,
            tuple((k, freeze(v, f"{self.ids[i]} saved {k}")) for k, v in sink.saves),
            tuple(self.envs((i, index[dst], msg)) for dst, msg in sink.sends if dst not in ignored),
            tuple((self.timer_ids((i, t)), at) for t, at in sink.timers),
            stop,
            raw.snap == snap
            and not raw.saves
            and all(dst in ignored for dst, _ in raw.sends)
            and not raw.timers
            and raw.halt is None
            and cut is None,
        )
        assert stopped is None or stopped[0] in (CRASH, HALT)
        self._applied[key] = step
        return step

    def _aux(self, aux: int, env: int, sent: bool) -> int:
        key = (aux, env, sent)
        result = self._aux_memo.get(key)
        if result is None:
            src, dst, msg = self.envelope(env)
            value = self.auxes.values[aux]
            recorder = self.recorder
            new = (
                recorder.sent(value, src, dst, msg)
                if sent
                else recorder.received(value, src, dst, msg)
            )
            result = self._aux_memo[key] = aux if new is value else self.auxes(new)
        return result

    def _apply(
        self,
        state: State,
        i: int,
        step: Step,
        *,
        consumed: int | None,
        fired: int | None,
        unstart: int | None = None,
        received: int | None = None,
    ) -> tuple[State, tuple[int, ...]]:
        """``state`` after node ``i``'s ``step`` (async and lock-step pools); returns the
        new state and the envelopes the step sent."""
        nodes = list(state[NODES])
        nodes[i] = step.snap
        aux = state[AUX]
        if received is not None:
            aux = self._aux(aux, received, False)
        for env in step.sends:
            aux = self._aux(aux, env, True)
        storage = state[STORAGE]
        if step.saves:
            stored = dict(self.stores.values[storage[i]])
            apply_saves(stored, step.saves)
            storage = (*storage[:i], self.stores(tuple(stored.items())), *storage[i + 1 :])
        down = state[DOWN]
        budget = state[BUDGET]
        if step.stop != LIVE:
            down = (*down[:i], step.stop, *down[i + 1 :])
        pool = state[POOL]
        timed_pool = self.config.timing == LOCK_STEP
        if consumed is not None or step.sends:
            if self.config.network == DUPLICATING:
                pool = tuple(sorted(set(pool).union(step.sends)))
            elif timed_pool:
                pool = pool + step.sends
            else:
                items = list(pool)
                if consumed is not None:
                    items.remove(consumed)
                self._add_sends(items, step.sends)
                self._sort_pool(items)
                pool = tuple(items)
        timers = state[TIMERS]
        if fired is not None or step.timers or step.stop != LIVE:
            timers = self._timers(timers, fired, step.timers, i if step.stop != LIVE else None)
        unstarted = state[UNSTARTED]
        if unstart is not None:
            unstarted = tuple(u for u in unstarted if u != unstart)
        new = (
            tuple(nodes),
            storage,
            down,
            budget,
            aux,
            pool,
            timers,
            state[CLOCK],
            state[LINKS],
            unstarted,
        )
        return new, step.sends

    def _timers(
        self,
        timers: tuple[Any, ...],
        fired: int | None,
        changes: tuple[tuple[int, float | None], ...],
        stopped: int | None,
    ) -> tuple[Any, ...]:
        if self.config.timing == ASYNC:
            pending = set(timers)
            pending.discard(fired)
            for timer, at in changes:
                if at is None:
                    pending.discard(timer)
                else:
                    pending.add(timer)
            if stopped is not None:
                pending = {t for t in pending if self.timer_ids.values[t][0] != stopped}
            return tuple(sorted(pending))
        # lock-step: ((timer, at), ...) in the order they were set (the kernel's gen order)
        entries = [(t, at) for t, at in timers if t != fired]
        for timer, at in changes:
            entries = [(t, a) for t, a in entries if t != timer]
            if at is not None:
                entries.append((timer, at))
        if stopped is not None:
            entries = [(t, a) for t, a in entries if self.timer_ids.values[t][0] != stopped]
        return tuple(entries)

    def bounded(self, state: State) -> bool:
        """Whether ``state`` has no move only because of the horizon (or a round limit)."""
        timing = self.config.timing
        if timing == SYNCHRONOUS:
            return bool(state[POOL]) and bool(state[POOL][0][0] > self.config.horizon_s)
        if timing == LOCK_STEP:
            return bool((state[CLOCK] + 1) * self.config.round_s > self.config.horizon_s)
        return False

    # --- moves ---------------------------------------------------------------------------

    def successors(self, state: State) -> list[tuple[Move, State]]:
        """Every move out of ``state`` that changes something, with the state it leads
        to, in the search's order."""
        timing = self.config.timing
        if timing == ASYNC:
            found = self._async_moves(state)
        elif timing == SYNCHRONOUS:
            found = self._timed_moves(state)
        else:
            found = self._round_moves(state)
        if self.config.obsolete is not None:
            if timing == ASYNC:
                before = frozenset(state[POOL])
                found = [(move, self._collect(after, before, move.node)) for move, after in found]
            else:
                found = [(move, self._collect(after)) for move, after in found]
        lost = self.config.lost
        if lost is not None:
            found = [(move, _without(after, lost(self, after))) for move, after in found]
        order = self.config.move_order
        if order is not None and len(found) > 1:
            keys = self._order_keys
            ranked = []
            for pair in found:
                k = keys.get(pair[0])
                if k is None:
                    k = keys[pair[0]] = order(self, pair[0])
                ranked.append((k, pair))
            ranked.sort(key=_first)
            return [pair for _, pair in ranked]
        return found

    def _add_sends(self, items: list[int], sends: tuple[int, ...]) -> None:
        """Add the envelopes ``sends`` to the pool ``items``, as the network keeps them."""
        network = self.config.network
        if network == MERGING:
            items.extend(env for env in dict.fromkeys(sends) if env not in items)
        elif network == OVERWRITING:
            envs = self.envs.values
            for env in sends:
                link = envs[env][:2]
                items[:] = [e for e in items if envs[e][:2] != link]
                items.append(env)
        else:
            items.extend(sends)

    def _sort_pool(self, items: list[int]) -> None:
        """The pool's one order: by envelope (a multiset), or with ``fifo_links`` by link,
        each link's messages in the order they were sent (a stable sort)."""
        if self.config.fifo_links:
            envs = self.envs.values
            items.sort(key=lambda env: envs[env][:2])
        else:
            items.sort()

    def _collect(
        self, state: State, before: frozenset[int] = frozenset(), actor: int = -1
    ) -> State:
        """``state`` without the messages no move can use (``SpaceConfig.obsolete``).

        ``before`` is the pool of a collected state one move of node ``actor`` earlier
        (``async``): a message of it to another node is still alive — its destination
        did not move — so only the actor's messages and the new ones are looked at."""
        pool = state[POOL]
        if not pool:
            return state
        nodes, down, envs = state[NODES], state[DOWN], self.envs.values
        dead = self._dead
        keep = tuple(
            env
            for env in pool
            if (env in before and envs[env][1] != actor)
            or (down[envs[env][1]] == LIVE and not dead(nodes[envs[env][1]], env))
        )
        if len(keep) == len(pool):
            return state
        return (*state[:POOL], keep, *state[POOL + 1 :])

    def _dead(self, snap: int, env: int) -> bool:
        key = (snap, env)
        found = self._obsolete.get(key)
        if found is None:
            src, dst, msg = self.envs.values[env]
            assert self.config.obsolete is not None
            found = self.config.obsolete(self.thawed(dst, snap), self.ids[src], msg)
            self._obsolete[key] = found
        return found

    def _crash_moves(self, state: State) -> list[tuple[Move, State]]:
        if state[BUDGET] <= 0:
            return []
        found = []
        down = state[DOWN]
        for i in sorted(self.crashable):
            if down[i] == LIVE:
                found.append((Move("crash", i), self._crashed(state, i)))
        return found

    def _crashed(self, state: State, i: int) -> State:
        down = (*state[DOWN][:i], CRASHED, *state[DOWN][i + 1 :])
        new = list(state)
        new[DOWN] = down
        new[BUDGET] = state[BUDGET] - 1
        if self.config.timing == SYNCHRONOUS:
            new[POOL] = tuple(
                e
                for e in state[POOL]
                if not (e[1] == TIMER_CLASS and self.timer_ids.values[e[2]][0] == i)
            )
        else:
            new[TIMERS] = self._timers(state[TIMERS], None, (), i)
        return tuple(new)

    def _cuts(self, state: State, i: int, sends: int) -> range:
        """The cut points of node ``i``'s step with ``sends`` sends: crash after k."""
        if (
            not self.config.mid_step_crashes
            or state[BUDGET] <= 0
            or i not in self.crashable
            or sends == 0
        ):
            return range(0)
        return range(sends)

    def _async_moves(self, state: State) -> list[tuple[Move, State]]:
        found: list[tuple[Move, State]] = []
        nodes, down, unstarted = state[NODES], state[DOWN], state[UNSTARTED]
        for i in unstarted:
            step = self._step(i, nodes[i], ("start", state[STORAGE][i]), 0.0, None)
            found.append(
                (
                    Move("start", i),
                    self._apply(state, i, step, consumed=None, fired=None, unstart=i)[0],
                )
            )
        waiting = set(unstarted)
        envs = self.envs.values
        duplicating = self.config.network == DUPLICATING
        memo = self._deliveries
        moves = self._deliver_moves
        aux_memo = self._aux_memo
        pool = state[POOL]
        aux0 = state[AUX]
        cuts = self.config.mid_step_crashes and state[BUDGET] > 0
        add_sends = self._add_sends
        fifo = self.config.fifo_links
        heads: set[tuple[int, int]] = set()
        for env in dict.fromkeys(pool):
            if fifo:  # only the oldest message of each link may arrive
                link = envs[env][:2]
                if link in heads:
                    continue
                heads.add(link)
            dst = envs[env][1]
            if down[dst] != LIVE or dst in waiting:
                continue
            snap = nodes[dst]
            key = (snap, env)
            memoized = memo.get(key)
            if memoized is None:
                memoized = memo[key] = self._step(dst, snap, ("deliver", env), 0.0, None)
            taken = memoized
            if taken.noop and not (fifo and _queued_behind(pool, env, envs)):
                continue  # under FIFO it leaves its link to let the next message through
            move = moves.get(env)
            if move is None:
                move = moves[env] = Move("deliver", dst, env)
            if duplicating or taken.saves or taken.timers or taken.stop != LIVE:
                consumed = None if duplicating else env
                after = self._apply(state, dst, taken, consumed=consumed, fired=None, received=env)[
                    0
                ]
            else:  # the common case, inlined: a node state, the pool and the history change
                aux = aux_memo.get((aux0, env, False))
                if aux is None:
                    aux = self._aux(aux0, env, False)
                items = list(pool)
                items.remove(env)
                for sent in taken.sends:
                    next_aux = aux_memo.get((aux, sent, True))
                    aux = self._aux(aux, sent, True) if next_aux is None else next_aux
                add_sends(items, taken.sends)
                self._sort_pool(items)
                after = (
                    (*nodes[:dst], taken.snap, *nodes[dst + 1 :]),
                    state[STORAGE],
                    down,
                    state[BUDGET],
                    aux,
                    tuple(items),
                    state[TIMERS],
                    state[CLOCK],
                    state[LINKS],
                    unstarted,
                )
            found.append((move, after))
            if cuts and taken.sends and dst in self.crashable:
                consumed = None if duplicating else env
                for k in range(len(taken.sends)):
                    cut_step = self._step(dst, snap, ("deliver", env), 0.0, k)
                    cut_after = self._apply(
                        state, dst, cut_step, consumed=consumed, fired=None, received=env
                    )
                    found.append((Move("deliver", dst, env, k), self._spend(cut_after[0])))
        timer_ids = self.timer_ids.values
        may_fire = self.config.may_fire
        for timer in state[TIMERS]:
            i = timer_ids[timer][0]
            if down[i] != LIVE or i in waiting:
                continue
            if may_fire is not None and not may_fire(self, state, timer):
                continue
            what = ("fire", timer)
            step = self._step(i, nodes[i], what, 0.0, None)
            if _rearms_only(step, nodes[i], timer):
                continue  # re-arms itself and changes nothing (Stateright's no-op)
            found.append(
                (Move("fire", i, timer), self._apply(state, i, step, consumed=None, fired=timer)[0])
            )
            for k in self._cuts(state, i, len(step.sends)):
                cut_step = self._step(i, nodes[i], what, 0.0, k)
                after = self._apply(state, i, cut_step, consumed=None, fired=timer)[0]
                found.append((Move("fire", i, timer, k), self._spend(after)))
        if found:
            found.extend(self._crash_moves(state))
        return found

    @staticmethod
    def _spend(state: State) -> State:
        new = list(state)
        new[BUDGET] = state[BUDGET] - 1
        return tuple(new)

    # --- synchronous ---------------------------------------------------------------------

    def _timed_moves(self, state: State) -> list[tuple[Move, State]]:
        agenda = state[POOL]
        if not agenda:
            return []
        due, klass, item = agenda[0]
        if due > self.config.horizon_s:
            return []
        rest = agenda[1:]
        nodes, down = state[NODES], state[DOWN]
        found: list[tuple[Move, State]] = []
        if klass == START_CLASS:
            i, what = item, ("start", state[STORAGE][item])
        elif klass == DELIVER_CLASS:
            i, what = self.envs.values[item][1], ("deliver", item)
        else:
            i, what = self.timer_ids.values[item][0], ("fire", item)
        if down[i] != LIVE:  # a delivery to a crashed node: dropped there
            new = list(state)
            new[POOL] = rest
            new[CLOCK] = due
            found.append((Move("next", i, (klass, item)), tuple(new)))
            return found + self._crash_moves(state)
        step = self._step(i, nodes[i], what, due, None)
        cuts: list[Any] = [None, *self._cuts(state, i, len(step.sends))]
        for cut in cuts:
            taken = step if cut is None else self._step(i, nodes[i], what, due, cut)
            consumed = item if klass == DELIVER_CLASS else None
            for delays in itertools.product(self.config.delays, repeat=len(taken.sends)):
                after = self._timed_apply(state, rest, due, i, taken, consumed, delays)
                if cut is not None:
                    after = self._spend(after)
                found.append((Move("next", i, (klass, item), cut, delays), after))
        return found + self._crash_moves(state)

    def _timed_apply(
        self,
        state: State,
        agenda: tuple[Any, ...],
        now: float,
        i: int,
        step: Step,
        consumed: int | None,
        delays: tuple[float, ...],
    ) -> State:
        nodes = list(state[NODES])
        nodes[i] = step.snap
        aux = state[AUX]
        if consumed is not None:
            aux = self._aux(aux, consumed, False)
        entries = list(agenda)
        links = dict(state[LINKS])
        envs = self.envs.values
        for env, delay in zip(step.sends, delays, strict=True):
            aux = self._aux(aux, env, True)
            at = fifo_due(links, (i, envs[env][1]), now + delay)
            _insert(entries, (at, DELIVER_CLASS, env))
        for timer, when in step.timers:
            entries = [e for e in entries if not (e[1] == TIMER_CLASS and e[2] == timer)]
            if when is not None:
                _insert(entries, (when, TIMER_CLASS, timer))
        down = state[DOWN]
        if step.stop != LIVE:
            down = (*down[:i], step.stop, *down[i + 1 :])
            entries = [
                e
                for e in entries
                if not (e[1] == TIMER_CLASS and self.timer_ids.values[e[2]][0] == i)
            ]
        storage = state[STORAGE]
        if step.saves:
            stored = dict(self.stores.values[storage[i]])
            apply_saves(stored, step.saves)
            storage = (*storage[:i], self.stores(tuple(stored.items())), *storage[i + 1 :])
        horizon = now + self.dmin
        kept = tuple(sorted((k, v) for k, v in links.items() if v > horizon))
        return (
            tuple(nodes),
            storage,
            down,
            state[BUDGET],
            aux,
            tuple(entries),
            (),
            now,
            kept,
            (),
        )

    # --- lock-step -----------------------------------------------------------------------

    def _round_moves(self, state: State) -> list[tuple[Move, State]]:
        if self.rounds_over(state):
            return []
        r = state[CLOCK] + 1
        if not self.config.mid_step_crashes:
            found = [(Move("round", -1, r), self._round(state, r, ()))]
            return found + self._act_moves(state) + self._crash_moves(state)
        found = [
            (Move("round", -1, r, pattern or None), self._round(state, r, pattern))
            for pattern in self.round_patterns(state)
        ]
        return found + self._act_moves(state)

    def rounds_over(self, state: State) -> bool:
        """Whether a lock-step run has ended in ``state``: nothing in flight, no timer
        pending and every live node done — or the horizon's round is over."""
        if (state[CLOCK] + 1) * self.config.round_s > self.config.horizon_s:
            return True
        if state[POOL] or state[TIMERS]:
            return False
        nodes, down = state[NODES], state[DOWN]
        return all(
            getattr(self.thawed(i, nodes[i]), "done", False)
            for i in range(len(nodes))
            if down[i] == LIVE
        )

    def round_patterns(self, state: State) -> list[RoundPattern]:
        """Every way the next lock-step round can go (``mid_step_crashes``): no crash,
        or k ≤ budget live crashable nodes crashing in it, each with its round's messages
        reaching any subset of the nodes that stay up. Messages to nodes already down, or
        crashing in the same round, reach nobody, so they are not a choice: each
        behaviour is one pattern (seed 002's crash patterns; :mod:`smrkit.explore.
        rounds` counts them)."""
        down = state[DOWN]
        live = [i for i in range(len(down)) if down[i] == LIVE]
        candidates = [i for i in live if i in self.crashable]
        found: list[RoundPattern] = [()]
        for k in range(1, min(state[BUDGET], len(candidates)) + 1):
            for crashing in itertools.combinations(candidates, k):
                staying = [i for i in live if i not in crashing]
                subsets = _subsets(staying)
                for reached in itertools.product(subsets, repeat=k):
                    found.append(tuple(zip(crashing, reached, strict=True)))
        return found

    def _act_moves(self, state: State) -> list[tuple[Move, State]]:
        """Each free move of each live Byzantine node, taken between two rounds."""
        found: list[tuple[Move, State]] = []
        now = state[CLOCK] * self.config.round_s
        for i in self.byzantine:
            if state[DOWN][i] != LIVE:
                continue
            snap = state[NODES][i]
            node = self.thawed(i, snap)
            assert isinstance(node, ByzantineNode)
            for move in node.moves():
                step = self._step(i, snap, ("act", move), now, None)
                if step.noop:
                    continue
                new = self._apply(state, i, step, consumed=None, fired=None)[0]
                found.append((Move("act", i, move), new))
        return found

    def after_round(self, state: State, r: int, pattern: RoundPattern) -> State:
        """``state`` after lock-step round ``r`` in which the processes of ``pattern``
        crash, each reaching only the receivers listed with it (indices in the world's
        order): what a search that makes its own round moves calls
        (:mod:`smrkit.explore.rounds`)."""
        return self._round(state, r, pattern)

    def _round(self, state: State, r: int, pattern: RoundPattern) -> State:
        now = r * self.config.round_s
        cuts = {i: tuple(self.ids[j] for j in receivers) for i, receivers in pattern}
        inboxes: dict[int, list[int]] = {}
        envs = self.envs.values
        for env in state[POOL]:
            inboxes.setdefault(envs[env][1], []).append(env)
        current = list(state)
        current[POOL] = ()
        current[BUDGET] = state[BUDGET] - len(pattern)
        current[CLOCK] = r
        new: State = tuple(current)
        for i in range(len(state[NODES])):
            if new[DOWN][i] != LIVE:
                continue
            inbox = tuple(inboxes.get(i, ()))
            aux = new[AUX]
            for env in inbox:
                aux = self._aux(aux, env, False)
            if aux != new[AUX]:
                new = (*new[:AUX], aux, *new[AUX + 1 :])
            step = self._step(i, new[NODES][i], ("round", r, inbox), now, cuts.get(i))
            new = self._apply(new, i, step, consumed=None, fired=None)[0]
            mine = [t for t in new[TIMERS] if self.timer_ids.values[t[0]][0] == i]
            # due by now in the one rule's order: by instant, then as set (a stable sort)
            for timer, at in sorted(mine, key=lambda t: instant(t[1])):
                if instant(at) <= instant(now) and new[DOWN][i] == LIVE:
                    step = self._step(i, new[NODES][i], ("fire", timer), now, None)
                    new = self._apply(new, i, step, consumed=None, fired=timer)[0]
        return new


def _without(state: State, lost: frozenset[int]) -> State:
    if not lost:
        return state
    return (*state[:POOL], tuple(e for e in state[POOL] if e not in lost), *state[POOL + 1 :])


def _first(item: tuple[Any, Any]) -> Any:
    return item[0]


def _rearms_only(step: Step, snap: int, timer: int) -> bool:
    return (
        step.snap == snap
        and not step.sends
        and not step.saves
        and step.stop == LIVE
        and len(step.timers) == 1
        and step.timers[0][0] == timer
        and step.timers[0][1] is not None
    )


def _queued_behind(pool: tuple[int, ...], env: int, envs: list[Any]) -> bool:
    """Whether another message waits behind ``env`` on its link (FIFO pools: by link)."""
    link = envs[env][:2]
    return sum(1 for e in pool if envs[e][:2] == link) > 1


def _insert(entries: list[Any], entry: tuple[float, int, int]) -> None:
    """Insert after every entry due at or before it: the kernel's order, the one rule of
    :mod:`smrkit.sim.order` (by instant to the nanosecond and class, then scheduling
    order)."""
    key = (instant(entry[0]), entry[1])
    position = bisect.bisect_right(entries, key, key=lambda e: (instant(e[0]), e[1]))
    entries.insert(position, entry)


def _subsets(items: Sequence[int]) -> list[tuple[int, ...]]:
    return [
        combo for size in range(len(items) + 1) for combo in itertools.combinations(items, size)
    ]
