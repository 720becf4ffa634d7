"""Runs judged against their family's claims (``smrkit.check.claims``), on the kernel's
toy floodset: "decides by round f + 1" kept, and broken two ways — a verdict that could
not go red would judge nothing. (The partial-synchrony claims are judged in
``test_partial_sync.py``.)"""

from __future__ import annotations

import pytest
from kernel_protocols import flood

from smrkit.check.claims import judge_claims
from smrkit.protocols import ConsensusClaims, PrimaryBackupClaims
from smrkit.sim.faults import FaultPlan
from smrkit.sim.network import LockStepNetwork
from smrkit.sim.simulator import Simulator
from smrkit.sim.trace import Trace

FLOODSET = ConsensusClaims(decides_by_round=2)  # f + 1 for f = 1


def _flood_trace(rounds: int, faults: tuple[str, ...] = ()) -> Trace:
    sim = Simulator(
        flood([0, 1, 1], rounds=rounds),
        seed=3,
        network=LockStepNetwork(),
        plan=FaultPlan.parse(faults),
        header={"servers": ["p1", "p2", "p3"], "clients": []},
        time_limit_s=100,
    )
    sim.run()
    return sim.trace


def test_floodset_with_f_plus_1_rounds_keeps_its_claim() -> None:
    """f = 1: floodset decides by round f + 1 = 2, and agrees, even when p1 crashes in
    round 1 reaching only p2 (a dangerous chain)."""
    verdicts = judge_claims(_flood_trace(2, ("crash:p1@r1/p2",)), FLOODSET, replicas=3)
    assert {name: v.ok for name, v in verdicts.items()} == {
        "termination": True,
        "agreement": True,
        "decides_by_round": True,
    }
    assert verdicts["decides_by_round"].details["last"] == 2


def test_a_run_that_breaks_its_consensus_claims_is_judged_so() -> None:
    late = judge_claims(_flood_trace(3), FLOODSET, replicas=3)["decides_by_round"]
    assert not late.ok and "p1 in round 3" in late.summary
    short = judge_claims(_flood_trace(1, ("crash:p1@r1/p2",)), FLOODSET, replicas=3)
    assert not short["agreement"].ok and "0 by p2" in short["agreement"].summary
    assert short["termination"].ok  # p1 crashed: only p2 and p3 are bound


def test_a_process_that_never_decides_fails_termination() -> None:
    trace = _flood_trace(2)
    undecided = Trace(
        trace.header, [r for r in trace.events if r.node != "p3" or r.kind != "decided"]
    )
    verdict = judge_claims(undecided, FLOODSET, replicas=3)["termination"]
    assert not verdict.ok and "p3" in verdict.summary


def test_primary_backup_claims_are_judged_elsewhere() -> None:
    with pytest.raises(ValueError, match=r"judged by smrkit\.check\.pb"):
        judge_claims(_flood_trace(2), PrimaryBackupClaims(), replicas=3)
