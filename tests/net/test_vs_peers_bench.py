"""bench/vs_peers.py: its figures can say "bad" — a p99 over 100 ms is not sustained, a
system that acknowledged nothing gives 0 ops/s (not a missing key), a peer that is not
there is ``null`` with the reason — and one real run against smrkit alone (no peers
needed) ends with the JSON line."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from bench_modules import load_bench


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench("vs_peers")


def level(bench: ModuleType, clients: int, latencies_ms: list[float]) -> dict[str, Any]:
    return bench.level_summary(clients, [x / 1000 for x in latencies_ms], 0, 1.0)  # type: ignore[no-any-return]


def test_percentiles_are_nearest_rank(bench: ModuleType) -> None:
    values = [float(x) for x in range(1, 101)]
    assert bench.percentile(values, 0.50) == 50.0
    assert bench.percentile(values, 0.99) == 99.0
    assert bench.percentile([7.0], 0.99) == 7.0
    assert bench.percentile([], 0.5) is None


def test_a_p99_over_100_ms_is_not_sustained(bench: ModuleType) -> None:
    fast = level(bench, 8, [10.0] * 98 + [99.0] * 2)
    slow = level(bench, 64, [10.0] * 97 + [150.0] * 3)  # more answers, but p99 150 ms
    assert fast["ops_s"] == 100.0 and fast["p99_ms"] == 99.0
    assert slow["ops_s"] == 100.0 and slow["p50_ms"] == 10.0 and slow["p99_ms"] == 150.0
    assert bench.is_sustained(fast) and not bench.is_sustained(slow)
    assert bench.headline_ops_s([fast, slow], 64) == 0.0
    assert bench.headline_ops_s([fast, slow], 8) == 100.0
    assert bench.sustained_ops_s([fast, slow]) == 100.0
    assert bench.sustained_ops_s([slow]) == 0.0


def test_a_system_that_acknowledged_nothing_gives_0_ops_s(bench: ModuleType) -> None:
    nothing = bench.level_summary(64, [], 12, 5.0)
    assert nothing == {
        "clients": 64,
        "acked": 0,
        "errors": 12,
        "window_s": 5.0,
        "ops_s": 0.0,
        "p50_ms": None,
        "p99_ms": None,
    }
    assert not bench.is_sustained(nothing)
    assert bench.sustained_ops_s([nothing]) == 0.0
    assert bench.headline_ops_s([nothing], 64) == 0.0
    assert bench.headline_ops_s([], 64) == 0.0  # no such level at all


def runs(bench: ModuleType, ops: list[float]) -> list[list[dict[str, Any]]]:
    """One repetition per figure: a sustained level of 64 clients at that throughput."""
    return [[{**level(bench, 64, [5.0] * 100), "ops_s": x, "acked": 100 if x else 0}] for x in ops]


def test_the_json_line_has_every_figure_and_says_what_is_missing(bench: ModuleType) -> None:
    systems = {
        "smrkit": bench.SystemRuns("smrkit", "raft", runs=runs(bench, [1000, 900, 3000])),
        "pysyncobj": bench.SystemRuns("pysyncobj", "pysyncobj", runs=runs(bench, [500, 600, 1000])),
        "etcd": bench.SystemRuns("etcd", "etcd", missing="no etcd at /nowhere"),
    }
    out = bench.summary(systems, [64], 64, {"repeat": 3})
    json.dumps(out)  # serialisable
    assert out["raft_ops_s"] == 1000.0 and out["pysyncobj_ops_s"] == 600.0
    assert out["raft_p50_ms"] == 5.0 and out["raft_p99_ms"] == 5.0
    # the median of each repetition's ratio (2, 1.5, 3), not the ratio of the medians
    assert out["ratio_pysyncobj"] == 2.0
    for key in ("etcd_ops_s", "etcd_p50_ms", "etcd_p99_ms", "ratio_etcd"):
        assert key in out and out[key] is None
    assert out["missing"] == {"etcd": "no etcd at /nowhere"}
    assert set(out["table"]) == {"raft", "pysyncobj"}


def test_a_peer_that_served_nothing_gives_0_and_no_ratio(bench: ModuleType) -> None:
    systems = {
        "smrkit": bench.SystemRuns("smrkit", "raft", runs=runs(bench, [1000])),
        "pysyncobj": bench.SystemRuns("pysyncobj", "pysyncobj", runs=runs(bench, [0])),
        "etcd": bench.SystemRuns("etcd", "etcd", runs=runs(bench, [2000])),
    }
    out = bench.summary(systems, [64], 64, {})
    assert out["pysyncobj_ops_s"] == 0.0 and out["ratio_pysyncobj"] is None
    assert out["ratio_etcd"] == 0.5  # and a ratio below 1 is reported as it is
    assert out["missing"] == {}


def test_another_protocol_is_not_called_raft(bench: ModuleType) -> None:
    systems = {
        "smrkit": bench.SystemRuns("smrkit", "pb-general-omission", runs=runs(bench, [10])),
        "pysyncobj": bench.SystemRuns("pysyncobj", "pysyncobj", missing="x"),
        "etcd": bench.SystemRuns("etcd", "etcd", missing="y"),
    }
    out = bench.summary(systems, [64], 64, {})
    assert "raft_ops_s" not in out and out["smrkit_ops_s"] == 10.0
    assert out["smrkit_protocol"] == "pb-general-omission"


def test_put_request_is_etcds_protobuf(bench: ModuleType) -> None:
    assert bench.put_request(b"k1", b"v") == b"\x0a\x02k1\x12\x01v"
    assert bench._varint(300) == b"\xac\x02"
    assert bench.put_request(b"k", b"x" * 300)[:6] == b"\x0a\x01k\x12\xac\x02"


def test_a_real_run_against_smrkit_alone(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """Load process, CPU sampling and the JSON line, on a real cluster; etcd at a path
    where there is none is reported as such, and PySyncObj is left out."""
    code = bench.main(
        [
            "--protocol",
            "pb-general-omission",
            "--systems",
            "smrkit,etcd",
            "--etcd",
            "/nonexistent/etcd",
            "--clients",
            "1,4",
            "--warmup",
            "0.3",
            "--seconds",
            "0.5",
            "--repeat",
            "1",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    out = json.loads(lines[-1])
    assert out["smrkit_protocol"] == "pb-general-omission"
    assert out["headline_clients"] == 4  # 64 was not measured: the largest level
    # whether 4 clients were sustained (p99 < 100 ms) depends on the machine's load:
    # the headline is a number either way, and every level answered puts
    assert isinstance(out["smrkit_ops_s"], float) and out["smrkit_p99_ms"] is not None
    rows = out["table"]["smrkit"]
    assert [r["clients"] for r in rows] == [1, 4]
    assert all(r["acked"] > 0 and r["ops_s"] > 0 for r in rows)
    assert all(r["server_cpu_cores"] > 0 and r["load_cpu_cores"] > 0 for r in rows)
    assert out["etcd_ops_s"] is None and "/nonexistent/etcd" in out["missing"]["etcd"]
    assert out["pysyncobj_ops_s"] is None
    assert out["missing"]["pysyncobj"] == "not measured (--systems)"
    assert "etcd: not measured: no etcd at /nonexistent/etcd" in "\n".join(lines)


def test_bad_arguments_exit_2(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--clients", "0,8"], ["--seconds", "nan"], ["--systems", "etcd"]):
        with pytest.raises(SystemExit) as exit_info:
            bench.main(args)
        assert exit_info.value.code == 2
        assert "Traceback" not in capsys.readouterr().err


def test_a_row_of_medians_says_in_how_many_runs_it_was_sustained(bench: ModuleType) -> None:
    runs_ = [[level(bench, 64, [5.0] * 100)], [level(bench, 64, [5.0] * 90 + [200.0] * 10)]]
    (row,) = bench.median_levels(runs_, [64])
    assert row["sustained_runs"] == 1 and row["runs"] == 2
    assert "sustained in 1 of 2" in bench._row(row)
    assert "(not sustained)" in bench._row(runs_[1][0])
