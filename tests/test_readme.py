"""The README's examples stay true: the first run prints what the README shows (except
the wall-clock time), and the protocol snippet runs."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smrkit.cli.main import main
from smrkit.sim.datadriven import parse
from smrkit.sim.scenario import run_script

README = Path(__file__).resolve().parents[1] / "README.md"


def _first_run_block() -> tuple[list[str], list[str]]:
    return _block("    $ smrkit sim --protocol pb-crash --replicas 3")


def _block(prefix: str) -> tuple[list[str], list[str]]:
    """The command that starts with ``prefix`` (continued over ``\\`` lines) and the
    output the README shows under it."""
    text = README.read_text()
    start = text.index(prefix)
    block = text[start:].split("\n\n", 1)[0].splitlines()
    command: list[str] = []
    lines = iter(block)
    for line in lines:
        command.append(line.strip().removeprefix("$ ").rstrip("\\").strip())
        if not line.rstrip().endswith("\\"):
            break
    output = [line[4:] for line in lines]
    return shlex.split(" ".join(command)), output


def _normalise(lines: list[str]) -> list[str]:
    lines = [re.sub(r"\([\d.]+ s wall\)", "(… s wall)", line) for line in lines]
    lines = [re.sub(r"runs in [\d.]+ s \(\d+ runs/s\)", "runs in … s", line) for line in lines]
    return [line.rstrip() for line in lines]


def test_the_first_run_prints_what_the_readme_shows(capsys: pytest.CaptureFixture[str]) -> None:
    argv, expected = _first_run_block()
    assert argv[0] == "smrkit"
    with pytest.raises(SystemExit) as exit_info:
        main(argv[1:])
    assert exit_info.value.code == 0
    actual = capsys.readouterr().out.splitlines()
    assert _normalise(actual) == _normalise(expected)


def test_the_majority_rows_print_what_the_readme_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv, expected = _block("    $ smrkit bounds --protocol raft --f 1,2")
    with pytest.raises(SystemExit) as exit_info:
        main(argv[1:])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.splitlines() == expected


def test_the_raft_figure_8_replay_prints_what_the_readme_shows(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(README.parent)
    argv, expected = _block("    $ smrkit replay tests/explore/testdata/raft_figure8.jsonl")
    with pytest.raises(SystemExit) as exit_info:
        main(argv[1:])
    assert exit_info.value.code == 1
    assert capsys.readouterr().out.splitlines() == expected


def test_the_protocol_snippet_runs() -> None:
    text = README.read_text()
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    assert "EchoPrimary" in namespace


@pytest.mark.usefixtures("restore_registry")
def test_the_protocol_snippet_runs_as_the_readme_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saved as echo.py, the snippet runs under ``smrkit sim --protocol echo:EchoPrimary``
    (it was a traceback: Replica's own __init__ takes no config) and fails as shown."""
    text = README.read_text()
    (tmp_path / "echo.py").write_text(text.split("```python\n", 1)[1].split("```", 1)[0])
    monkeypatch.chdir(tmp_path)
    argv, expected = _block("    $ smrkit sim --protocol echo:EchoPrimary")
    assert argv[-2:] == ["tail", "-1"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv[1:-3])
    assert exit_info.value.code == 1
    assert capsys.readouterr().out.splitlines()[-1:] == expected


@pytest.mark.parametrize(
    "prefix",
    [
        "    $ smrkit sweep --protocol pb-crash --replicas 3",
        "    $ smrkit sweep --protocol tests.protocols.broken_variants:SPEC",
    ],
)
def test_the_sweep_examples_print_what_the_readme_shows(
    prefix: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(README.parent)  # where tests.protocols.broken_variants is importable
    argv, expected = _block(prefix)
    with pytest.raises(SystemExit) as exit_info:
        main(argv[1:])
    assert exit_info.value.code == (1 if "broken" in prefix else 0)
    actual = capsys.readouterr().out.splitlines()
    assert _normalise(actual) == _normalise(expected)


def test_the_timing_models_example_prints_what_the_readme_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each ``$ smrkit sim … --timing partial-sync … --json | python3 -c …`` line of the
    README (and each ``--fault byzantine:…`` one) is followed by the admissibility
    problems and the failed checks it prints."""
    examples = _json_examples(
        capsys,
        lambda line: (
            "--json" in line and ("--timing partial-sync" in line or "--fault byzantine:" in line)
        ),
    )
    assert len(examples) == 4
    for data, expected in examples:
        failed = [name for name, check in data["checks"].items() if not check["ok"]]
        assert str(data["admissibility"]) + " " + str(failed) == expected


def _json_examples(
    capsys: pytest.CaptureFixture[str], chosen: Callable[[str], bool]
) -> list[tuple[dict[str, Any], str]]:
    """Each ``$ smrkit sim … --json | python3 -c …`` line of the README that ``chosen``
    picks, run: its JSON, and the line the README shows it prints."""
    lines = README.read_text().splitlines()
    found = []
    for index, line in enumerate(lines):
        if not (line.strip().startswith("$ smrkit sim") and chosen(line)):
            continue
        command = line.strip().removeprefix("$ ").split("|", 1)[0]
        expected = lines[index + 2 if line.rstrip().endswith("\\") else index + 1].strip()
        with pytest.raises(SystemExit):
            main(shlex.split(command)[1:])
        found.append((json.loads(capsys.readouterr().out), expected))
    return found


def test_the_scenario_script_prints_what_the_readme_shows() -> None:
    """The README's scenario script is a script: run it, and compare each output."""
    text = README.read_text()
    start = text.index("    world protocol=pb-crash replicas=2\n")
    block: list[str] = []
    for line in text[start:].splitlines():
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    script = parse("\n".join(block).strip() + "\n", "README.md")
    outputs = run_script(case.directive for case in script.cases)
    assert len(outputs) == 5
    assert outputs == [case.expected for case in script.cases]


def test_the_untrusted_clients_example_prints_what_the_readme_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The README's two runs of p1 dropping its replies to c1, clients trusted and not,
    each followed by its failover, longest outage and relayed replies."""
    examples = _json_examples(capsys, lambda line: "send-omission:p1->c1@0.3" in line)
    assert len(examples) == 2
    for data, expected in examples:
        m = data["measured"]
        shown = f"{round(m['failover_s_max'], 4)} {round(m['outage_s_max'], 4)}"
        assert f"{shown} {m['relayed_replies']}" == expected


@pytest.mark.parametrize(
    "prefix",
    [
        "    $ smrkit sim --protocol ben-or --replicas 5",
        "    $ smrkit sim --protocol paxos-timeouts --gst 1.0",
        "    $ smrkit sim --protocol initially-dead --replicas 5",
    ],
)
def test_the_flp_escape_examples_print_what_the_readme_shows(
    prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, expected = _block(prefix)
    with pytest.raises(SystemExit) as exit_info:
        main(argv[1:])
    assert exit_info.value.code == 0
    actual = capsys.readouterr().out.splitlines()
    assert _normalise(actual) == _normalise(expected)


@pytest.mark.parametrize(
    ("prefix", "code"),
    [
        ("    $ smrkit sim --protocol consensus-naive --timing lock-step", 1),
        ("    $ smrkit sim --protocol floodset-early --timing lock-step", 0),
        ("    $ smrkit rounds --protocol floodset --replicas 4 --f 2\n", 1),
        ("    $ smrkit rounds --protocol floodset --replicas 4 --f 2 --rounds 3", 0),
        ("    $ smrkit rounds --protocol tests.explore.rounds_user_protocol:FloodMax", 1),
        ("    $ smrkit sim --protocol dolev-strong --timing lock-step", 0),
        ("    $ smrkit hexagon --protocol eig\n", 0),
        ("    $ smrkit hexagon --protocol eig --replicas 4", 1),
        ("    $ smrkit sim --protocol smr-active --timing lock-step", 0),
        ("    $ smrkit sim --protocol smr-active-server-vote --timing lock-step", 1),
    ],
)
def test_the_seed_002_examples_print_what_the_readme_shows(
    prefix: str, code: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(README.parent)  # where tests.explore.rounds_user_protocol is importable
    argv, expected = _block(prefix.rstrip("\n"))
    with pytest.raises(SystemExit) as exit_info:
        main(argv[1:])
    assert exit_info.value.code == code

    def seconds(lines: list[str]) -> list[str]:
        return [re.sub(r"in [\d.]+ s$", "in … s", line) for line in _normalise(lines)]

    assert seconds(capsys.readouterr().out.splitlines()) == seconds(expected)


def test_the_chain_examples_print_what_the_readme_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The chain section's runs: a reconfiguration, a rejoin, the chain stopping without
    its master, and the broken variant caught under the same faults."""
    examples = _json_examples(capsys, lambda line: "--protocol chain" in line)
    assert len(examples) == 4
    for data, expected in examples:
        m = data["measured"]
        failed = [k for k, c in data["checks"].items() if not c["ok"]]
        last = m["last_ack_s"] and round(m["last_ack_s"], 3)
        shown = (
            f"{data['ops']['ok']} {data['ops']['info']} {failed} {m['epochs']} "
            f"{m['reconfigure_delta_max']} {m['update_latency_delta_p50']} {last}"
        )
        assert shown == expected


def test_the_raft_run_prints_what_the_readme_shows(capsys: pytest.CaptureFixture[str]) -> None:
    argv, expected = _block("    $ smrkit sim --protocol raft --replicas 5")
    assert argv[0] == "smrkit" and "--seed" in argv
    with pytest.raises(SystemExit) as exit_info:
        main(argv[1:])
    assert exit_info.value.code == 0
    actual = capsys.readouterr().out.splitlines()
    assert _normalise(actual) == _normalise(expected)
