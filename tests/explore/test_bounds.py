"""Table 1, row by row: each protocol meets its targets over 200 random admissible fault
plans plus the aimed ones, and one server below the bound a counterexample is found from
a fixed seed. One test per row, so that pytest-xdist spreads them over the cores."""

from __future__ import annotations

from pathlib import Path

import pytest

from smrkit.core.failure_models import TABLE_1, FailureModel
from smrkit.explore.bounds import aimed_plans, replicas_for, split_plans, table_row
from smrkit.protocols.registry import get_protocol
from smrkit.sim.faults import FaultPlan, admissibility_problems
from smrkit.sim.world import SimConfig

EXPECTED_BELOW = {
    FailureModel.CRASH: (1, "pb4", ("crash:p1@0.594696",)),
    FailureModel.CRASH_LINK: (2, "pb1", ("link:p1-p2@0.5",)),
    FailureModel.RECEIVE_OMISSION: (1, "pb4", ("receive-omission:p1@0.594696..1.213242",)),
    FailureModel.SEND_OMISSION: (1, "pb4", ("send-omission:p1@0.594696..1.213242",)),
    FailureModel.GENERAL_OMISSION: (
        2,
        "pb1",
        ("send-omission:p1->p2@0.5", "receive-omission:p1<-p2@0.5"),
    ),
}


@pytest.mark.parametrize("model", TABLE_1, ids=lambda m: m.value)
def test_row_meets_its_targets_and_finds_its_counterexample(
    model: FailureModel, tmp_path: Path
) -> None:
    row = table_row(model, 1, seeds=200, trace_dir=tmp_path)
    failed = [(o.seed, o.faults, o.failed) for o in row.runs_failed]
    assert failed == []
    assert row.seeds == 200 and row.aimed > 0
    assert row.within_targets, row.to_json()
    assert row.replicas >= row.bounds.replicas_min
    assert row.below_bound is not None
    replicas, violation, faults = EXPECTED_BELOW[model]
    assert (row.below_bound.replicas, row.below_bound.violation) == (replicas, violation)
    assert row.below_bound.faults == faults
    assert row.below_bound.trace is not None and Path(row.below_bound.trace).exists()


def test_failover_reaches_the_target_exactly_where_the_analysis_says() -> None:
    """The aimed plans find the worst case: pb-crash with f = 1 fails over in exactly
    τ + δ when the primary dies just after a heartbeat (the random plans alone do not)."""
    row = table_row(FailureModel.CRASH, 1, seeds=1)
    assert row.failover_s_target is not None
    assert row.failover_s_max == pytest.approx(row.failover_s_target, abs=2e-6)


@pytest.mark.parametrize("model", TABLE_1, ids=lambda m: m.value)
def test_aimed_and_split_plans_are_admissible(model: FailureModel) -> None:
    for f in (1, 2):
        spec = get_protocol(
            {
                FailureModel.CRASH: "pb-crash",
                FailureModel.CRASH_LINK: "pb-link",
                FailureModel.SEND_OMISSION: "pb-send-omission",
                FailureModel.RECEIVE_OMISSION: "pb-receive-omission",
                FailureModel.GENERAL_OMISSION: "pb-general-omission",
            }[model]
        )
        n = replicas_for(spec, f)
        config = SimConfig(protocol=spec.name, replicas=n, clients=2, ops=100)
        plans = aimed_plans(config, model, f)
        assert plans, "no aimed plan"
        for plan in [*plans, *split_plans(model, f, max(1, n - 1))]:
            assert admissibility_problems(FaultPlan.parse(plan), model, f) == [], plan
