"""Raft's sweep plans (``bench/raft_sweep.py``): every one within the model, and the
seeds that matter pinned — partitions of two servers, two servers crashing and
restarting twice each, a minority cut off while a crashed server comes back."""

from __future__ import annotations

import pytest

from smrkit.check.evaluate import evaluate_run
from smrkit.core.failure_models import FailureModel
from smrkit.explore.recovery_plans import recovery_config
from smrkit.sim.faults import FaultPlan, admissibility_problems
from smrkit.sim.world import SimConfig, run_simulation

BASE = SimConfig(
    protocol="raft",
    replicas=5,
    clients=4,
    ops=300,
    timing="partial-sync",
    gst_s=0.0,
    time_limit_s=120.0,
)
HORIZON_S = 1.86
"""The failure-free run's length, as the bench measures it for ``BASE``."""


def test_every_plan_is_within_rafts_model() -> None:
    kinds: set[str] = set()
    for seed in range(300):
        config = recovery_config(BASE, seed, HORIZON_S)
        plan = FaultPlan.parse(config.faults)
        assert admissibility_problems(plan, FailureModel.GENERAL_OMISSION, 2, recovery=True) == []
        assert 0.0 <= (config.gst_s or 0.0) <= HORIZON_S / 2
        kinds |= {fault.kind for fault in plan.faults}
    assert kinds == {
        "crash",
        "restart",
        "link",
        "general-omission",
        "send-omission",
        "receive-omission",
    }
    # Without recovery (seed 001's models) the same plans are not admissible.
    plan = FaultPlan.parse(recovery_config(BASE, 16, HORIZON_S).faults)
    assert admissibility_problems(plan, FailureModel.GENERAL_OMISSION, 2)


@pytest.mark.parametrize("seed", [13, 16, 22, 30])
def test_pinned_sweep_seeds_keep_every_check(seed: int) -> None:
    run = run_simulation(recovery_config(BASE, seed, HORIZON_S))
    assert not run.admissibility
    evaluation = evaluate_run(run)
    assert evaluation.ok, {k: v.summary for k, v in evaluation.checks.items() if not v.ok}
    assert evaluation.measured()["commit_latency"]["count"] > 0


def test_cut_links_are_charged_to_the_fewest_servers_that_touch_them() -> None:
    def problems(*specs: str, f: int) -> list[str]:
        plan = FaultPlan.parse(specs)
        return admissibility_problems(plan, FailureModel.GENERAL_OMISSION, f, recovery=True)

    star = ("link:p2-p1@0.5", "link:p3-p1@0.5", "link:p1-p4@0.5")  # p1 cut off: one server
    assert problems(*star, f=1) == []
    assert problems(*star, "crash:p5@1", f=1) == ["2 faulty servers, more than f = 1"]
    assert problems("link:p1-p2@0.5", "link:p3-p4@0.5", f=1) == [
        "2 faulty servers, more than f = 1"
    ]
    assert problems("crash:p2@1", "restart:p2@2", "link:p1-p2@0.5", f=1) == []
