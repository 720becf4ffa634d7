"""Lemma 2's adversary against coins it cannot read: the run of a randomized protocol
in which the coins are drawn, not chosen.

The adversary of an asynchronous system sees everything that has happened — the pool,
every node's state, every coin already flipped — but not a coin before it is flipped.
Its searches treat a coin not yet flipped as a branch with both values (a configuration
is ambiguous when some coin outcomes and schedules lead to 0 and some to 1:
:meth:`~smrkit.explore.flp.configuration.Setup.moves`), so it can plan as seed 004's
adversary does: from C_i, the schedule to the first configuration X from which
delivering the oldest message (r, m) stays ambiguous (:func:`~smrkit.explore.flp.
lemma2.lemma2_step`). In the run, the plan is followed move by move; when a node asks
for a coin, the coin is drawn from that node's seeded generator (``out.rng`` of the
run's kernel world, as ``ben-or`` draws it under ``smrkit sim``). If the plan flipped
that coin the other way, the plan is void and the adversary re-plans from the
configuration that results. When no plan keeps the configuration ambiguous (the coins
made it univalent, or the search hit its bound), the adversary still owes eventual
delivery: it delivers the oldest message and tries again from there.

Failure and timing model: seed 004's asynchronous pool, the ``crash`` adversary (at most
one crash, which a plan may use). Bounds: ``steps`` moves of the run (coin flips
included), each plan a breadth-first search of at most ``lemma2_bound`` configurations
(each valency query at most the oracle's bound). The run is a pure function of the
protocol, the inputs and the seed: a run that decides, or one kept undecided for all
``steps`` moves, replays from its trace (``smrkit replay``) or from its seed.

On a deterministic protocol (no coin is ever asked) this is exactly
:func:`~smrkit.explore.flp.lemma2.extend`: the adversary never re-plans and, where FLP
applies, keeps the run undecided — the test in which "the adversary failed" goes red.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smrkit.explore.flp.configuration import Setup
from smrkit.explore.flp.lemma2 import BLOCKED, STEPS, Run, lemma2_step, run_builder
from smrkit.explore.flp.valency import Oracle
from smrkit.explore.space import NODES, Move, State

DECIDED = "decided"
"""A run's end: a correct node decided despite the adversary."""


@dataclass
class CoinRun:
    """A run against drawn coins: the run itself, and what the adversary went through."""

    seed: int
    run: Run
    coins: int
    """Coins flipped along the run."""
    plans: int
    """Lemma 2 plans made (each a search from the configuration then)."""
    foiled: int
    """Plans voided by a coin that came up the other way."""
    unplanned: int
    """Moves made with no plan keeping the configuration ambiguous (oldest first)."""
    first_decision: int | None
    """The move (from 1) after which a correct node had first decided, or ``None``."""
    rounds: int
    """The highest round a node had reached when the run ended (``round`` of its state,
    where the protocol keeps one; 0 otherwise)."""
    explored: int
    """Configurations the run's valency and Lemma 2 searches visited."""

    @property
    def escaped(self) -> bool:
        return self.first_decision is not None


def adversary_against_coins(
    initial: Setup,
    seed: int,
    steps: int,
    bound: int = 20_000,
    lemma2_bound: int = 2_000,
    progress: Callable[[int], None] | None = None,
) -> CoinRun:
    """Lemma 2's adversary for at most ``steps`` moves from ``initial``'s configuration,
    coins drawn from the generators of a kernel world seeded ``seed`` (see the module
    docstring; a coin drawn after the last move is one move more). The run stops at the
    first decision of a correct node. Its oracle (valency searches of at most ``bound``
    configurations) is its own, fresh: what the oracle answers depends on what it was
    asked before, so a shared one would make a seed's run depend on the seeds run
    before it."""
    setup = Setup(initial.protocol, initial.inputs, initial.adversary, initial.byzantine)
    oracle = Oracle(setup, bound=bound)
    builder = run_builder(oracle, seed)
    coins = plans = foiled = unplanned = 0

    def flip_pending() -> Move | None:
        """Draw the coin a node waits for, if any, and make that move."""
        nonlocal coins
        for move, _ in setup.moves(builder.state):
            value = setup.coin(move)
            if value is None:
                continue
            node = setup.ids[move.node]
            drawn = builder.world.outs[node].rng.getrandbits(1)
            flipped = next(
                m
                for m, _ in setup.moves(builder.state)
                if m.node == move.node and setup.coin(m) == drawn
            )
            builder.apply(flipped)
            coins += 1
            return flipped
        return None

    def decided() -> bool:
        return bool(setup.live_decided(builder.state))

    while len(builder.run.moves) < steps and not decided():
        if progress is not None:
            progress(len(builder.run.moves))
        oldest = builder.oldest()
        if oldest is None:
            break
        # A configuration no longer ambiguous has no ambiguous successor to plan for.
        ambiguous = oracle.classify(builder.state).ambiguous
        found = lemma2_step(oracle, builder.state, oldest, lemma2_bound) if ambiguous else None
        planned = found is not None and found.kind == "ambiguous"
        if found is not None and planned:
            plans += 1
            plan = found.schedule
        else:
            unplanned += 1
            plan = [next(m for m, _ in setup.moves(builder.state) if setup.to_json(m) == oldest)]
        for index, move in enumerate(plan):
            if len(builder.run.moves) >= steps or decided():
                break
            if setup.coin(move) is not None:
                continue  # the plan's guess at a coin: the coin was drawn below
            builder.apply(move)
            if planned and index == len(plan) - 1:
                builder.run.lemma2_steps.append(len(builder.run.moves) - 1)
            flipped = flip_pending()
            if flipped is not None and (index + 1 >= len(plan) or plan[index + 1] != flipped):
                foiled += index + 1 < len(plan)
                break
    end = DECIDED if decided() else BLOCKED if setup.blocked(builder.state) else STEPS
    run = builder.finish(end)
    first = run.decided_at[0][0] + 1 if run.decided_at else None
    rounds = _rounds(setup, builder.state)
    return CoinRun(seed, run, coins, plans, foiled, unplanned, first, rounds, oracle.explored)


def _rounds(setup: Setup, state: State) -> int:
    found = [
        getattr(setup.space.thawed(i, snap), "round", 0) for i, snap in enumerate(state[NODES])
    ]
    return max((r for r in found if isinstance(r, int)), default=0)
