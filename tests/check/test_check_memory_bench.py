"""bench/check_memory.py: its peak is the measured process's own (not the bench's), it
grows with what the process holds, and a wrong verdict is flagged."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "check_memory.py"
pytestmark = pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="no GNU time")


@pytest.fixture
def bench() -> ModuleType:
    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("check_memory", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_peak_is_the_child_s_and_grows_with_what_it_holds(bench: ModuleType) -> None:
    ballast = b"\x01" * (300 * 2**20)  # the bench's own peak must not leak into a child's
    small = bench.peak_of([sys.executable, "-c", "pass"])
    large = bench.peak_of(
        [sys.executable, "-c", "b = bytearray(120 * 2**20); b[::4096] = b'x' * len(b[::4096])"]
    )
    del ballast
    assert small[0] == large[0] == 0
    assert small[1] < 100 and 120 < large[1] < 250


def test_a_wrong_verdict_is_flagged(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench.CLASSES["outage-bursts"] = ("violation", bench.CLASSES["outage-bursts"][1])
    assert bench.main(["--classes", "outage-bursts", "--timeout", "30"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "WRONG (expected violation)" in lines[2]
    summary = json.loads(lines[-1])
    assert summary["all_verdicts_match"] is False
    assert summary["files"][0]["verdict"] == "linearizable"
    assert 0 < summary["floor_mib"] <= summary["files"][0]["peak_mib"]
