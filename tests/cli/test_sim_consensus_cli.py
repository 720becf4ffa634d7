"""``smrkit sim`` and ``smrkit replay`` on the protocols that escape FLP (ben-or,
initially-dead, paxos-timeouts): inputs instead of clients, seed 002's consensus checks,
the split schedule, exit codes and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import assert_usage_error, run_cli


def test_ben_or_under_the_split_schedule_prints_its_checks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(
        ["sim", "--protocol", "ben-or", "--replicas", "5", "--schedule", "split", "--seed", "3"],
        capsys,
    )
    assert code == 0
    assert "async timing, seed 3, inputs 0 1 0 1 0" in out  # the protocol's own timing
    assert "at (steps)" in out
    for check in ("termination", "validity", "agreement", "integrity"):
        assert check in out
    assert out.rstrip().endswith("all checks hold")


def test_json_carries_the_inputs_checks_and_decisions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["sim", "--protocol", "ben-or", "--inputs", "1,1,1", "--json"], capsys)
    summary = json.loads(out)
    assert code == 0 and summary["ok"] is True
    assert set(summary["checks"]) == {"termination", "validity", "agreement", "integrity"}
    assert {d["value"] for d in summary["decisions"].values()} == {"1"}
    assert len(summary["decisions"]) == 3


def test_a_run_that_cannot_decide_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["sim", "--protocol", "ben-or", "--fault", "crash:p2@3", "--fault", "crash:p3@3", "--json"],
        capsys,
    )
    summary = json.loads(out)
    assert code == 1 and summary["checks"]["termination"]["ok"] is False
    assert summary["admissible"] is False  # two crashes exceed f = 1, and the run says so


def test_paxos_timeouts_defaults_to_partial_sync_and_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "paxos.jsonl"
    code, out, _ = run_cli(
        ["sim", "--protocol", "paxos-timeouts", "--gst", "1", "--trace", str(trace)], capsys
    )
    assert code == 0 and "partial-sync timing" in out and "at (virtual s)" in out
    code, out, _ = run_cli(["replay", str(trace)], capsys)
    assert code == 0 and "identical" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--protocol", "ben-or", "--inputs", "0,x"], "--inputs '0,x' is not a list of integers"),
        (["--protocol", "ben-or", "--inputs", "0,2,1"], "input must be 0 or 1, not 2"),
        (["--protocol", "ben-or", "--inputs", "0,1"], "2 inputs for 3 processes"),
        (["--protocol", "floodset", "--inputs", "0,1"], "--inputs belongs to protocols"),
        (["--protocol", "initially-dead", "--schedule", "split"], "--schedule split reads"),
    ],
)
def test_bad_input_usage_is_one_line_and_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_usage_error("sim", args, needle, capsys)
