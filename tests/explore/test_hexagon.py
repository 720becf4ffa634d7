"""The hexagon: n <= 3f breaks a built-in protocol (EIG) and a user's, with the views the
proof calls identical identical; n > 3f does not apply; signatures part the views."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smrkit.cli.main import main
from smrkit.explore.hexagon import demonstrate, groups_for

HERE = Path(__file__).parent


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def invoke(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(["hexagon", *args])
        captured = capsys.readouterr()
        code = exit_info.value.code
        return (code if isinstance(code, int) else 0), captured.out + captured.err

    return invoke


def test_eig_with_three_processes_demonstrates_the_theorem(run: Any) -> None:
    code, out = run("--protocol", "eig", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["applies"] and data["views_identical"] and data["demonstrates"]
    assert data["broken"] == ["validity in A", "validity in B"]
    for scenario in data["scenarios"]:
        assert all(view["identical"] and view["entries"] > 0 for view in scenario["views"])


def test_eig_with_four_processes_is_out_of_reach(run: Any) -> None:
    code, out = run("--protocol", "eig", "--replicas", "4", "--json")
    data = json.loads(out)
    assert code == 1
    assert data["applies"] is False and data["demonstrates"] is False
    assert data["scenarios"] == []


@pytest.mark.parametrize(("n", "f"), [(6, 2), (5, 2), (4, 2)])
def test_groups_cover_n_up_to_3f(n: int, f: int) -> None:
    groups = groups_for(n, f)
    assert groups is not None and all(1 <= len(g) <= f for g in groups)
    result = demonstrate("eig", n, f)
    assert result.views_identical and result.broken


def test_a_user_protocol_loses_agreement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    result = demonstrate("hexagon_protocols:MajorityOnce", 3, 1)
    assert result.demonstrates
    assert result.broken == ["agreement in C"]
    decisions = {s.plan.name: s.decisions() for s in result.scenarios}
    assert decisions["C"] == {"p1": 1, "p3": 0}


def test_signatures_part_the_views_and_the_run_says_so(
    monkeypatch: pytest.MonkeyPatch, run: Any
) -> None:
    monkeypatch.chdir(HERE)
    code, out = run("--protocol", "hexagon_protocols:SignedMajority")
    assert code == 1
    assert "views_identical: false" in out
    assert "does not demonstrate the theorem" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--protocol", "nope"], "unknown protocol 'nope'"),
        (["--protocol", "json:dumps"], "not a ConsensusProcess subclass"),
        (["--replicas", "0"], "need n >= 1"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: list[str], says: str, run: Any) -> None:
    code, out = run(*args)
    assert code == 2
    assert says in out and "Traceback" not in out and len(out.strip().splitlines()) == 1
