"""pb-link: crash+link failures with n = f + 2 servers."""

from __future__ import annotations

import pytest

from smrkit.check.evaluate import evaluate_run
from smrkit.explore.sweep import random_plans, sweep
from smrkit.protocols.primary_backup.link import LinkReplica
from smrkit.sim import trace as tr
from smrkit.sim.world import SimConfig, run_simulation


def test_two_hundred_random_plans_with_f_2_keep_every_check() -> None:
    base = SimConfig(protocol="pb-link", replicas=4, clients=3, ops=200)
    outcomes = sweep(base, range(200), random_plans(base, 1.0))
    assert [(o.seed, o.faults, o.failed) for o in outcomes if not o.ok] == []
    assert max(o.measured["failover_s_max"] for o in outcomes) <= 0.05 + 4 * 0.01 + 1e-9


def test_a_cut_link_to_the_primary_changes_nothing() -> None:
    """Messages go around the cut through the third server: no failover, no outage."""
    run = run_simulation(
        SimConfig(protocol="pb-link", replicas=3, clients=3, ops=300, faults=("link:p1-p2@0.2",))
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    primaries = [e for e in run.trace.events if e[1] == tr.PRIMARY and e[3] is None]
    assert [(e[2], e[5]) for e in primaries] == [("p1", True)]
    assert evaluation.analysis.outages == []


@pytest.mark.parametrize("crash_at", [0.3, 0.3000001, 0.32])
def test_a_cut_link_and_a_crash_of_the_primary(crash_at: float) -> None:
    """f = 2: the link p2–p3 is cut and the primary crashes; p2 still takes over and p3
    still follows it, through p4."""
    run = run_simulation(
        SimConfig(
            protocol="pb-link",
            replicas=4,
            clients=3,
            ops=300,
            faults=("link:p2-p3@0.1", f"crash:p1@{crash_at}"),
        )
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    assert run.nodes["p2"].is_primary  # type: ignore[attr-defined]
    p3 = run.nodes["p3"]
    assert isinstance(p3, LinkReplica) and p3.primary == "p2"


def test_with_one_server_fewer_a_cut_link_makes_two_primaries() -> None:
    """n = f + 1 = 2 (below Theorem 2's bound): each side concludes the other crashed."""
    run = run_simulation(
        SimConfig(protocol="pb-link", replicas=2, clients=2, ops=200, faults=("link:p1-p2@0.3",))
    )
    assert "pb1" in evaluate_run(run).failed
