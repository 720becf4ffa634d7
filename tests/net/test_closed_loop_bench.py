"""bench/closed_loop.py: its figures say "bad" — a cluster that answers nothing gives
0 ops/s, no latencies and the failed commands counted, not a rate made of time-outs."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from types import ModuleType

from smrkit.net.cluster import init_cluster

BENCH = Path(__file__).resolve().parents[2] / "bench" / "closed_loop.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("closed_loop", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_cluster_that_serves_nothing_is_zero_ops_and_counted_errors(tmp_path: Path) -> None:
    config = init_cluster(tmp_path / "c", protocol="pb-general-omission", replicas=3)
    # initialised, never started: every connection is refused
    result = asyncio.run(_bench().load(config.base, 2, 0.0, 0.6, op_timeout_s=0.2))
    assert result["ops_s"] == 0.0 and result["ops_total"] == 0
    assert result["p50_ms"] is None and result["p99_ms"] is None
    assert result["errors"] >= 2


def test_cpu_of_a_process_that_is_gone_is_zero_not_an_error() -> None:
    bench = _bench()
    assert bench._cpu_s(None) == 0.0
    assert bench._cpu_s(2**22 + 12345) == 0.0  # above Linux's largest pid
