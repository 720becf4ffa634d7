"""Lemma 2 and Theorem 1, run: the adversary that keeps a configuration ambiguous while
delivering every message, oldest first — the run in which no correct node decides.

Seed 004's construction. From an ambiguous C_i, take the oldest message (r, m) of the
pool (a pending timer is a message too: the dummy (r, ⊥) of a node waiting for a
time-out). Search breadth first from C_i, never delivering (r, m), for the first
configuration X from which delivering (r, m) leads to an ambiguous configuration; the
schedule to X, then (r, m), reaches C_(i+1). Lemma 2 proves X exists for a protocol that
is safe and tolerates the adversary; the oracle (:mod:`~smrkit.explore.flp.valency`)
proves each C_(i+1) ambiguous by its two witnesses. Repeating builds a run of any length
in which the oldest message is delivered at every C_(i+1), so every message is
delivered once the finitely many older ones are: the run reports each message's age
when delivered (the moves between entering the pool and leaving it), the maximum and
the mean, and the oldest still waiting when it stops.

Where the protocol lets the adversary *block* it instead (after delivering (r, m) a
schedule reaches a configuration with nothing left to deliver and a live node
undecided), and no ambiguous X is found within the bound, the run ends there: finite,
every message delivered, no decision. A configuration includes what each node received
(as in the seed), so no configuration repeats along a run and there is no cycle to
report: the run is built to the requested length.

:func:`build_nondeciding_run` runs Lemma 1 and then this adversary on any registered
protocol.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smrkit.explore.flp.configuration import (
    CRASH,
    Json,
    Setup,
    event_json,
    kernel_event,
    pool,
    seq,
)
from smrkit.explore.flp.lemma1 import Lemma1, lemma1

if TYPE_CHECKING:
    from smrkit.explore.flp.coins import CoinRun
from smrkit.explore.flp.valency import Oracle
from smrkit.explore.space import Move, State
from smrkit.protocols.consensus.binary import BinaryProtocol
from smrkit.sim.kernel import Crash, Deliver, Event, step

STEPS = "steps"
BLOCKED = "blocked"
BOUND = "bound"
VIOLATION = "violation"


@dataclass
class Run:
    """A run from an initial configuration: its moves, each configuration's valency
    (after each move), each delivered message's age, and how it ended."""

    setup: Setup
    moves: list[Json] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    ages: list[int] = field(default_factory=list)
    """Per move: the age of what it delivered (a message, a timer, a start: the steps it
    waited in the pool), −1 for a crash."""
    lemma2_steps: list[int] = field(default_factory=list)
    """The indices of the moves that delivered Lemma 2's (r, m): reaching the C_i."""
    decided_at: list[tuple[int, str, int]] = field(default_factory=list)
    """``(move index, node, value)`` of each decision along the run."""
    end: str = STEPS
    decided: list[str] = field(default_factory=list)
    undelivered: int = 0
    max_undelivered_age: int = 0

    @property
    def deliveries(self) -> int:
        return sum(1 for e in self.events if isinstance(e, Deliver))

    @property
    def delivered_ages(self) -> list[int]:
        return [a for a in self.ages if a >= 0]

    @property
    def max_age(self) -> int:
        return max(self.delivered_ages, default=0)

    @property
    def mean_age(self) -> float:
        ages = self.delivered_ages
        return sum(ages) / len(ages) if ages else 0.0


class _Builder:
    """Applies moves to the run's search state and kernel world alike, recording ages
    and valencies."""

    def __init__(self, oracle: Oracle, seed: int = 0) -> None:
        self.oracle = oracle
        self.setup = oracle.setup
        self.state = self.setup.initial()
        self.world = self.setup.world(seed)
        self.run = Run(self.setup)
        self.entered: dict[int, int] = {}
        self._note_pool()

    def _note_pool(self) -> None:
        for event in pool(self.world):
            self.entered.setdefault(seq(self.world, event), len(self.run.moves))

    def apply(self, move: Move) -> None:
        as_json = self.setup.to_json(move)
        event = kernel_event(self.world, as_json)
        now = len(self.run.moves)
        age = (
            -1 if isinstance(event, Crash) else now - self.entered.get(seq(self.world, event), now)
        )
        before = self.setup.decisions(self.state)
        self.state = dict(self.setup.moves(self.state))[move]
        step(self.world, event)
        run = self.run
        for i, value in self.setup.decisions(self.state).items():
            if i not in before:
                run.decided_at.append((now, self.setup.ids[i], value))
        run.moves.append(as_json)
        run.events.append(event)
        run.ages.append(age)
        run.labels.append(self.oracle.classify(self.state).label)
        self._note_pool()

    def oldest(self) -> Json | None:
        waiting = pool(self.world)
        return event_json(waiting[0]) if waiting else None

    def finish(self, end: str) -> Run:
        run = self.run
        run.end = end
        run.decided = self.setup.live_decided(self.state)
        left = pool(self.world)
        run.undelivered = len(left)
        now = len(run.moves)
        run.max_undelivered_age = max(
            (now - self.entered[seq(self.world, e)] for e in left), default=0
        )
        return run


def run_builder(oracle: Oracle, seed: int = 0) -> _Builder:
    """A run from ``oracle``'s initial configuration, its kernel world seeded ``seed``
    (the generators coins are drawn from: :mod:`~smrkit.explore.flp.coins`)."""
    return _Builder(oracle, seed)


@dataclass
class Lemma2Step:
    """What one application of Lemma 2 found from C_i for (r, m)."""

    schedule: list[Move]
    """Up to and including (r, m)."""
    kind: str
    """``ambiguous`` (C_(i+1) reached), ``blocked`` (then ``tail`` blocks), ``violation``."""
    tail: list[Move] = field(default_factory=list)
    problem: str | None = None


def lemma2_step(oracle: Oracle, start: State, oldest: Json, bound: int) -> Lemma2Step | None:
    """Breadth first from ``start``, never delivering ``oldest``: the first configuration
    from which delivering it stays ambiguous (see the module docstring); ``None`` past
    ``bound`` configurations."""
    setup = oracle.setup
    seen = {start}
    queue: deque[tuple[State, list[Move]]] = deque([(start, [])])
    fallback: Lemma2Step | None = None
    visited = 0
    while queue and visited < bound:
        here, path = queue.popleft()
        visited += 1
        children = setup.moves(here)
        targets: list[tuple[Move | None, State]] = [
            (m, after) for m, after in children if setup.to_json(m) == oldest
        ]
        if not targets and path and path[-1].kind == "crash":
            # (r, m)'s receiver has just crashed: it is never delivered, and need not be.
            targets = [(None, here)]
        for move, after in targets:
            valency = oracle.classify(after)
            schedule = path if move is None else [*path, move]
            if valency.violation is not None:
                problem, tail = valency.violation
                return Lemma2Step(schedule, "violation", tail, problem)
            if valency.ambiguous:
                return Lemma2Step(schedule, "ambiguous")
            if fallback is None and valency.blocked is not None and not setup.live_decided(after):
                fallback = Lemma2Step(schedule, BLOCKED, valency.blocked)
        for move, child in children:
            if setup.to_json(move) != oldest and child not in seen:
                seen.add(child)
                queue.append((child, [*path, move]))
    return fallback


@dataclass
class FlpResult:
    """Lemma 1's walk, the run built (or the violation's run), and what it cost."""

    protocol: str
    replicas: int
    adversary: str
    lemma1: Lemma1
    run: Run | None
    violation: str | None
    violation_run: Run | None
    explored: int
    seconds: float
    coins: CoinRun | None = None
    """A randomized protocol's run against drawn coins (:mod:`~smrkit.explore.flp.coins`)."""


def extend(
    oracle: Oracle,
    steps: int,
    bound: int = 2_000,
    progress: Callable[[int], None] | None = None,
) -> tuple[Run, str | None]:
    """Theorem 1's run of ``steps`` moves from the oracle's (ambiguous) initial
    configuration, and the safety violation met instead, if any (the run leads to it)."""
    builder = _Builder(oracle)
    while len(builder.run.moves) < steps:
        if progress is not None:
            progress(len(builder.run.moves))
        oldest = builder.oldest()
        if oldest is None:
            blocked = oracle.setup.blocked(builder.state)
            return builder.finish(BLOCKED if blocked else STEPS), None
        found = lemma2_step(oracle, builder.state, oldest, bound)
        if found is None:
            return builder.finish(BOUND), None
        for move in found.schedule:
            builder.apply(move)
        builder.run.lemma2_steps.append(len(builder.run.moves) - 1)
        if found.kind != "ambiguous":
            for move in found.tail:
                builder.apply(move)
            return builder.finish(BLOCKED if found.problem is None else VIOLATION), found.problem
    return builder.finish(STEPS), None


def pivot_run(oracle: Oracle, pivot: int, steps: int) -> Run:
    """Lemma 1's pivot (node ``pivot``, from 1) crashed at the start, then every message
    delivered oldest first: the run of a protocol that no X_i shows ambiguous."""
    builder = _Builder(oracle)
    setup = oracle.setup
    crash = next(
        m for m, _ in setup.moves(builder.state) if m.kind == "crash" and m.node == pivot - 1
    )
    builder.apply(crash)
    while len(builder.run.moves) < steps:
        oldest = builder.oldest()
        if oldest is None:
            return builder.finish(BLOCKED if setup.blocked(builder.state) else STEPS)
        move = next(m for m, _ in setup.moves(builder.state) if setup.to_json(m) == oldest)
        builder.apply(move)
    return builder.finish(STEPS)


def replay_schedule(oracle: Oracle, schedule: list[Move]) -> Run:
    """The run of ``schedule`` from the oracle's initial configuration (a witness)."""
    builder = _Builder(oracle)
    for move in schedule:
        builder.apply(move)
    return builder.finish(STEPS)


def build_nondeciding_run(
    protocol: BinaryProtocol,
    replicas: int,
    adversary: str = CRASH,
    steps: int = 60,
    *,
    bound: int = 20_000,
    lemma2_bound: int = 2_000,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> FlpResult:
    """FLP on ``protocol`` with ``replicas`` nodes: Lemma 1 over X_0 … X_n, then Lemma 2's
    adversary for ``steps`` moves from the first ambiguous X_i (or, if none is, the run
    with Lemma 1's pivot crashed). A safety violation met anywhere is returned instead,
    with its run. ``bound`` limits each valency search (configurations), ``lemma2_bound``
    each Lemma 2 search. A randomized protocol's coins are drawn from generators seeded
    ``seed``, and the adversary re-plans after each (:mod:`~smrkit.explore.flp.coins`):
    its run may end with a decision, the protocol escaping FLP."""
    began = time.perf_counter()
    walk = lemma1(protocol, replicas, adversary, bound, progress)
    run: Run | None = None
    violation: str | None = None
    violation_run: Run | None = None
    coins: CoinRun | None = None
    if walk.violation is not None:
        oracle = walk.oracles[walk.violation]
        found = walk.valencies[walk.violation].violation
        assert found is not None
        violation, schedule = found
        violation_run = replay_schedule(oracle, schedule)
        violation_run.end = VIOLATION
    elif walk.ambiguous is not None and protocol.randomized:
        from smrkit.explore.flp.coins import adversary_against_coins  # it builds on this module

        setup = walk.setups[walk.ambiguous]
        report = None if progress is None else (lambda k: progress(f"run: {k} of {steps} moves"))
        coins = adversary_against_coins(setup, seed, steps, bound, lemma2_bound, report)
        run = coins.run
    elif walk.ambiguous is not None:
        oracle = walk.oracles[walk.ambiguous]
        report = None if progress is None else (lambda k: progress(f"run: {k} of {steps} moves"))
        run, violation = extend(oracle, steps, lemma2_bound, report)
        if violation is not None:
            violation_run, run = run, None
    elif walk.pivot is not None and adversary == CRASH:
        run = pivot_run(walk.oracles[walk.pivot], walk.pivot, steps)
    else:  # no ambiguous X_i, no crash to hide the pivot's input: a schedule that blocks
        blocking = [(o, v.blocked) for o, v in zip(walk.oracles, walk.valencies, strict=True)]
        blocks = next(((o, b) for o, b in blocking if b is not None), None)
        if blocks is not None:
            run = replay_schedule(*blocks)
            run.end = BLOCKED
    return FlpResult(
        protocol.name,
        replicas,
        adversary,
        walk,
        run,
        violation,
        violation_run,
        walk.explored + (coins.explored if coins is not None else 0),
        time.perf_counter() - began,
        coins,
    )
