"""What n = 2f breaks, measured: raft with n = 2f + 1 keeps committing after f faults on
the majority side only; with n = 2f nothing commits. Each row goes red when the
measured outcome contradicts the bound: a protocol that commits without a majority
(primary-backup does), or a majority that commits nothing."""

from __future__ import annotations

import pytest

from smrkit.explore import majority_bounds
from smrkit.explore.majority_bounds import Case, cases_for, majority_lines, measure, plan_for


@pytest.mark.parametrize(
    ("n", "f", "partition", "commits"),
    [
        (3, 1, False, [True]),
        (2, 1, False, [False]),
        (4, 2, False, [False]),
        (3, 1, True, [False, True]),
        (4, 2, True, [False, False]),
    ],
    ids=["n3-crash", "n2-crash", "n4-crash2", "n3-partition", "n4-partition"],
)
def test_raft_commits_on_a_majority_side_only(
    n: int, f: int, partition: bool, commits: list[bool]
) -> None:
    row = measure(Case("raft", n, f, partition))
    assert [side.commits > 0 for side in row.sides] == commits, row.to_json()
    assert row.ok and row.bound_holds == (n > 2 * f)
    assert row.leader in row.sides[0].servers or partition is False
    # the faults hit the leader: crashed, or on the minority side of the partition
    assert any(row.leader in spec for spec in row.faults)
    if any(commits):
        assert row.acknowledged_after > 0
    else:
        assert row.acknowledged_after == 0


def test_a_protocol_that_commits_without_a_majority_turns_the_row_red() -> None:
    """Primary-backup's backup takes over alone: with n = 2 and the primary crashed, the
    minority side commits — the row contradicts n > 2f and says so."""
    row = measure(Case("pb-crash", 2, 1, False))
    assert row.sides[0].commits > 0 and not row.sides[0].majority
    assert not row.ok
    (line,) = [line for line in majority_lines([row.to_json()]) if "pb-crash" in line]
    assert "CONTRADICTS THE BOUND" in line and "(expected no commits)" in line


def test_a_majority_that_commits_nothing_turns_the_row_red(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cut the run short, before a new leader is elected: the majority side commits
    nothing, which is not what n > 2f promises."""
    monkeypatch.setattr(majority_bounds, "RUN_FOR_S", majority_bounds.FAULT_AT_S + 0.06)
    row = measure(Case("raft", 3, 1, False))
    assert row.sides[0].majority and row.sides[0].commits == 0
    assert not row.ok


def test_the_plans_aim_at_the_leader_and_the_cases_cover_both_sides_of_the_bound() -> None:
    faults, sides = plan_for(Case("raft", 5, 2, True), "p3")
    assert sides == [("p1", "p3"), ("p2", "p4", "p5")]
    assert all(spec.startswith("link:") for spec in faults) and len(faults) == 6
    faults, sides = plan_for(Case("raft", 4, 2, False), "p4")
    assert faults == ("crash:p4@1.0", "crash:p1@1.0") and sides == [("p2", "p3")]
    assert [(c.n, c.f, c.partition) for c in cases_for("raft", [1])] == [
        (3, 1, False),
        (2, 1, False),
        (3, 1, True),
        (2, 1, True),
    ]


def test_the_html_page_shows_the_majority_rows_and_a_red_one() -> None:
    """``smrkit bounds --html`` draws the majority rows too (alone when there is no
    Table 1 row), and a row that contradicts the bound is red there as well."""
    from smrkit.report.bounds import render_html

    good = measure(Case("raft", 3, 1, False)).to_json()
    bad = measure(Case("pb-crash", 2, 1, False)).to_json()
    page = render_html([], delta_s=0.01, tau_s=0.05, majority=[good, bad])
    assert "Majority replication" in page and "Table 1 of seed 001" not in page
    assert '<span class="ok">ok</span>' in page
    assert '<span class="bad">CONTRADICTS THE BOUND</span>' in page
    assert "(expected no commits)" in page
