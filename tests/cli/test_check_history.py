"""``smrkit check-history``: verdicts, exit codes, --json and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from smrkit.check.history import History, Operation, Status
from smrkit.check.parsers import write_jsonl
from smrkit.cli.main import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as caught:
        main(["check-history", *args])
    out, err = capsys.readouterr()
    code = caught.value.code
    assert isinstance(code, int)
    return code, out, err


def kv_op(i: int, f: str, arg: object, output: object, call: float, ret: float) -> Operation:
    return Operation(i, f"c{i}", f, "x", arg, output, Status.OK, call, ret)  # type: ignore[arg-type]


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.jsonl"
    ops = [kv_op(0, "put", "a", None, 0, 1), kv_op(1, "get", None, "a", 2, 3)]
    write_jsonl(History(ops=ops), path)
    return path


@pytest.fixture
def stale(tmp_path: Path) -> Path:
    path = tmp_path / "stale.jsonl"
    ops = [
        kv_op(0, "put", "a", None, 0, 1),
        kv_op(1, "put", "b", None, 2, 3),
        kv_op(2, "get", None, "a", 4, 5),
    ]
    write_jsonl(History(ops=ops), path)
    return path


@pytest.fixture
def hard(tmp_path: Path) -> Path:
    """Ten concurrent appends and a put, and a read no order explains: slow to refute
    (the put keeps the search from pruning by the states only growing)."""
    path = tmp_path / "hard.jsonl"
    ops = [kv_op(i, "append", chr(97 + i), None, 0, 100) for i in range(10)]
    ops.append(kv_op(10, "put", "", None, 0, 100))
    ops.append(kv_op(11, "get", None, "never", 200, 201))
    write_jsonl(History(ops=ops, initial=""), path)
    return path


def test_linearizable_exits_0(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([str(good)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "linearizable"
    assert "2 ops" in lines[1] and "1 partition" in lines[1]
    assert err == ""


def test_violation_exits_1_with_witness(stale: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([str(stale), "--format", "jsonl"], capsys)
    assert code == 1
    assert out.splitlines()[0] == "violation"
    assert "#2" in out and "would return 'b', not 'a'" in out


def test_timeout_exits_3(hard: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([str(hard), "--timeout", "0.01"], capsys)
    assert code == 3
    assert out.splitlines()[0] == "unknown"


@pytest.mark.parametrize(("fixture", "verdict"), [("good", "linearizable"), ("stale", "violation")])
def test_json_output(
    fixture: str, verdict: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    path: Path = request.getfixturevalue(fixture)
    code, out, _ = run([str(path), "--json"], capsys)
    assert code == (0 if verdict == "linearizable" else 1)
    assert len(out.strip().splitlines()) == 1
    data = json.loads(out)
    assert set(data) == {"verdict", "ops", "seconds", "witness", "partitions"}
    assert data["verdict"] == verdict
    assert (data["witness"] is None) == (verdict == "linearizable")
    if data["witness"] is not None:
        assert data["witness"]["stuck"][0]["op"]["id"] == 2


def test_json_unknown(hard: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([str(hard), "--json", "--timeout", "0.01"], capsys)
    assert code == 3
    assert json.loads(out)["verdict"] == "unknown"


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("smrkit check-history: error: ")
    return lines[0]


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([str(tmp_path / "nope.jsonl")], capsys)
    assert code == 2
    assert out == ""
    assert "nope.jsonl" in _one_line_error(err)


def test_malformed_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"process": 1, "type": "invoke", "f": "get", "key": "k"}\n{oops\n')
    code, _, err = run([str(path)], capsys)
    assert code == 2
    line = _one_line_error(err)
    assert "line 2" in line and "bad.jsonl" in line


def test_wrong_format_exits_2(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([str(good), "--format", "jepsen-etcd"], capsys)
    assert code == 2
    assert "line 1" in _one_line_error(err)


@pytest.mark.parametrize(
    "args",
    [["--format", "csv"], ["--timeout", "0"], ["--timeout", "soon"], ["--model", "queue"]],
)
def test_bad_usage_exits_2(good: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([str(good), *args], capsys)
    assert code == 2
    assert out == ""
    _one_line_error(err)


def test_model_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # As a kv register the second write overwrites; as a write-once register it loses.
    path = tmp_path / "w.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"process": 1, "type": "invoke", "f": "write", "value": 1, "time": 0}',
                '{"process": 1, "type": "ok", "f": "write", "value": 1, "time": 1}',
                '{"process": 1, "type": "invoke", "f": "write", "value": 2, "time": 2}',
                '{"process": 1, "type": "ok", "f": "write", "value": 1, "time": 3}',
                '{"process": 1, "type": "invoke", "f": "read", "time": 4}',
                '{"process": 1, "type": "ok", "f": "read", "value": 1, "time": 5}',
            ]
        )
        + "\n"
    )
    assert run([str(path), "--model", "register"], capsys)[0] == 0
    assert run([str(path)], capsys)[0] == 1


def test_model_override_rejected_for_jepsen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e.log"
    path.write_text("INFO  jepsen.util - 0\t:invoke\t:read\tnil\n")
    code, _, err = run([str(path), "--model", "counter"], capsys)
    assert code == 2
    assert "kv histories" in _one_line_error(err)


def test_jepsen_etcd_from_testdata(testdata: Path, capsys: pytest.CaptureFixture[str]) -> None:
    verdicts = json.loads((testdata / "jepsen-etcd" / "verdicts.json").read_text())
    for name in ("etcd_000.log", "etcd_002.log"):
        code, _, _ = run([str(testdata / "jepsen-etcd" / name)], capsys)
        assert code == (0 if verdicts[name] else 1)


# ---------------------------------------------------------------------------------------
# Standard input, pictures, empty histories, start-up


def test_dash_reads_standard_input(
    stale: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stale.read_text()))
    code, out, _ = run(["-"], capsys)
    assert code == 1
    assert out.splitlines()[0] == "violation"
    monkeypatch.setattr("sys.stdin", io.StringIO("INFO  jepsen.util - 0\t:invoke\t:read\tnil\n{"))
    code, _, err = run(["-"], capsys)
    assert code == 2
    assert "<stdin>, line 2" in _one_line_error(err)


def test_html_picture(stale: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "stale.html"
    code, out, _ = run([str(stale), "--html", str(page)], capsys)
    assert code == 1
    assert out.splitlines()[-1] == f"picture written to {page}"
    text = page.read_text()
    assert "not linearizable" in text and 'id="history-data"' in text
    code, out, _ = run([str(stale), "--json", "--html", str(page)], capsys)
    assert json.loads(out)["html"] == str(page)


def test_html_to_an_unwritable_place(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([str(good), "--html", str(tmp_path / "no" / "such" / "dir.html")], capsys)
    assert code == 2
    assert "cannot write" in _one_line_error(err)


def test_an_empty_history_says_it_proves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.log"
    empty.write_text("")
    code, out, _ = run([str(empty)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[:2] == ["linearizable", "0 ops, 0 partitions, " + lines[1].split(", ")[-1]]
    assert "says nothing" in lines[2]
    only_failed = tmp_path / "failed.jsonl"
    write_jsonl(History(ops=[kv_op(0, "put", "a", None, 0, 1)]), only_failed)
    only_failed.write_text(only_failed.read_text().replace('"type": "ok"', '"type": "fail"'))
    code, out, _ = run([str(only_failed)], capsys)
    assert code == 0 and "says nothing" in out


def test_unknown_names_the_undecided_partitions(
    hard: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([str(hard), "--timeout", "0.01"], capsys)
    assert code == 3
    assert "on 1 of 1 partitions ('x')" in out


def test_check_history_imports_only_what_it_needs(tmp_path: Path) -> None:
    """Start-up time is imports: `smrkit check-history` must not load the simulator, the
    explorer, the cluster runtime, the reports or rich (bench/check_speed.py times it)."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    probe = (
        "import sys\n"
        "from smrkit.cli.main import main\n"
        "try:\n"
        f"    main(['check-history', {str(empty)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('smrkit', 'rich')))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split("\n")[-2].split())
    assert "smrkit.cli.check_cmd" in loaded
    heavy = ("smrkit.sim", "smrkit.explore", "smrkit.net", "smrkit.report", "rich")
    assert not [m for m in loaded if m.startswith(heavy)]


def test_help_lists_every_command_without_importing_them() -> None:
    probe = (
        "import sys\n"
        "from smrkit.cli.main import COMMANDS, main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "names = [m for m in sys.modules if m.startswith('smrkit.cli.')]\n"
        "print(sorted(m for m in names if m.endswith('_cmd')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    from smrkit.cli.main import COMMANDS, cli

    for name in COMMANDS:
        assert f"  {name} " in done.stdout
        assert cli.get_command(click.Context(cli), name) is not None
