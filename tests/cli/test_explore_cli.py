"""``smrkit explore``: the command-line contract — Stateright's figures in JSON, exit
codes, one-line errors, the progress line, and the README's explore section."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from cli_helpers import assert_usage_error, run_cli

from smrkit.explore import search as search_module

README = Path(__file__).resolve().parents[2] / "README.md"
KEYS = {
    "model",
    "parameters",
    "timing",
    "search",
    "symmetry",
    "states",
    "unique",
    "max_depth",
    "sec",
    "states_per_s",
    "complete",
    "stopped_by",
    "horizon_s",
    "properties",
    "references",
}


def test_paxos_json_in_stateright_s_terms(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["explore", "--model", "paxos", "--clients", "2", "--servers", "3", "--json"], capsys
    )
    data = json.loads(out)
    assert code == 0
    assert set(data) == KEYS
    assert (data["states"], data["unique"], data["max_depth"]) == (32_971, 16_668, 21)
    assert data["references"] == [
        {
            "source": "Stateright examples/paxos.rs (2 clients, 3 servers)",
            "unique": 16_668,
            "matches": True,
        }
    ]
    verdicts = {p["name"]: (p["verdict"], p["path_length"]) for p in data["properties"]}
    assert verdicts == {"linearizable": ("holds", None), "value chosen": ("found", 8)}
    assert data["states_per_s"] > 0


@pytest.mark.parametrize(
    ("args", "unique"),
    [
        (["--servers", "3"], 288),
        (["--servers", "5", "--dfs"], 8_832),
        (["--servers", "5", "--dfs", "--symmetry"], 665),
    ],
)
def test_2pc_counts(args: list[str], unique: int, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["explore", "--model", "2pc", *args, "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["unique"] == unique
    assert [r["matches"] for r in data["references"]] == [True]


def test_a_bound_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["explore", "--max-states", "500", "--json"], capsys)
    data = json.loads(out)
    assert code == 3
    assert data["stopped_by"] == "max-states" and data["complete"] is False


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "nonesuch"], "unknown protocol 'nonesuch'"),
        (["--model", "paxos", "--symmetry"], "declares no interchangeable servers"),
        (["--model", "2pc", "--clients", "2"], "--clients does not apply to 2pc"),
        (["--model", "paxos", "--bound", "stale-lost"], "--bound applies to raft"),
        (["--model", "pb-crash", "--symmetry"], "declares no interchangeable servers"),
        (["--max-depth", "0"], "0 is not in the range"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_usage_error("explore", args, needle, capsys)


def test_progress_goes_to_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "PROGRESS_EVERY_S", 0.0)
    code, out, err = run_cli(["explore", "--model", "2pc", "--json"], capsys)
    assert code == 0
    json.loads(out)
    assert re.search(r"explore: checking\. states=[\d,]+ unique=[\d,]+ depth=\d+", err)


def test_the_readme_shows_what_explore_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ``$ smrkit explore …`` block of the README is followed by what it prints
    (the seconds and the rate aside), run from the repository's root."""
    monkeypatch.chdir(README.parent)
    lines = README.read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith("$ smrkit explore")]
    assert len(starts) >= 3
    for start in starts:
        expected = []
        for line in lines[start + 1 :]:
            if not line.strip() or line.strip().startswith("$ ") or line.startswith("```"):
                break
            expected.append(line[4:] if line.startswith("    ") else line)
        argv = shlex.split(lines[start].strip().removeprefix("$ "))
        code, out, _ = run_cli(argv[1:], capsys)
        assert code == (1 if "violated" in out else 0)
        assert _normalise(out.splitlines()) == _normalise(expected)


def _normalise(lines: list[str]) -> list[str]:
    return [
        re.sub(r"sec=[\d.]+ states_per_s=[\d,]+", "sec=… states_per_s=…", line).rstrip()
        for line in lines
    ]


def test_the_readme_s_replay_of_the_counterexample(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(README.parent)
    lines = README.read_text().splitlines()
    start = lines.index("    $ smrkit replay counterexample.jsonl")
    expected = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        expected.append(line[4:])
    trace = tmp_path / "counterexample.jsonl"
    model = "tests.protocols.broken_variants:RepliesFirst"
    run_cli(["explore", "--model", model, "--crashes", "1", "--trace", str(trace)], capsys)
    code, out, _ = run_cli(["replay", str(trace)], capsys)
    assert code == 1
    assert out.replace(str(trace), "counterexample.jsonl").splitlines() == expected


def test_the_page_of_an_async_path_draws_it_whole_in_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "paxos.html"
    code, out, _ = run_cli(["explore", "--model", "paxos", "--html", str(page)], capsys)
    # The console wraps a long path (pytest-xdist's temporary directories are long).
    assert code == 0 and f"report of 'value chosen' written to {page}" in out.replace("\n", "")
    html = page.read_text()
    assert "The path: example of <code>value chosen</code>" in html
    assert html.count('<li class="last">') == 1 and "Get(request_id=6)" in html
    assert "the whole run" in html and "0 messages not shown" in html
    assert '">step</text>' in html and "t (s)" not in html


def test_a_count_unlike_stateright_s_is_called_different(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The comparison can say "bad": a model whose count is not the pinned one (here the
    pin is moved off by one) is reported DIFFERENT, in text and JSON."""
    import dataclasses

    from smrkit.cli import explore_cmd
    from smrkit.explore.models import build_model

    def off_by_one(name: str, **kwargs: object) -> object:
        model = build_model(name, **kwargs)  # type: ignore[arg-type]
        moved = tuple(dataclasses.replace(r, unique=r.unique + 1) for r in model.references)
        return dataclasses.replace(model, references=moved)

    monkeypatch.setattr(explore_cmd, "build_model", off_by_one)
    code, out, _ = run_cli(["explore", "--model", "2pc", "--servers", "3", "--json"], capsys)
    data = json.loads(out)
    assert data["unique"] == 288 and data["references"][0]["unique"] == 289
    assert [r["matches"] for r in data["references"]] == [False]
    code, out, _ = run_cli(["explore", "--model", "2pc", "--servers", "3"], capsys)
    assert code == 0  # the exit status speaks of the properties, which hold
    assert "unique=289 — DIFFERENT" in out


def test_a_replayed_model_path_s_page_says_what_held_and_draws_no_latency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model checker's path has no latencies (its time counts moves) and a property
    that held has no move: the page says "holds in every state of the path" where it
    once said "at move None", and leaves out the latency chart and the empty table of
    measured figures."""
    trace = Path(__file__).parents[1] / "explore" / "testdata" / "raft_figure8.jsonl"
    page = tmp_path / "path.html"
    code, _, _ = run_cli(["replay", str(trace), "--html", str(page)], capsys)
    assert code == 1  # the path violates leader completeness
    html = page.read_text(encoding="utf-8")
    assert "at move None" not in html
    assert "always: holds in every state of the path" in html
    assert "always: at move 20" in html
    assert 'id="latency"' not in html and "<h2>Measured" not in html
    assert "dbfffb939a2c1d9e" in html  # the trace hash, not a dash
