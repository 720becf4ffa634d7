"""The figures and the verdict of ``smrkit test``, each shown able to say "bad": no
acknowledged op, a checker time-out, an unread key, a stretch of silence, a broken
timing assumption."""

from __future__ import annotations

import math

from smrkit.check.history import History, Operation, Status
from smrkit.check.linearizability import check_linearizability
from smrkit.cli.test_cmd import EXIT_CODES, summary_lines, timeline_lines
from smrkit.net import availability
from smrkit.net.jepsen import FaultWindow, JepsenPlan, JepsenResult, timing_during


def _op(
    i: int, f: str, key: str, arg: object, out: object, status: Status, call: float
) -> Operation:
    ret = math.inf if status is Status.INFO else call + 0.01
    return Operation(i, str(i), f, key, arg, out, status, call, ret)  # type: ignore[arg-type]


def _result(
    ops: list[Operation],
    *,
    final: dict[str, object] | None = None,
    unread: list[str] | None = None,
    plan: JepsenPlan | None = None,
    windows: list[FaultWindow] | None = None,
    check_timeout_s: float = 10.0,
) -> JepsenResult:
    from smrkit.net.jepsen import _lost_writes

    history = History(ops=ops, model="kv", source="test")
    final_values = final or {}
    lost, twice = _lost_writes(ops, final_values)  # type: ignore[arg-type]
    plan = plan or JepsenPlan(time_s=4.0, rate=2.0)
    return JepsenResult(
        plan,
        "abc",
        history,
        windows or [],
        check_linearizability(history, check_timeout_s),
        final_values,  # type: ignore[arg-type]
        lost,
        twice,
        offered=plan.offered,
        invoked=len(ops),
        unread_keys=unread or [],
    )


def test_the_verdict_says_unknown_or_violation_when_it_must() -> None:
    served = [
        _op(0, "append", "log", "[0.1]", None, Status.OK, 0.5),
        _op(1, "get", "log", None, "[0.1]", Status.OK, 1.5),
    ]
    assert _result(served, final={"log": "[0.1]"}).verdict == "linearizable"
    nothing = [_op(0, "append", "log", "[0.1]", None, Status.INFO, 0.5)]
    unknown = _result(nothing, final={"log": ""})
    assert unknown.verdict == "unknown" and EXIT_CODES["unknown"] == 3
    assert unknown.unknown_reasons() == ["no operation was acknowledged"]
    unread = _result(served, unread=["log"])
    assert unread.verdict == "unknown" and "never answered" in unread.unknown_reasons()[0]
    final_read = _op(2, "get", "log", None, "", Status.OK, 2.0)
    lost = _result([*served, final_read], final={"log": ""})
    assert lost.verdict == "violation" and lost.lost_writes == [("log", "[0.1]")]
    summary = lost.to_json()
    assert summary["lost"] == [["log", "[0.1]"]] and not summary["valid"]
    assert "Not linearizable" in summary["witness_text"]  # as check-history prints it


def test_availability_is_over_the_offered_load_and_time() -> None:
    plan = JepsenPlan(time_s=4.0, rate=2.0)  # 8 offered
    ops = [
        _op(0, "get", "k", None, None, Status.OK, 0.1),
        _op(1, "get", "k", None, None, Status.OK, 0.6),
        _op(2, "get", "k", None, None, Status.INFO, 1.1),
        _op(3, "get", "k", None, None, Status.OK, 3.2),
    ]
    windows = [FaultWindow("partition", "p1 | rest", 1.0, 2.5)]
    summary = _result(ops, plan=plan, windows=windows).to_json()
    assert summary["availability"] == 3 / 8
    assert summary["acked_per_second"] == [2, 0, 0, 1]
    assert summary["longest_gap"] == {"start": 0.61, "end": 3.21, "seconds": 3.21 - 0.61}
    fault = summary["faults"][0]
    assert fault["outage"]["start"] == 0.61 and math.isclose(fault["recover_s"], 3.21 - 2.5)
    lines = timeline_lines(summary)
    assert lines[0].startswith("acked per s: |█  ▄|")
    assert lines[1].endswith("|·pp·| (k kill, p partition, o omit)")
    assert len(lines[0].split("|")[1]) == len(lines[1].split("|")[1])
    text = "\n".join(summary_lines(summary))
    assert "availability 37.50 % of offered" in text
    assert "outage: 2.60 s with no acknowledged op (0.61–3.21 s)" in text


def test_no_ack_at_all_is_one_long_outage() -> None:
    acks: list[float] = []
    assert availability.longest_gap(acks, 30.0) == availability.Gap(0.0, 30.0)
    assert availability.outages(acks, 30.0) == [availability.Gap(0.0, 30.0)]
    assert availability.recovery_s(acks, 10.0) is None
    assert availability.per_second(acks, 2.5) == [0, 0, 0]


def test_timing_counters_during_the_run() -> None:
    before = {"p1": {"late_messages": 5, "late_timers": 1, "incarnation": 1}}
    after = {
        "p1": {"late_messages": 9, "late_timers": 1, "incarnation": 1},
        "p2": {"late_messages": 2, "late_timers": 3, "incarnation": 2},
    }
    assert timing_during(before, after) == {"late_messages": 6, "late_timers": 3}
    assert timing_during({}, {}) is None
    ops = [_op(0, "get", "k", None, None, Status.OK, 0.1)]
    summary = _result(ops).to_json()
    assert not any("δ exceeded" in line for line in summary_lines(summary))
    summary["timing"] = {"late_messages": 2575, "late_timers": 0}
    assert (
        "δ exceeded 2,575 times (2,575 late messages, 0 late timers): the protocol's "
        "guarantees did not apply" in summary_lines(summary)
    )
    # Raft's safety does not rest on δ: late messages cost it only time.
    summary.update(protocol="raft", safety_rests_on_timing=False)
    assert (
        "δ exceeded 2,575 times (2,575 late messages, 0 late timers): raft does not rely "
        "on δ for safety, only for electing and committing in time" in summary_lines(summary)
    )
