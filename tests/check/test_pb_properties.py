"""Each primary-backup check fails on a trace that breaks it, and passes otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from smrkit.check.logs import check_log_agreement
from smrkit.check.pb import analyze, verdicts
from smrkit.check.trace_history import history_from_trace
from smrkit.core import ClientReply, ClientRequest, Command, Op
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.sim import trace as tr
from smrkit.sim.trace import Event, Trace

TARGETS = PrimaryBackupClaims(failover_s=0.1, blocking_s=0.0, outage_count=1, outage_s=0.1)


class Build:
    """A hand-written trace: two servers, one client."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.mid = 0

    def add(
        self,
        t: float,
        kind: str,
        node: Any = None,
        other: Any = None,
        num: Any = None,
        data: Any = None,
    ) -> Build:
        self.events.append((t, kind, node, other, num, data))
        return self

    def send(self, t: float, src: str, dst: str, msg: Any) -> int:
        self.mid += 1
        self.add(t, tr.SEND, src, dst, self.mid, msg)
        return self.mid

    def deliver(self, t: float, mid: int, src: str, dst: str, msg: Any) -> None:
        self.add(t, tr.DELIVER, dst, src, mid, msg)

    def request(
        self,
        t: float,
        seq: int,
        to: str = "p1",
        *,
        answer: bool = True,
        reply_after: float = 0.0,
        op: Op | None = None,
    ) -> None:
        op = op or Op("put", "x", f"v{seq}")
        request = ClientRequest("c1", seq, op)
        self.add(t, tr.INVOKE, "c1", None, seq, op)
        mid = self.send(t, "c1", to, request)
        self.deliver(t + 0.01, mid, "c1", to, request)
        if answer:
            command = Command("c1", seq, op)
            self.add(t + 0.01, tr.APPLY, to, None, seq, command)
            reply = ClientReply("c1", seq, None)
            rmid = self.send(t + 0.01 + reply_after, to, "c1", reply)
            self.deliver(t + 0.02 + reply_after, rmid, to, "c1", reply)
            self.add(t + 0.02 + reply_after, tr.COMPLETE, "c1", None, seq, ("ok", None))

    def trace(self, end: float | None = None) -> Trace:
        events = list(self.events)
        events.append((end if end is not None else events[-1][0], tr.END, None, None, None, None))
        header = {"servers": ["p1", "p2"], "clients": ["c1"], "config": {"app": "kv"}}
        return Trace(header, events)


def healthy() -> Build:
    b = Build()
    b.add(0.0, tr.PRIMARY, "p1", data=True)
    b.add(0.0, tr.DEST, "c1", "p1")
    return b


def checks(b: Build, end: float | None = None, **kwargs: Any) -> dict[str, Any]:
    analysis = analyze(b.trace(end), **kwargs)
    return verdicts(analysis, TARGETS, linearizable=True)


def test_a_healthy_trace_passes_everything() -> None:
    b = healthy()
    for seq in range(1, 4):
        b.request(0.1 * seq, seq)
    result = checks(b)
    assert all(v.ok for v in result.values()), {k: v.summary for k, v in result.items()}


def test_pb1_two_primaries() -> None:
    b = healthy()
    b.add(0.5, tr.PRIMARY, "p2", data=True)
    result = checks(b)
    assert not result["pb1"].ok and "p1', 'p2" in result["pb1"].summary


@pytest.mark.parametrize(("first", "ok"), [("p1", True), ("p2", False)])
def test_pb1_handover_at_one_instant_must_be_in_order(first: str, ok: bool) -> None:
    b = healthy()
    b.add(0.5, tr.CRASH, "p1", data="crash:p1@0.5")
    if first == "p1":
        b.add(0.5, tr.PRIMARY, "p1", data=False).add(0.5, tr.PRIMARY, "p2", data=True)
    else:
        b.add(0.5, tr.PRIMARY, "p2", data=True).add(0.5, tr.PRIMARY, "p1", data=False)
    assert checks(b)["pb1"].ok is ok


def test_pb2_request_to_a_server_that_is_not_dest() -> None:
    b = healthy()
    b.request(0.1, 1, to="p2", answer=False)
    assert not checks(b)["pb2"].ok


def test_pb3_a_backup_that_processes_a_request() -> None:
    b = healthy()
    b.add(0.0, tr.DEST, "c1", "p2")
    b.request(0.1, 1, to="p2")
    result = checks(b)
    assert not result["pb3"].ok
    details = result["pb3"].details["violations"]
    assert {d["what"].split()[0] for d in details} == {"applied", "replied"}


def test_pb3_a_backup_applying_updates_is_fine() -> None:
    b = healthy()
    b.request(0.1, 1)
    b.add(0.12, tr.APPLY, "p2", None, 1, Command("c1", 1, Op("put", "x", "v1")))
    assert checks(b)["pb3"].ok


@pytest.mark.parametrize("received", [True, False])
def test_pb3_a_backup_passes_on_only_a_reply_it_received(received: bool) -> None:
    """A backup relaying for c1 (``client_relay``) answers it with the primary's reply:
    a response, not a violation. The same reply sent without one received is Pb3."""
    b = healthy()
    b.add(0.0, tr.DEST, "c1", "p2")
    request = ClientRequest("c1", 1, Op("get", "x"), previous="p1")
    b.add(0.1, tr.INVOKE, "c1", None, 1, request.op)
    mid = b.send(0.1, "c1", "p2", request)
    b.deliver(0.11, mid, "c1", "p2", request)
    reply = ClientReply("c1", 1, None)
    if received:
        primary_reply = b.send(0.13, "p1", "p2", reply)
        b.deliver(0.14, primary_reply, "p1", "p2", reply)
    rmid = b.send(0.14, "p2", "c1", reply)
    b.deliver(0.15, rmid, "p2", "c1", reply)
    b.add(0.15, tr.COMPLETE, "c1", None, 1, ("ok", None))
    analysis = analyze(b.trace())
    result = verdicts(analysis, TARGETS, linearizable=True)
    assert result["pb3"].ok is received
    assert analysis.relayed_replies == (1 if received else 0)
    assert analysis.requests == [(0.1, True)]  # answered either way: the reply arrived


def test_pb5_demotion_without_failure() -> None:
    b = healthy()
    b.add(0.5, tr.PRIMARY, "p1", data=False).add(0.5, tr.PRIMARY, "p2", data=True)
    assert not checks(b)["pb5"].ok
    b = healthy()
    b.add(0.4, tr.FAULT, data=("begin", "link:p1-p2@0.4"))
    b.add(0.5, tr.PRIMARY, "p1", data=False).add(0.5, tr.PRIMARY, "p2", data=True)
    assert checks(b)["pb5"].ok


def test_failover_is_the_longest_interval_without_primary() -> None:
    b = healthy()
    b.add(1.0, tr.CRASH, "p1", data="crash:p1@1.0").add(1.0, tr.PRIMARY, "p1", data=False)
    b.add(1.05, tr.PRIMARY, "p2", data=True)
    b.add(1.05, tr.CRASH, "p2", data="crash:p2@1.05").add(1.05, tr.PRIMARY, "p2", data=False)
    analysis = analyze(b.trace(end=1.2))
    # p2's zero-length primacy does not end the interval: 1.0 .. end of run, open
    assert analysis.gaps == [(1.0, 1.2)] and analysis.open_gap
    assert not verdicts(analysis, TARGETS, linearizable=True)["failover"].ok


def test_failover_target_exceeded() -> None:
    b = healthy()
    b.add(1.0, tr.CRASH, "p1", data="crash:p1@1.0").add(1.0, tr.PRIMARY, "p1", data=False)
    b.add(1.2, tr.PRIMARY, "p2", data=True)
    result = checks(b, end=2.0)
    assert not result["failover"].ok
    assert result["failover"].details["failover_s_max"] == pytest.approx(0.2)


def test_blocking_measures_request_to_reply_outside_failures() -> None:
    b = healthy()
    b.request(0.1, 1, reply_after=0.03)
    analysis = analyze(b.trace())
    assert analysis.blocking_s_max == pytest.approx(0.03)
    assert not verdicts(analysis, TARGETS, linearizable=True)["blocking"].ok
    b = healthy()
    b.add(0.105, tr.FAULT, data=("begin", "send-omission:p2@0.105..0.2"))
    b.request(0.1, 1, reply_after=0.03)
    assert analyze(b.trace()).blocking == []  # a fault began while it was handled


def test_pb4_outages_and_the_bofo_cover() -> None:
    b = healthy()
    b.request(0.10, 1)
    b.request(0.20, 2, answer=False)
    b.request(0.25, 3, answer=False)
    b.request(0.40, 4)
    b.request(0.60, 5, answer=False)
    analysis = analyze(b.trace(end=2.0), merge_gap_s=0.1)
    assert [(o.start, o.end, o.requests) for o in analysis.outages] == [
        (0.2, 0.25, 2),
        (0.6, 0.6, 1),
    ]
    assert analysis.periods_needed(0.1) == 2
    result = verdicts(analysis, TARGETS, linearizable=True)
    assert not result["pb4"].ok  # two periods needed, k = 1 promised
    one = verdicts(analysis, PrimaryBackupClaims(outage_count=2, outage_s=0.1), linearizable=True)
    assert one["pb4"].ok
    inconsistent = verdicts(
        analysis, PrimaryBackupClaims(outage_count=2, outage_s=0.1), linearizable=False
    )
    assert not inconsistent["pb4"].ok


def test_pb4_ignores_requests_the_run_ended_on() -> None:
    b = healthy()
    b.request(0.1, 1)
    b.request(0.95, 2, answer=False)
    assert analyze(b.trace(end=1.0), tail_s=0.1).outages == []
    assert len(analyze(b.trace(end=1.0)).outages) == 1


def test_log_agreement() -> None:
    b = healthy()
    put = Command("c1", 1, Op("put", "x", "a"))
    other = Command("c1", 2, Op("put", "x", "b"))
    b.add(0.1, tr.APPLY, "p1", None, 1, put).add(0.1, tr.APPLY, "p2", None, 1, put)
    assert check_log_agreement(b.trace()).ok
    b.add(0.2, tr.APPLY, "p1", None, 2, other)
    assert check_log_agreement(b.trace()).ok  # a prefix
    b.add(0.2, tr.APPLY, "p2", None, 2, Command("c1", 3, Op("put", "x", "c")))
    verdict = check_log_agreement(b.trace())
    assert not verdict.ok and verdict.details["divergence"]["index"] == 2
    b.add(0.3, tr.CRASH, "p2", data="crash:p2@0.3")
    assert check_log_agreement(b.trace()).ok  # only correct replicas must agree


def test_history_from_trace() -> None:
    b = healthy()
    b.request(0.1, 1, op=Op("put", "x", "a"))
    b.request(0.2, 2, op=Op("get", "x"), answer=False)
    history = history_from_trace(b.trace())
    assert [op.status.value for op in history.ops] == ["ok", "info"]
    assert history.ops[0].call == 0.1 and history.ops[0].ret == pytest.approx(0.12)
    assert history.model == "kv"
