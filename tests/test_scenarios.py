"""Scenario scripts, as etcd-raft writes them: every ``tests/**/testdata/*.txt``.

Each script builds a world and plays the adversary step by step (``smrkit.sim.scenario``
lists the commands); after each command it holds the output the command must print.
This runner runs each script and compares; with ``pytest --rewrite`` (or
``SMRKIT_REWRITE=1``) it writes the actual outputs into the scripts instead — review the
diff before committing it. Also here: the format itself, and a script failing on the
very bug it pins.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smrkit.sim.datadriven import ScriptFormatError, parse
from smrkit.sim.scenario import run_script

TESTS = Path(__file__).resolve().parent
SCRIPTS = sorted(TESTS.glob("**/testdata/*.txt"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(TESTS)))
def test_scenario_script(path: Path, rewrite: bool) -> None:
    text = path.read_text(encoding="utf-8")
    script = parse(text, path.name)
    outputs = run_script(case.directive for case in script.cases)
    if rewrite:
        path.write_text(script.render(outputs), encoding="utf-8")
        return
    for case, output in zip(script.cases, outputs, strict=True):
        assert output == case.expected, (
            f"{path.relative_to(TESTS)}:{case.line}: {case.directive.text}\n"
            f"--- expected\n{case.expected}\n--- actual\n{output}\n"
            "(run pytest --rewrite to accept the new output, then review the diff)"
        )


def test_there_are_scripts() -> None:
    names = {path.name for path in SCRIPTS}
    assert {"quorum_missed_takeover.txt", "quorum_restart.txt", "quorum_figure8.txt"} <= names
    assert {"quorum_takeover_parts.txt", "quorum_restart_out_of_sync.txt"} <= names


def test_a_script_round_trips_and_a_wrong_output_is_caught(tmp_path: Path) -> None:
    text = (
        "# a comment\n"
        "world protocol=pb-crash replicas=2 clients=1\n----\nwrong\n\n"
        "pool\n----\n----\nalso\n\nwrong\n----\n----\n"
    )
    script = parse(text, "t.txt")
    assert script.render([case.expected for case in script.cases]) == text
    outputs = run_script(case.directive for case in script.cases)
    assert [out == case.expected for out, case in zip(outputs, script.cases, strict=True)] == [
        False,
        False,
    ]
    fixed = script.render(outputs)
    again = parse(fixed, "t.txt")
    assert [case.expected for case in again.cases] == outputs
    assert fixed.startswith("# a comment\nworld protocol=pb-crash")


def test_errors_are_outputs_and_bad_scripts_name_their_line() -> None:
    outputs = run_script(
        parse("deliver 3\n----\n\nworld protocol=nope\n----\n").cases[i].directive for i in range(2)
    )
    assert outputs[0].startswith("error: no world yet")
    assert outputs[1].startswith("error: unknown protocol 'nope'")
    with pytest.raises(ScriptFormatError, match=r"t\.txt:2: the case has no '----' line"):
        parse("# x\nstart\n", "t.txt")
    with pytest.raises(ScriptFormatError, match="unbalanced"):
        parse("fire p1 [1\n----\n", "t.txt")
