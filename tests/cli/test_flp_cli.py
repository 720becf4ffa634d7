"""``smrkit flp``: the command-line contract (JSON fields, exit codes, one-line errors),
the trace ``smrkit replay`` re-runs, the HTML diagram, and the README's FLP section."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import assert_usage_error, run_cli

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
COORDINATOR = "tests.explore.flp_protocols:Coordinator"


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def test_json_of_floodset_all_shows_the_theorem(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["flp", "--protocol", "floodset-all", "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert {"protocol", "replicas", "adversary", "inputs", "ambiguous_initial", "run"} <= set(data)
    assert {"violation", "seconds", "configurations"} <= set(data)
    assert [x["valency"] for x in data["inputs"]] == ["0-valent"] * 3 + ["1-valent"]
    assert data["ambiguous_initial"] is None and data["pivot"] == 3
    run = data["run"]
    assert run["decided"] == [] and run["undelivered_at_end"] == 0 and run["end"] == "blocked"
    assert (run["steps"], run["deliveries"], run["max_message_age"]) == (5, 2, 2)
    assert data["violation"] is None


def test_wait_majority_breaks_agreement_exit_1_and_replay_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace = tmp_path / "wm.jsonl"
    code, out, _ = run_cli(
        ["flp", "--protocol", "wait-majority", "--json", "--trace", str(trace)], capsys
    )
    data = json.loads(out)
    assert code == 1
    assert data["run"] is None
    assert data["violation"]["property"] == "agreement: p3 decided 0 and p2 decided 1"
    assert data["violation"]["run"]["decided"] == ["p2", "p3"]
    code, out, _ = run_cli(["replay", str(trace)], capsys)
    assert code == 1
    assert re.search(r"always\s+agreement\s+VIOLATED \(at move 5\)", out)
    assert "replay identical" in out


def test_paxos_single_run_replays_with_no_decision(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace, page = tmp_path / "px.jsonl", tmp_path / "px.html"
    args = ["flp", "--protocol", "paxos-single", "--steps", "10", "--bound", "300"]
    code, out, _ = run_cli([*args, "--trace", str(trace), "--html", str(page)], capsys)
    assert code == 0
    assert "decisions: none" in out and "ambiguous initial configuration: X_1 (100)" in out
    code, out, _ = run_cli(["replay", str(trace), "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["replay"]["identical"] is True and data["moves"] == 10
    assert all(p["ok"] for p in data["properties"])
    text = page.read_text()
    assert "<svg" in text and "no correct node decides" in text and "C1" in text
    assert "<th>nodes that decided</th><td>none</td>" in text  # a table, not a JSON dump


@pytest.mark.usefixtures("at_repo_root")
def test_a_user_protocol_by_module_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["flp", "--protocol", COORDINATOR, "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["ambiguous_initial"]["inputs"] == [1, 1, 0]
    assert set(data["ambiguous_initial"]["witnesses"]) == {"0", "1"}
    assert data["run"]["schedule"][-1] == "crash p1"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--protocol", "nope"], "unknown protocol 'nope'"),
        (["--protocol", "floodset-all", "--replicas", "1"], "--replicas 1 is out of range"),
        (["--protocol", "floodset-all", "--steps", "0"], "--steps 0 is out of range"),
        (["--protocol", "floodset-all", "--bound", "0"], "--bound 0 is out of range"),
        (["--protocol", "smrkit.core.ids:NodeId"], "not a BinaryProcess subclass"),
    ],
)
def test_bad_usage_is_one_line_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_usage_error("flp", args, needle, capsys)


def _readme_block(prefix: str) -> tuple[list[str], list[str]]:
    """The README's command starting with ``prefix`` and the output shown under it."""
    text = README.read_text()
    block = text[text.index(prefix) :].split("\n\n", 1)[0].splitlines()
    return block[0].strip().removeprefix("$ ").split(), [line[4:] for line in block[1:]]


def _normalise(lines: list[str]) -> list[str]:
    return [re.sub(r"in [\d.]+ s$", "in … s", line.rstrip()) for line in lines]


@pytest.mark.parametrize(
    ("prefix", "code"),
    [
        ("$ smrkit flp --protocol floodset-all", 0),
        ("$ smrkit flp --protocol wait-majority", 1),
        ("$ smrkit flp --protocol ben-or", 4),
    ],
)
def test_the_readme_shows_what_flp_prints(
    prefix: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, expected = _readme_block(prefix)
    shown = slice(None)
    if "|" in argv:  # "| head -7" or "| tail -3"
        tool, lines = argv[argv.index("|") + 1 :]
        count = int(lines.removeprefix("-"))
        shown = slice(None, count) if tool == "head" else slice(-count, None)
        argv = argv[: argv.index("|")]
    status, out, _ = run_cli(argv[1:], capsys)
    assert status == code
    assert _normalise(out.splitlines()[shown]) == _normalise(expected)
