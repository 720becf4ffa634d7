"""The history page of check-history --html: its data, its escaping, its geometry."""

from __future__ import annotations

import json
import math
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from smrkit.check.history import History, Operation, Status
from smrkit.check.linearizability import check_linearizability
from smrkit.check.synthetic import register_run, split_brain_run, with_info
from smrkit.report.history_diagram import diagram_data, linearization_points, op_label, short
from smrkit.report.history_page import render_history_page


def page_data(page: str) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="history-data">(.*?)</script>', page, re.S
    )
    assert match is not None
    data = json.loads(match.group(1))
    assert isinstance(data, dict)
    return data


def test_a_violation_page_marks_prefix_and_stuck_ops() -> None:
    history = with_info(split_brain_run(3, clients=4, ops=120), 0.1, 3)
    result = check_linearizability(history)
    assert result.verdict == "violation" and result.witness is not None
    page = render_history_page(history, result, time_unit="s")
    assert "not linearizable" in page and "Why it is not linearizable" in page
    data = page_data(page)
    (part,) = [p for p in data["partitions"] if p["verdict"] == "violation"]  # type: ignore[index]
    roles = {op[0]: op[7] for op in part["ops"]}
    assert [roles[op.id] for op, _ in result.witness.prefix] == ["step"] * len(
        result.witness.prefix
    )
    stuck = [op.id for op, _ in result.witness.stuck]
    assert {roles[i] for i in stuck} <= {"stuck", "blocking"}
    assert roles[result.witness.blocking.id] == "blocking"  # type: ignore[union-attr]
    assert [row[0] for row in part["stuck"]] == stuck
    # every step is numbered in order and carries the state after it
    steps = {op[0]: op[6] for op in part["ops"] if op[6] >= 0}
    assert sorted(steps.values()) == list(range(len(result.witness.prefix)))
    assert [row[2] for row in part["steps"]] == [short(s) for _, s in result.witness.prefix]


def test_a_linearizable_page_shows_the_whole_linearization() -> None:
    history = register_run(2, clients=3, ops=60, keys=2)
    result = check_linearizability(history)
    data = diagram_data(result, time_unit="s")
    parts = data["partitions"]
    assert isinstance(parts, list)
    assert sum(len(p["steps"]) for p in parts) == 60
    assert all(p["stuck"] == [] and p["verdict"] == "linearizable" for p in parts)


def test_history_text_is_escaped_everywhere() -> None:
    evil = "</script><script>alert(1)</script>"
    ops = [
        Operation(0, evil, "put", evil, evil, None, Status.OK, 0.0, 1.0),
        Operation(1, "c<b>", "get", evil, None, "never", Status.OK, 2.0, 3.0),
    ]
    history = History(ops=ops, source=evil)
    result = check_linearizability(history)
    page = render_history_page(history, result)
    assert "<script>alert(1)" not in page
    assert page.count("<script") == 2  # the data block and the diagram's script
    data = page_data(page)
    assert data["partitions"][0]["key"] == evil  # type: ignore[index]


def test_an_empty_history_page() -> None:
    history = History(ops=[], source="empty")
    page = render_history_page(history, check_linearizability(history))
    assert "says nothing about the system" in page
    assert page_data(page)["partitions"] == []


def test_long_states_are_cut() -> None:
    assert short("x" * 10) == "'xxxxxxxxxx'"
    cut = short("x" * 1000)
    assert len(cut) < 200 and "(1002 chars)" in cut
    op = Operation(0, "c1", "cas", "k", (1, 2), True, Status.OK, 0.0, 1.0)
    assert op_label(op) == "cas (1, 2) → True"
    info = Operation(1, "c1", "put", "k", 3, None, Status.INFO, 0.0, math.inf)
    assert op_label(info) == "put 3"


@settings(max_examples=100, derandomize=True, deadline=None)
@given(st.integers(1, 10_000), st.integers(2, 6), st.integers(5, 60))
def test_linearization_points_lie_in_their_intervals_in_order(
    seed: int, clients: int, n: int
) -> None:
    history = register_run(seed, clients=clients, ops=n)
    result = check_linearizability(history)
    for part in result.details:
        points = linearization_points(part.order)
        assert points == sorted(points)
        for (op, _), point in zip(part.order, points, strict=True):
            assert op.call <= point <= op.ret
