"""A key whose states only grow (appends, reads, cas that failed): until its longest
read is placed, every state must be a prefix of that read's output. That is what an
outage leaves — a burst of appends pending at once, answered together — and without
the rule the search tried every order of the burst (a real 30 s ``smrkit test``
history: 191,845 steps and ~420 MB of memo on one 13-op key). Each test pins the steps,
which are deterministic, so a search that goes back to every order goes red."""

from __future__ import annotations

import math

from smrkit.check.history import History, Operation, Status
from smrkit.check.linearizability import check_linearizability

BURST = 8


def _op(
    i: int, f: str, arg: str | None, out: str | None, call: float, ret: float, **kw: object
) -> Operation:
    status = kw.get("status", Status.OK)
    return Operation(i, f"c{i}", f, "log", arg, out, status, call, ret)  # type: ignore[arg-type]


def _burst(mid_read: str, final_read: str, *, extra: list[Operation] | None = None) -> History:
    """Eight appends called within 0.1 s and all answered at 1.5 s (a failover), a read
    in the middle of them, and a final read after."""
    ops = [_op(i, "append", f"[{i}]", None, 0.01 * i, 1.5) for i in range(BURST)]
    ops.append(_op(BURST, "get", None, mid_read, 0.05, 1.5))
    ops.append(_op(BURST + 1, "get", None, final_read, 2.0, 2.1))
    ops.extend(extra or [])
    return History(ops=ops, model="kv", initial=None)


ORDER = "".join(f"[{i}]" for i in (3, 0, 7, 1, 2, 6, 4, 5))


def test_a_burst_of_appends_is_searched_in_the_orders_its_reads_allow() -> None:
    result = check_linearizability(_burst(ORDER[:9], ORDER))
    assert result.verdict == "linearizable"
    assert [op.arg for op, _ in result.details[0].order if op.f == "append"] == [
        f"[{i}]" for i in (3, 0, 7, 1, 2, 6, 4, 5)
    ]
    assert result.details[0].steps <= 4 * (BURST + 2)  # every order: thousands


def test_a_read_that_contradicts_the_final_order_is_still_a_violation() -> None:
    contradicting = "[0][3]"  # the final read says [3] went before [0]
    result = check_linearizability(_burst(contradicting, ORDER))
    assert result.verdict == "violation"
    assert result.witness is not None
    assert result.details[0].steps <= 4 * (BURST + 2)


def test_appends_of_unknown_outcome_nobody_read_may_go_after_the_last_read() -> None:
    lost = [_op(20, "append", "[20]", None, 0.02, math.inf, status=Status.INFO)]
    assert check_linearizability(_burst(ORDER[:9], ORDER, extra=lost)).verdict == "linearizable"
    seen = [_op(20, "append", "[20]", None, 0.02, math.inf, status=Status.INFO)]
    final = ORDER[:9] + "[20]" + ORDER[9:]
    result = check_linearizability(_burst(ORDER[:9], final, extra=seen))
    assert result.verdict == "linearizable"
    assert result.details[0].steps <= 4 * (BURST + 3)


def test_a_put_in_the_key_turns_the_rule_off() -> None:
    """A put can shrink the state, so no prefix bound holds: the search is sound only
    without the rule, and pays for every order (here, under a step-bounded time-out)."""
    put = [_op(30, "put", "", None, 0.0, 1.5)]
    result = check_linearizability(_burst("[0][3]", ORDER, extra=put), timeout_s=60)
    assert result.verdict == "violation"
    assert result.details[0].steps > 40 * (BURST + 2)
