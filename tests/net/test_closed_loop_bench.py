"""bench/closed_loop.py: its figures say "bad" — a cluster that answers nothing gives
0 ops/s, no latencies and the failed commands counted, not a rate made of time-outs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType

from bench_modules import load_bench
from smrkit.net.cluster import init_cluster


def _bench() -> ModuleType:
    return load_bench("closed_loop")


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
