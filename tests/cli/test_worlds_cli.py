"""``smrkit worlds``: the command-line contract (JSON keys, exit codes, one-line errors),
a protocol of the user's own loaded by module path, and the README's worlds section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run_cli

from smrkit.sim.trace import read_trace

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
UNANIMOUS = "tests.explore.worlds_protocols:Unanimous"


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Module paths like ``tests.explore.…`` resolve from the current directory."""
    monkeypatch.chdir(REPO)


def test_json_of_the_default_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["worlds", "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["protocol"] == "pb-crash"
    assert data["views_identical"] is True
    assert data["gives_up"] == "safety"
    assert set(data["worlds"]) == {"A", "B", "C"}
    learned = {
        w: {c: o["value"] for c, o in d["learned"].items()} for w, d in data["worlds"].items()
    }
    assert learned["C"] == {"c1": "C1", "c2": "C2"}
    assert [v["process"] for v in data["views"]] == ["p1", "c1", "p2", "c2"]


def test_pb_simple_gives_up_safety(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["worlds", "--protocol", "pb-simple", "--json"], capsys)
    assert code == 0
    assert json.loads(out)["gives_up"] == "safety"


def test_four_servers_f_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["worlds", "--replicas", "4", "--f", "2", "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["halves"] == [["p1", "p2"], ["p3", "p4"]]
    assert len(data["views"]) == 6
    assert data["views_identical"] is True


@pytest.mark.usefixtures("at_repo_root")
def test_a_user_protocol_by_module_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["worlds", "--protocol", UNANIMOUS, "--json"], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["protocol"] == UNANIMOUS
    assert data["claims"] is None
    assert data["gives_up"] == "liveness"
    assert data["worlds"]["A"]["learned"]["c1"]["status"] == "none"


@pytest.mark.usefixtures("at_repo_root")
def test_a_protocol_outside_the_model_exits_1_and_shows_where(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref = "tests.explore.worlds_protocols:SHARED_MEMORY"
    code, out, _ = run_cli(["worlds", "--protocol", ref], capsys)
    text = " ".join(out.split())
    assert code == 1
    assert "p2 first differs at entry 2: B: t=0.1300 send to c2" in text
    assert "lost: nothing" in text
    assert "does not demonstrate the theorem" in text


def test_trace_dir_holds_the_three_worlds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run_cli(["worlds", "--json", "--trace-dir", str(tmp_path / "t")], capsys)
    assert code == 0
    for name in "ABC":
        trace = read_trace(tmp_path / "t" / f"{name}.jsonl")
        assert trace.header["worlds"] == name
        assert trace.servers == ["p1", "p2"]


@pytest.mark.usefixtures("at_repo_root")
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--protocol", "nope"], "unknown protocol 'nope'"),
        (["--protocol", "no_such_module_xyz:X"], "no module named 'no_such_module_xyz'"),
        (["--protocol", "tests.explore.worlds_protocols:Forward"], "not a Replica subclass"),
        (["--replicas", "3"], "the proof needs n <= 2f"),
        (["--f", "0"], "at least one failure"),
        (["--protocol", "pb-simple", "--replicas", "4", "--f", "2"], "exactly 2 servers"),
        (["--protocol", "smrkit.core.node:Replica"], "Replica base class"),
        (
            ["--protocol", "tests.explore.worlds_protocols:_SharedBoard"],
            "must accept (node_id, config)",
        ),
        (["--delta", "0"], "Invalid value for '--delta'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["worlds", *args], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("smrkit worlds: error: ")
    assert says in err


def _readme_block(command: str) -> list[str]:
    text = README.read_text().split("## The impossibility of seed 000, as a run", 1)[1]
    start = text.index(f"    $ {command}\n")
    block = text[start:].split("\n\n", 1)[0].splitlines()
    return [line[4:] for line in block[1:]]


def test_the_readme_shows_the_real_output(capsys: pytest.CaptureFixture[str]) -> None:
    expected = _readme_block("smrkit worlds --protocol pb-crash")
    code, out, _ = run_cli(["worlds", "--protocol", "pb-crash"], capsys)
    assert code == 0
    assert [line.rstrip() for line in out.splitlines()] == expected


@pytest.mark.usefixtures("at_repo_root")
def test_the_readme_shows_the_user_protocols_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    expected = _readme_block(f"smrkit worlds --protocol {UNANIMOUS} | tail -2")
    code, out, _ = run_cli(["worlds", "--protocol", UNANIMOUS], capsys)
    assert code == 0
    assert [line.rstrip() for line in out.splitlines()[-2:]] == expected
