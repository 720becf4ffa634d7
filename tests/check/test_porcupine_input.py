"""bench/porcupine_input.py: a ``smrkit test`` history becomes files Porcupine's models
read exactly — the split keeps the verdict on a real run and on corrupted copies — and
what those models cannot state is refused, not approximated. With the harness present
(``$SMRKIT_PORCUPINE``), bench/check_memory.py shows both checkers agree on a real run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType

import pytest

from bench_modules import load_bench
from smrkit.check.history import History, Operation, Status
from smrkit.check.linearizability import check_linearizability
from smrkit.check.parsers import load_history, read_history

# A real run: `smrkit cluster init --protocol raft`, `smrkit test --time 4 --rate 60
# --nemesis kill,partition` (verdict linearizable).
REAL = Path(__file__).resolve().parent / "testdata" / "raft_smrkit_test_history.jsonl"


@pytest.fixture(scope="module")
def conversion() -> ModuleType:
    return load_bench("porcupine_input")


def corrupted(path: Path, key_part: str, tmp_path: Path) -> Path:
    """A copy of ``path`` with the first answered get of a ``key_part`` key (``.k`` a
    register, ``.log`` a log) answering a value nobody wrote."""
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        event = json.loads(line)
        answered = event.get("type") == "ok" and event.get("f") == "get" and event.get("value")
        if answered and key_part in event["key"]:
            event["value"] = "[999.9]" if key_part == ".k" else event["value"] + "[999.9]"
            lines[number] = json.dumps(event)
            copy = tmp_path / f"corrupt{key_part}.jsonl"
            copy.write_text("\n".join(lines) + "\n")
            return copy
    raise AssertionError(f"no answered get on a {key_part} key")


def verdicts_of_parts(conversion: ModuleType, history: History, tmp_path: Path) -> dict[str, str]:
    """smrkit's verdict on each written part, read back from its file."""
    paths = conversion.write_for_porcupine(history, tmp_path, "h")
    return {
        path.name.split(".")[1]: check_linearizability(load_history(path)).verdict for path in paths
    }


def test_a_real_run_splits_into_registers_of_ints_and_logs_of_strings(
    conversion: ModuleType,
) -> None:
    history = load_history(REAL)
    parts = conversion.split_for_porcupine(history)
    assert set(parts) == {"registers", "logs"}
    registers, logs = parts["registers"].ops, parts["logs"].ops
    assert {op.f for op in registers} == {"get", "put", "cas"}
    assert {op.f for op in logs} == {"get", "append"}
    # The harness picks its int model for a file with a cas: every value there an int.
    for op in registers:
        values = op.arg if op.f == "cas" else (op.arg if op.f == "put" else op.output)
        for value in values if isinstance(values, tuple) else (values,):
            assert value is None or isinstance(value, int)
    assert all(isinstance(op.arg, str) for op in logs if op.f == "append")
    kept = [op for op in history.ops if op.status is not Status.FAIL]
    assert len(registers) + len(logs) == len(kept)


def test_the_split_keeps_the_verdict_on_a_real_run_and_on_corrupted_copies(
    conversion: ModuleType, tmp_path: Path
) -> None:
    history = load_history(REAL)
    assert check_linearizability(history).verdict == "linearizable"
    assert verdicts_of_parts(conversion, history, tmp_path) == {
        "registers": "linearizable",
        "logs": "linearizable",
    }
    bad_register = load_history(corrupted(REAL, ".k", tmp_path))
    assert check_linearizability(bad_register).verdict == "violation"
    assert verdicts_of_parts(conversion, bad_register, tmp_path) == {
        "registers": "violation",
        "logs": "linearizable",
    }
    bad_log = load_history(corrupted(REAL, ".log", tmp_path))
    assert check_linearizability(bad_log).verdict == "violation"
    assert verdicts_of_parts(conversion, bad_log, tmp_path) == {
        "registers": "linearizable",
        "logs": "violation",
    }


def test_equal_values_get_equal_numbers_and_null_stays_null(conversion: ModuleType) -> None:
    text = "\n".join(
        json.dumps(event)
        for event in [
            {"process": "a", "type": "invoke", "f": "get", "key": "x", "value": None, "time": 0},
            {"process": "a", "type": "ok", "f": "get", "key": "x", "value": None, "time": 1},
            {"process": "a", "type": "invoke", "f": "put", "key": "x", "value": "v", "time": 2},
            {"process": "a", "type": "ok", "f": "put", "key": "x", "value": None, "time": 3},
            {"process": "a", "type": "invoke", "f": "cas", "key": "x", "value": ["v", "w"]},
            {"process": "a", "type": "ok", "f": "cas", "key": "x", "value": True, "time": 5},
            {"process": "a", "type": "invoke", "f": "get", "key": "x", "value": None, "time": 6},
            {"process": "a", "type": "ok", "f": "get", "key": "x", "value": "w", "time": 7},
        ]
    )
    ops = conversion.split_for_porcupine(read_history(text, "t"))["registers"].ops
    assert [(op.f, op.arg, op.output) for op in ops] == [
        ("get", None, None),
        ("put", 0, None),
        ("cas", (0, 1), True),
        ("get", None, 1),
    ]


def one_key(*ops: tuple[str, object, object]) -> History:
    return History(
        ops=[
            Operation(i, "c", f, "log", arg, out, Status.OK, float(i), i + 0.5)  # type: ignore[arg-type]
            for i, (f, arg, out) in enumerate(ops)
        ],
        model="kv",
        initial=None,
    )


def test_what_porcupine_s_models_cannot_state_is_refused(conversion: ModuleType) -> None:
    with pytest.raises(conversion.NotExpressibleError, match="no cas"):
        conversion.split_for_porcupine(one_key(("append", "a", None), ("cas", ("a", "b"), True)))
    with pytest.raises(conversion.NotExpressibleError, match="empty string"):
        conversion.split_for_porcupine(one_key(("append", "a", None), ("put", "", None)))
    with pytest.raises(conversion.NotExpressibleError, match="strings only"):
        conversion.split_for_porcupine(one_key(("append", "a", None), ("put", 3, None)))


def test_parts_verdicts_combine(conversion: ModuleType) -> None:
    combine = conversion.combined_verdict
    assert combine(["linearizable", "linearizable"]) == "linearizable"
    assert combine(["linearizable", "violation"]) == "violation"
    assert combine(["unknown", "violation"]) == "violation"
    assert combine(["linearizable", "unknown"]) == "unknown"
    assert combine(["linearizable", "error"]) == "error"
    assert combine([]) == "error"


HARNESS = os.environ.get("SMRKIT_PORCUPINE", "")


@pytest.mark.skipif(
    not (HARNESS and os.access(HARNESS, os.X_OK) and os.access("/usr/bin/time", os.X_OK)),
    reason="no Porcupine harness ($SMRKIT_PORCUPINE) or no GNU time",
)
def test_porcupine_agrees_with_smrkit_on_a_real_run_and_a_corrupted_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load_bench("check_memory")
    bad = corrupted(REAL, ".k", tmp_path)
    args = ["--classes", "", "--history", str(REAL), "--history", str(bad), "--timeout", "60"]
    assert bench.main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(row["verdict"], row["porcupine"]) for row in summary["files"]] == [
        ("linearizable", "linearizable"),
        ("violation", "violation"),
    ]
    assert summary["porcupine_disagrees"] == 0


def test_a_disagreement_or_an_unreadable_file_is_not_agreement() -> None:
    agrees = load_bench("check_memory").agrees
    assert agrees("linearizable", "linearizable") and agrees("violation", "unknown")
    assert not agrees("linearizable", "violation")
    assert not agrees("linearizable", "error")  # what the harness said before the split
    assert not agrees("exit 2", "linearizable")
