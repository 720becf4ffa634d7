"""pb-simple measures what seed 001 §2.1 derives: failover ≤ τ + 2δ, a (1, τ + 4δ)-bofo
service, 0 blocking — and the worst case comes close to those figures."""

from __future__ import annotations

import random

from smrkit.check.evaluate import evaluate_run
from smrkit.explore.sweep import sweep
from smrkit.sim.world import SimConfig, run_simulation

DELTA, TAU = 0.01, 0.05


def test_random_crash_times_stay_within_the_derived_figures() -> None:
    base = SimConfig(protocol="pb-simple", ops=400, clients=6, delta_s=DELTA, tau_s=TAU)

    def plan(seed: int) -> tuple[str, ...]:
        at = round(random.Random(f"simple/{seed}").uniform(0.05, 1.0), 6)
        return (f"crash:p1@{at}",)

    outcomes = sweep(base, range(60), plan, workers=2)
    failing = [(o.seed, o.faults, o.failed) for o in outcomes if not o.ok]
    assert not failing
    for outcome in outcomes:
        assert outcome.measured["failover_s_max"] <= TAU + 2 * DELTA + 1e-9
        assert outcome.measured["outage_count"] <= 1
        assert outcome.measured["outage_s_max"] <= TAU + 4 * DELTA + 1e-9
        assert outcome.measured["blocking_s_max"] == 0.0
    assert max(o.measured["failover_s_max"] for o in outcomes) > TAU + DELTA


def test_the_worst_case_reaches_the_bounds() -> None:
    """Every message takes exactly δ and p1 crashes just after a heartbeat: p2 hears
    the heartbeat at t_c + δ and waits τ + δ — failover τ + 2δ; requests sent from
    t_c − δ on are lost until the clients hear from p2 at t_c + τ + 3δ. Sixteen clients
    with random pauses keep requests dense enough to see the whole outage."""
    crash_at = 0.5 + 1e-6  # heartbeats leave at multiples of τ
    config = SimConfig(
        protocol="pb-simple",
        ops=1500,
        clients=16,
        think_s=0.005,
        delta_s=DELTA,
        delta_min_s=DELTA,
        tau_s=TAU,
        faults=(f"crash:p1@{crash_at}",),
        seed=1,
    )
    run = run_simulation(config)
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    failover = evaluation.analysis.failover_s_max
    assert TAU + 2 * DELTA - 1e-5 <= failover <= TAU + 2 * DELTA + 1e-9
    (outage,) = evaluation.analysis.outages
    assert outage.start < crash_at
    assert TAU + 4 * DELTA - 0.005 <= outage.length <= TAU + 4 * DELTA + 1e-9


def test_without_failures_p1_serves_everything_and_never_blocks() -> None:
    run = run_simulation(SimConfig(protocol="pb-simple", ops=1000, seed=4))
    evaluation = evaluate_run(run)
    assert evaluation.ok
    assert [s for s, _, _ in evaluation.analysis.intervals] == ["p1"]
    assert evaluation.analysis.blocking_s_max == 0.0
    assert len(evaluation.analysis.blocking) == 1000
    assert evaluation.measured()["outage_count"] == 0
