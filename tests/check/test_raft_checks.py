"""Raft's checks go red on the runs they exist for: two leaders in a term, a committed
entry missing from a later leader's log, two replicas applying different commands at
one index — and they read the same from a trace file as from a fresh run."""

from __future__ import annotations

from pathlib import Path

import pytest

from smrkit.check.evaluate import evaluate_partial_sync, evaluate_run
from smrkit.check.logs import check_log_agreement
from smrkit.check.raft import check_election_safety, check_leader_completeness, raft_figures
from smrkit.core.ops import Command, Op
from smrkit.protocols.claims import PartialSyncClaims
from smrkit.sim.datadriven import parse
from smrkit.sim.kernel.records import APPLY, COMMITTED, ELECTED, Record
from smrkit.sim.scenario import Scenario
from smrkit.sim.trace import Trace, read_trace
from smrkit.sim.world import SimConfig, run_simulation

SERVERS = ["p1", "p2", "p3", "p4", "p5"]


def _trace(*events: Record) -> Trace:
    return Trace({"servers": SERVERS, "delta_s": 0.01}, list(events))


def test_election_safety_sees_two_leaders_in_one_term() -> None:
    one = _trace(
        Record(0.1, ELECTED, "p1", None, 1, (0, 0, (1,))),
        Record(0.5, ELECTED, "p2", None, 2, (0, 0, (1, 2))),
    )
    assert check_election_safety(one).ok
    two = _trace(*one.events, Record(0.6, ELECTED, "p3", None, 2, (0, 0, (1, 2))))
    verdict = check_election_safety(two)
    assert not verdict.ok
    assert verdict.summary == "two leaders in term 2: p2, p3"


def test_leader_completeness_sees_figure_8() -> None:
    # Figure 8: p1, leader of term 4, commits entry 2 of term 2 by counting; p5 wins
    # term 5 with entry 2 of term 3 and would overwrite it.
    figure_8 = _trace(
        Record(1.0, ELECTED, "p1", None, 4, (0, 0, (1, 2))),
        Record(1.1, COMMITTED, "p1", None, 2, (4, 1, ((1, None, 0), (2, "c1", 1)))),
        Record(2.0, ELECTED, "p5", None, 5, (0, 0, (1, 3))),
    )
    verdict = check_leader_completeness(figure_8)
    assert not verdict.ok
    assert verdict.summary == (
        "entry 2 (term 2), committed by p1 in term 4, is not in the log of p5, leader of "
        "term 5 (it has term 3 there)"
    )
    # The safe rule commits it only with an entry of term 4, which p5 cannot outvote.
    safe = _trace(
        *figure_8.events[:2],
        Record(2.0, ELECTED, "p3", None, 5, (0, 0, (1, 2))),
        Record(3.0, ELECTED, "p4", None, 6, (2, 2, (5,))),  # entry 2 in its snapshot
    )
    assert check_leader_completeness(safe).ok


def test_log_agreement_sees_two_commands_at_one_index() -> None:
    a, b = Command("c1", 1, Op("put", "x", 1)), Command("c2", 1, Op("put", "x", 2))
    agree = _trace(
        Record(1.0, APPLY, "p1", None, 1, a),
        Record(1.0, APPLY, "p2", None, 1, a),
        Record(1.2, APPLY, "p3", None, 2, b),  # entry 1 came in a snapshot: not compared
    )
    assert check_log_agreement(agree).ok
    disagree = _trace(*agree.events, Record(1.3, APPLY, "p4", None, 1, b))
    verdict = check_log_agreement(disagree)
    assert not verdict.ok
    assert verdict.summary == "p4 and p1 applied different commands at entry 1"


def test_no_commit_means_no_figures() -> None:
    figures = raft_figures(
        _trace(Record(0.2, ELECTED, "p1", None, 1, (0, 0, (1,)))), gst_s=0.0, delta_s=0.01
    )
    assert figures["elect_after_gst_s"] is None
    assert figures["commit_latency"]["count"] == 0
    assert figures["commit_latency"]["median_s"] is None


def test_a_trace_file_is_judged_as_the_fresh_run(tmp_path: Path) -> None:
    config = SimConfig(
        protocol="raft",
        replicas=3,
        ops=60,
        timing="partial-sync",
        gst_s=0.5,
        faults=("crash:p1@0.7", "restart:p1@0.9"),
        seed=5,
    )
    run = run_simulation(config)
    fresh = evaluate_run(run)
    path = tmp_path / "raft.jsonl"
    run.trace.write(path)
    again = evaluate_partial_sync(
        read_trace(path), PartialSyncClaims(replicas_min=3), replicas=3, gst_s=0.5, delta_s=0.01
    )
    assert {k: v.summary for k, v in again.checks.items()} == {
        k: v.summary for k, v in fresh.checks.items()
    }
    # Times in a trace file are rounded to the nanosecond.
    read_back, measured = again.measured(), fresh.measured()
    assert read_back["commit_latency"] == pytest.approx(measured["commit_latency"], abs=1e-6)
    assert read_back["elect_after_gst_s"] == pytest.approx(measured["elect_after_gst_s"], abs=1e-8)
    assert read_back["elections"] == measured["elections"] >= 1


def _scenario_trace(name: str) -> Trace:
    """The trace of a scenario script's world (``tests/protocols/testdata``)."""
    path = Path(__file__).resolve().parents[1] / "protocols" / "testdata" / name
    scenario = Scenario()
    for case in parse(path.read_text(encoding="utf-8"), name).cases:
        scenario.execute(case.directive)
    return Trace({"servers": ["p1", "p2", "p3"], "delta_s": 0.01}, scenario.world.log)


def test_raft_unsafe_commit_breaks_leader_completeness_in_figure_8() -> None:
    broken = _scenario_trace("raft_figure8_unsafe_commit.txt")
    verdict = check_leader_completeness(broken)
    assert not verdict.ok
    assert verdict.summary == (
        "entry 1 (term 1), committed by p1 in term 3, is not in the log of p2, leader of "
        "term 4 (it has term 2 there)"
    )
    assert check_election_safety(broken).ok  # one leader per term all along
    safe = _scenario_trace("raft_figure8.txt")
    assert check_leader_completeness(safe).ok and check_election_safety(safe).ok
