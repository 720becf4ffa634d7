"""Generated histories: each verdict known by construction, and the checker agrees.

The classes where a single search order loses are here at sizes that run in well under
a second each: ops of unknown outcome that did take effect (``must-first`` alone is
slow), a split brain with ops of unknown outcome (``call-order`` alone is slow), a
violation on one key beside hard keys (partitions searched one after another starve
it), and high concurrency from the simulator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import pytest

from smrkit.check.history import History, Status
from smrkit.check.lin_race import JOIN_STEPS_PER_OP
from smrkit.check.lin_search import SLICE_STEPS, STRATEGIES
from smrkit.check.linearizability import check_linearizability
from smrkit.check.synthetic import (
    KV_MIX,
    _check_applies_linearize,
    merged,
    register_run,
    simulated_run,
    split_brain_run,
    stale_read,
    with_info,
)
from smrkit.sim.world import SimConfig, run_simulation


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_register_runs_are_linearizable(seed: int) -> None:
    history = register_run(seed, clients=4, ops=300, keys=2)
    assert history.counts() == {"invoked": 300, "ok": 300, "fail": 0, "info": 0}
    assert check_linearizability(history).verdict == "linearizable"


def test_with_info_turns_the_fraction_and_renames_processes() -> None:
    history = register_run(1, clients=3, ops=200, unique=True)
    turned = with_info(history, 0.1, seed=1)
    assert turned.counts()["info"] == 20
    for op in turned.ops:
        if op.status is Status.INFO:
            assert op.ret == math.inf and op.output is None
    # A client whose op became info carries on as a new process, Jepsen style.
    infos = [op for op in turned.ops if op.status is Status.INFO]
    first = min(infos, key=lambda op: op.call)
    later = [op for op in turned.ops if op.process.startswith(first.process.split("#")[0])]
    assert any("#" in op.process for op in later if op.call > first.call)
    with pytest.raises(ValueError):
        with_info(history, 1.5, seed=1)


def test_split_brain_runs_carry_their_proof() -> None:
    history = split_brain_run(4, clients=6, ops=300)
    proof = stale_read(history)
    assert proof is not None
    w, u, r = proof
    assert w.ret < u.call and u.ret < r.call and r.output == w.arg
    # The ops of the proof stay ok under with_info, so the verdict stays.
    turned = with_info(history, 0.5, seed=4)
    assert {op.id for op in proof} <= {op.id for op in turned.ops if op.status is Status.OK}
    assert stale_read(turned) is not None
    assert stale_read(register_run(1, clients=4, ops=200, unique=True)) is None


def test_simulated_runs_are_checked_against_the_primary_order() -> None:
    run = run_simulation(SimConfig(clients=4, ops=60, keys=1, seed=3))
    from smrkit.check.trace_history import history_from_trace

    history = history_from_trace(run.trace)
    _check_applies_linearize(history, run.trace)  # the construction holds
    gets = [i for i, op in enumerate(history.ops) if op.f == "get" and op.status is Status.OK]
    ops = list(history.ops)
    ops[gets[-1]] = replace(ops[gets[-1]], output="never written")
    with pytest.raises(AssertionError, match="do not linearize"):
        _check_applies_linearize(history.with_ops(ops), run.trace)


def test_merged_keeps_parts_apart() -> None:
    a = register_run(1, clients=2, ops=20)
    b = register_run(2, clients=2, ops=20)
    both = merged([a, b])
    assert len(both.ops) == 40
    assert {op.key for op in both.ops} == {"p0-k0", "p1-k0"}
    assert len({op.id for op in both.ops}) == 40
    with pytest.raises(ValueError):
        merged([a, History(ops=[], model="counter", initial=0)])


# ---------------------------------------------------------------------------------------
# The hard classes, small


def steps(history: History, *strategies: str) -> tuple[str, int]:
    """The verdict, and the search steps it took (a count, not a time: deterministic)."""
    result = check_linearizability(history, timeout_s=60, strategies=strategies)
    return result.verdict, sum(part.steps for part in result.details)


def race_bound(history: History, winner_steps: int) -> int:
    """What the race may cost at most: the first order's head start, then two walkers
    taking turns until the winner is done (plus a slice of rounding per partition)."""
    parts = len({op.key for op in history.ops})
    return JOIN_STEPS_PER_OP * len(history.ops) + 2 * winner_steps + 2 * SLICE_STEPS * parts


HARD_CLASSES: dict[str, tuple[Callable[[], History], str, tuple[str, str, int]]] = {
    # 10 % of the ops have an unknown outcome and did take effect: placing them early,
    # in call order, finds the linearization; trying them last takes far longer.
    "info-that-took-effect": (
        lambda: with_info(simulated_run(1, clients=12, ops=1500, keys=3), 0.10, 1),
        "linearizable",
        ("call-order", "must-first", 5),
    ),
    # Two primaries and 10 % of unknown outcome: dead ends that use few optional ops rule
    # out more, so trying the ops that must take effect first refutes it sooner.
    "split-brain-with-info": (
        lambda: with_info(split_brain_run(5, clients=8, ops=500), 0.10, 5),
        "violation",
        ("must-first", "call-order", 4),
    ),
}


@pytest.mark.parametrize("name", sorted(HARD_CLASSES))
def test_each_order_loses_somewhere_and_the_race_does_not(name: str) -> None:
    make, verdict, (winner, loser, factor) = HARD_CLASSES[name]
    history = make()
    assert steps(history, winner)[0] == verdict
    assert steps(history, loser)[0] == verdict
    won = steps(history, winner)[1]
    assert steps(history, loser)[1] > factor * won
    raced_verdict, raced = steps(history, *STRATEGIES)
    assert raced_verdict == verdict
    assert raced <= race_bound(history, won)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_split_brain_with_info(seed: int) -> None:
    history = with_info(split_brain_run(seed, clients=6, ops=400), 0.10, seed)
    result = check_linearizability(history, timeout_s=60)
    assert result.verdict == "violation"
    assert result.witness is not None and result.witness.stuck


def test_a_violation_is_found_beside_a_key_no_search_finishes() -> None:
    """Twenty concurrent appends and a put, then a read no order explains: refuting that takes
    longer than this test may run. A larger key beside it has a stale read. Searched
    one after another, smallest first, the check would never reach the bad key."""
    hard = History(
        ops=[
            replace(op, id=i, key="hard")
            for i, op in enumerate(register_run(1, clients=20, ops=20, values=3).ops)
        ],
        initial=None,
    )
    appends = [
        replace(op, f="append", arg=chr(97 + i), output=None, call=0.0, ret=100.0)
        for i, op in enumerate(hard.ops)
    ]
    # A put among them: the states do not only grow, so no read prunes the orders.
    put = replace(appends[0], id=21, f="put", arg="", output=None, call=0.0, ret=100.0)
    last = replace(appends[0], id=20, f="get", arg=None, output="never", call=200.0, ret=201.0)
    bad = split_brain_run(5, clients=6, ops=300, mix=KV_MIX)
    history = merged([History(ops=[*appends, put, last], initial=None), bad])
    result = check_linearizability(history, timeout_s=60)
    assert result.verdict == "violation"
    assert result.witness is not None and result.witness.partition == "p1-k0"
    by_key = {part.key: part for part in result.details}
    assert by_key["p0-hard"].verdict == "unknown"


def test_high_concurrency_from_the_simulator() -> None:
    history = simulated_run(1, clients=20, ops=400, keys=2)
    result = check_linearizability(history, timeout_s=60)
    assert result.verdict == "linearizable"
    assert all(part.verdict == "linearizable" for part in result.details)


@pytest.mark.parametrize("strategy", ["call-order", "must-first"])
def test_each_order_alone_agrees(strategy: str) -> None:
    good = with_info(simulated_run(2, clients=8, ops=300, keys=2), 0.05, 2)
    bad = with_info(split_brain_run(2, clients=4, ops=150), 0.05, 2)
    assert check_linearizability(good, strategies=(strategy,)).verdict == "linearizable"
    assert check_linearizability(bad, strategies=(strategy,)).verdict == "violation"
