"""Seed 002's f + 1 round bound as a run (``smrkit.explore.rounds``, ``smrkit rounds``):
with R ≤ f rounds a dangerous chain breaks floodset — and a user's protocol — and the
chain is printed; with R = f + 1 every crash pattern is explored and none does. Pinned
counts are exact (the search counts patterns, it does not sample them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smrkit.cli.main import main
from smrkit.explore.rounds import RoundsSearch, decision_rounds
from smrkit.protocols.agreement import EarlyFloodSet, FloodSet, NaiveConsensus

ROOT = Path(__file__).resolve().parents[2]
USER = "tests.explore.rounds_user_protocol:FloodMax"


def test_r_equal_f_is_broken_by_a_dangerous_chain_the_kernel_confirms() -> None:
    result = RoundsSearch("floodset", FloodSet, replicas=4, f=2, rounds=2).search()
    assert result.exit_code == 1 and result.violation is not None
    v = result.violation
    assert v.found_by == "dangerous chain" and v.broken == ["agreement"]
    assert v.checks["agreement"].detail == (
        "processes decided differently: 0 by p3 in round 2; 1 by p4 in round 2"
    )
    assert v.faults == ["crash:p1@r1/p2", "crash:p2@r2/p3"]
    assert [c.sentence() for c in v.chain] == [
        "round 1: p1 crashed; only p2 got its message (Known([0])), hidden from p3, p4",
        "round 2: p2 crashed; only p3 got its message (Known([0,1,2,3])), hidden from p4",
    ]
    assert any(r.kind == "crash" for r in v.records)  # a real kernel run's records


def test_the_exhaustive_search_alone_finds_the_violation_too() -> None:
    result = RoundsSearch("floodset", FloodSet, replicas=3, f=1, rounds=1, guided=False).search()
    assert result.violation is not None and result.violation.found_by == "exhaustive search"
    assert result.chains_tried == 0 and "agreement" in result.violation.broken


@pytest.mark.parametrize(
    ("make", "n", "f", "patterns"),
    [(FloodSet, 4, 2, 2817), (FloodSet, 3, 1, 37), (EarlyFloodSet, 4, 2, 3489)],
)
def test_r_equal_f_plus_1_survives_every_crash_pattern(
    make: type, n: int, f: int, patterns: int
) -> None:
    result = RoundsSearch("x", make, replicas=n, f=f, rounds=f + 1).search()
    assert result.violation is None and result.exhausted and result.exit_code == 0
    assert result.patterns_explored == patterns


def test_a_state_bound_stops_the_search_with_exit_3() -> None:
    result = RoundsSearch("floodset", FloodSet, replicas=4, f=2, rounds=3, states_max=50).search()
    assert result.exit_code == 3 and not result.exhausted and result.violation is None
    assert result.bound == "states_max = 50 states searched"


def test_early_stopping_decides_by_min_f_prime_plus_2_f_plus_1_in_every_pattern() -> None:
    found = decision_rounds(RoundsSearch("e", EarlyFloodSet, replicas=4, f=2, rounds=3))
    assert sum(found.values()) == 3489
    assert all(d is not None and d <= min(c + 2, 3) for c, d in found)
    assert found[(0, 2)] == 1  # no crash: decided in round 2
    assert (2, 3) in found  # and the bound is reached


def test_naive_consensus_breaks_with_one_crash() -> None:
    result = RoundsSearch("consensus-naive", NaiveConsensus, replicas=3, f=1, rounds=1).search()
    assert result.violation is not None and result.violation.faults == ["crash:p1@r1/p2"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code or 0), capsys.readouterr().out


def test_the_command_on_a_user_protocol_demonstrates_the_bound(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out = run(["rounds", "--protocol", USER, "--replicas", "4", "--f", "2", "--json"], capsys)
    result = json.loads(out)
    assert code == 1 and result["rounds"] == 2
    violation = result["violation"]
    assert violation["property"] == "agreement" and violation["found_by"] == "dangerous chain"
    assert [c["fault"] for c in violation["chain"]] == ["crash:p4@r1/p1", "crash:p1@r2/p2"]
    assert violation["values"] == ["3", "2"]  # p4's 3 reached p2 only: 3 against 2
    code, out = run(
        ["rounds", "--protocol", USER, "--replicas", "4", "--f", "2", "--rounds", "3"], capsys
    )
    assert code == 0 and "no crash pattern breaks it: the whole space" in out
    assert set(result) >= {"protocol", "replicas", "f", "rounds", "patterns_explored", "seconds"}


def test_the_command_prints_the_chain_and_writes_the_diagram(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = tmp_path / "rounds.html"
    code, out = run(["rounds", "--replicas", "3", "--f", "1", "--html", str(page)], capsys)
    assert code == 1
    assert "round 1: p1 crashed; only p2 got its message (Known([0])), hidden from p3" in out
    text = page.read_text()
    assert "The dangerous chain" in text and "got the last message of p1" in text
    assert 'class="decide bad"' in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--f", "4"], "--f 4 leaves no correct process among --replicas 4"),
        (["--protocol", "consensus-naive", "--rounds", "2"], "consensus-naive always decides"),
        (["--protocol", "nosuch"], "unknown lock-step protocol 'nosuch'"),
        (
            ["--protocol", "tests.explore.rounds_user_protocol:NotAProcess"],
            "not a ConsensusProcess",
        ),
        (
            ["--protocol", "tests.explore.rounds_user_protocol:Raises", "--rounds", "3"],
            "during the search: p2 raised RuntimeError in on_round",
        ),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as exit_info:
        main(["rounds", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
