"""The HTML report of ``smrkit test``: availability per second with the fault windows,
latency with axis titles and the outliers' values, the witness as ``check-history``
prints it, and the lost writes listed."""

from __future__ import annotations

import re

import pytest

from smrkit.report.cluster_html import _time_axis, render_test_report

WITNESS = "Not linearizable on key 'r1.log0.0': no order of the ops explains every output."


def _summary() -> dict[str, object]:
    return {
        "verdict": "violation",
        "valid": False,
        "unknown_reasons": [],
        "run_id": "r1",
        "ops": {"offered": 8, "invoked": 8, "total": 8, "ok": 5, "fail": 0, "info": 3},
        "lost_writes": 2,
        "duplicated_writes": 0,
        "availability": 5 / 8,
        "acked_per_second": [3, 0, 0, 2],
        "longest_gap": {"start": 0.9, "end": 3.1, "seconds": 2.2},
        "outages": [{"start": 0.9, "end": 3.1, "seconds": 2.2}],
        "latency_ms": {"p50": 1.5, "p99": 2400.0, "max": 2400.0},
        "faults": [
            {
                "kind": "kill",
                "target": "p1",
                "start": 1.0,
                "end": 2.0,
                "outage": {"start": 0.9, "end": 3.1, "seconds": 2.2},
                "recover_s": 1.1,
            }
        ],
        "time_s": 4.0,
        "rate": 2.0,
        "clients": 1,
        "keys": 1,
        "op_timeout_s": 0.75,
        "final_read_timeout_s": 12.0,
        "check_timeout_s": 40.0,
        "timing": {"late_messages": 7, "late_timers": 0},
        "witness": {"raw": "dict"},
        "witness_text": WITNESS,
        "lost": [["r1.log0.0", "[0.1]"], ["r1.log0.0", "[0.2]"]],
        "duplicated": [],
        "replicas": {"p1": {"health": "halted: no quorum"}, "p2": {"health": "live"}},
        "history": "h.jsonl",
    }


def test_the_report_shows_what_went_wrong() -> None:
    timeline = [(0.1, 1.5, "ok"), (0.2, 2400.0, "ok"), (1.5, None, "info")]
    page = render_test_report(_summary(), timeline, title="t")
    assert "Not linearizable on key &#x27;r1.log0.0&#x27;" in page
    assert "{&#x27;raw&#x27;" not in page  # not the raw dict
    assert "Acknowledged writes lost: 2" in page and "[0.2]" in page
    assert "acknowledged ops per second" in page and "offered 2/s" in page
    assert "latency (ms, log scale)" in page and "time since the start of the load (s)" in page
    assert "2,400 ms" in page  # the outlier, labelled with its value
    assert "δ exceeded 7 times" in page
    assert "62.50 %" in page and "halted: no quorum" in page and "Replicas at the end" in page
    assert "time-outs: op 0.75 s, final reads 12.00 s, checker 40.00 s" in page
    assert page.count("<rect") >= 1 + 4  # the fault window and one bar per second


def test_time_axis_labels_say_where_they_stand() -> None:
    """A 12 s run once had ticks at 1.2 s intervals labelled in whole seconds: "2" stood
    at 2.4 s and 3 was missing. Each label's number is its own position now."""
    for span in (12.0, 30.0, 4.0, 0.5):
        ticks = _time_axis(span, lambda t: t * 100)[:-1]
        for tick in ticks:
            found = re.search(r'x="([0-9.]+)"[^>]*>([0-9.]+)<', tick)
            assert found is not None
            assert float(found.group(1)) == pytest.approx(float(found.group(2)) * 100, abs=0.1)
        assert len(ticks) >= 5


def test_a_raft_replica_shows_its_role_and_term() -> None:
    summary = _summary()
    summary["replicas"] = {
        "p1": {"health": "live", "is_primary": True, "role": "leader", "term": 4},
        "p2": {"health": "live", "is_primary": False, "role": "follower", "term": 4},
        "p3": {"health": "live", "is_primary": True},
    }
    page = render_test_report(summary, [(0.0, 1.0, "")], title="t")
    assert ">leader, term 4<" in page and ">follower, term 4<" in page
    assert ">primary<" in page  # a replica without terms keeps primary/backup
