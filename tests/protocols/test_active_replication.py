"""Seed 002's recipe as a service: Dolev-Strong orders each slot, clients vote.

A lying replica is out-voted; a first-reply client is not protected from it; a vote run
at a server breaks with one faulty voter; an invented request is skipped everywhere."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from smrkit.check.evaluate import evaluate_active, evaluate_run
from smrkit.protocols.active_replication import LIE, ActiveReplica
from smrkit.protocols.claims import ActiveReplicationClaims
from smrkit.sim.world import SimConfig, run_simulation

HERE = Path(__file__).parent


def _run(protocol: str, *faults: str, replicas: int = 3, ops: int = 24, seed: int = 0):  # type: ignore[no-untyped-def]
    config = SimConfig(
        protocol=protocol,
        replicas=replicas,
        clients=2,
        ops=ops,
        faults=faults,
        seed=seed,
        timing="lock-step",
    )
    run = run_simulation(config)
    return run, evaluate_run(run)


def test_no_faults_every_op_answered_and_linearizable() -> None:
    run, evaluation = _run("smr-active")
    assert evaluation.ok, {n: c.summary for n, c in evaluation.checks.items()}
    assert evaluation.checks["answered"].details == {"invoked": 24, "answered": 24, "outvoted": 0}
    logs = [node.applied for node in run.nodes.values() if isinstance(node, ActiveReplica)]
    assert len(logs) == 3 and logs[0] == logs[1] == logs[2] and len(logs[0]) == 24


@pytest.mark.parametrize(
    ("replicas", "faults"),
    [
        (3, [f"byzantine:p2={LIE}"]),
        (3, [f"byzantine:p1={LIE}"]),
        (3, ["byzantine:p1=equivocate"]),
        (3, ["byzantine:p3=silent"]),
        (5, [f"byzantine:p1={LIE}", "byzantine:p4=equivocate"]),
    ],
)
def test_f_byzantine_replicas_are_out_voted(replicas: int, faults: list[str]) -> None:
    _, evaluation = _run("smr-active", *faults, replicas=replicas)
    assert evaluation.ok, {n: c.summary for n, c in evaluation.checks.items()}
    assert evaluation.checks["answered"].details["invoked"] == 24


def test_a_liar_is_out_voted_only_by_a_vote() -> None:
    _, voted = _run("smr-active", f"byzantine:p1={LIE}")
    assert voted.checks["answered"].details["outvoted"] > 0
    _, first = _run("smr-active-crash", f"byzantine:p1={LIE}")
    assert not first.checks["linearizable"].ok


def test_crashes_cost_nothing_with_the_first_reply() -> None:
    _, evaluation = _run("smr-active-crash", "crash:p1@r3", "crash:p2@r5/p3")
    assert evaluation.ok, {n: c.summary for n, c in evaluation.checks.items()}


def test_voter_and_client_share_fate() -> None:
    """The vote at server p1: a liar elsewhere changes nothing; p1 lying breaks it."""
    _, elsewhere = _run("smr-active-server-vote", f"byzantine:p2={LIE}")
    assert elsewhere.ok
    _, voter = _run("smr-active-server-vote", f"byzantine:p1={LIE}")
    assert not voter.checks["linearizable"].ok
    assert voter.checks["log_agreement"].ok  # the replicas agree: only the vote lied


def test_an_invented_request_is_skipped_by_every_correct_replica(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(HERE)
    monkeypatch.syspath_prepend(os.fspath(HERE))
    run, evaluation = _run("smr-active", "byzantine:p1=active_protocols:Inventor")
    assert evaluation.ok, {n: c.summary for n, c in evaluation.checks.items()}
    replicas = [n for n in run.nodes.values() if isinstance(n, ActiveReplica)]
    assert [r.anomalies.get("invented request", 0) > 0 for r in replicas] == [True, True]


def test_a_service_that_served_nothing_is_not_green() -> None:
    _, evaluation = _run("smr-active", ops=0)
    assert not evaluation.checks["answered"].ok


def test_the_round_bound_is_met_tightly_and_says_so_when_missed() -> None:
    """n = 4 under crashes (f = 3): three senders in a row crashed, the fourth orders the
    request, f + 1 = 4 rounds to decide: 2f + 3 = 9 rounds, the claim exactly."""
    run, evaluation = _run(
        "smr-active-crash", "crash:p1@r1", "crash:p2@r2", "crash:p3@r3", replicas=4, ops=40
    )
    assert evaluation.checks["latency"].ok
    assert evaluation.checks["latency"].details == {"rounds_max": 9, "claim": 9}
    claims = replace(run.claims, answered_within_rounds=8)
    assert isinstance(claims, ActiveReplicationClaims)
    again = evaluate_active(run.trace, claims, replicas=4)
    assert not again.checks["latency"].ok
