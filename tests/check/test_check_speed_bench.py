"""bench/check_speed.py: its figures can say "bad" (a wrong verdict, a peer that
disagrees, a peer that is missing), and it runs without Porcupine."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import ModuleType

import pytest

from bench_modules import load_bench
from testdata_location import MISSING, find_testdata

TESTDATA = find_testdata()
pytestmark = pytest.mark.skipif(TESTDATA is None, reason=MISSING)


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.delenv("SMRKIT_PORCUPINE", raising=False)
    return load_bench("check_speed")


def run(
    bench: ModuleType, args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[list[str], dict]:  # type: ignore[type-arg]
    code = bench.main(["--testdata", str(TESTDATA), "--repeat", "1", "--startup-runs", "1", *args])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    return lines, json.loads(lines[-1])


def test_without_porcupine_it_says_so(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, summary = run(bench, ["--classes", "kv"], capsys)
    assert lines[0] == "Porcupine: not measured ($SMRKIT_PORCUPINE unset); smrkit alone"
    assert summary["porcupine"] is False
    assert summary["all_verdicts_match"] is True
    assert summary["classes"]["kv"]["smrkit_verdicts"] == "2 lin 2 viol"
    assert summary["startup"]["smrkit_s"] > 0


def test_a_wrong_verdict_goes_red(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = bench.kv_logs

    def flipped(testdata: Path, porcupine_data: Path | None) -> list[object]:
        cases = original(testdata, porcupine_data)
        first = cases[0]
        first.expected = "violation" if first.expected == "linearizable" else "linearizable"
        return cases

    monkeypatch.setattr(bench, "kv_logs", flipped)
    lines, summary = run(bench, ["--classes", "kv"], capsys)
    assert summary["all_verdicts_match"] is False
    assert "WRONG VERDICTS: 1" in next(line for line in lines if line.startswith("kv "))


def test_the_peer_is_run_and_its_verdicts_shown(
    bench: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A stand-in for the harness that calls every history Illegal, slowly."""
    fake = tmp_path / "fake-harness"
    fake.write_text(
        '#!/bin/sh\necho \'{"verdict": "Illegal", "seconds": 2.0, "cpu_seconds": 1.5}\'\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("SMRKIT_PORCUPINE", str(fake))
    _, summary = run(bench, ["--classes", "kv"], capsys)
    kv = summary["classes"]["kv"]
    assert kv["porcupine_verdicts"] == "4 viol"
    assert kv["porcupine_cpu_s"] == 6.0
    assert kv["ratio_cpu"] == pytest.approx(kv["smrkit_cpu_s"] / 6.0, abs=1e-3)
    monkeypatch.setenv("SMRKIT_PORCUPINE", str(tmp_path / "missing"))
    assert bench.main(["--classes", "kv"]) == 2
