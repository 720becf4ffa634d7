"""A group commit's cost on this disk: the append-only log against SQLite, same run.

Each engine (:class:`smrkit.net.log_storage.LogStorage`, :class:`smrkit.net.storage.SqliteStorage`)
takes ``--commits`` group commits in turns, each of ``--rows`` saves shaped like a Raft
batch (``entry/<i>`` → ``(term, a put command)`` and ``last``), fsync ``batch``: one
``write`` per save, then one ``sync`` — what a replica does per batch of steps. It
prints, per engine, the median wall time and the CPU time (user + system) of a sync,
and the log's ratios to SQLite; one JSON line at the end.

A figure that says "bad": after the runs each file is opened again and every row
checked; an engine that lost a row reports ``"verified": false`` (and the script exits
1), whatever its speed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from smrkit.core.ops import Command, Op
from smrkit.net.log_storage import LogStorage
from smrkit.net.storage import SqliteStorage, Storage


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_commit(store: Storage, batch: int, rows: int) -> tuple[float, float]:
    """Write one batch of ``rows`` saves and sync it: (wall s, CPU s) of the sync."""
    first = batch * rows
    for i in range(first, first + rows):
        store.write([(f"entry/{i}", (1, Command(f"c{i % 64}", i, Op("put", f"k{i % 64}", i))))])
    store.write([("last", first + rows - 1)])
    wall, cpu = time.perf_counter(), _cpu_s()
    store.sync()
    return time.perf_counter() - wall, _cpu_s() - cpu


def verified(store: Storage, commits: int, rows: int) -> bool:
    """Whether ``store`` holds every row the runs wrote."""
    saved = store.load()
    return saved.get("last") == commits * rows - 1 and all(
        f"entry/{i}" in saved for i in range(commits * rows)
    )


def measure(directory: Path, commits: int, rows: int) -> dict[str, Any]:
    stores: dict[str, Storage] = {
        "log": LogStorage(directory / "state.log", "batch"),
        "sqlite": SqliteStorage(directory / "state.sqlite", "batch"),
    }
    walls: dict[str, list[float]] = {name: [] for name in stores}
    cpus: dict[str, list[float]] = {name: [] for name in stores}
    for batch in range(commits):
        for name, store in stores.items():  # in turns: the same moment of the disk
            wall, cpu = one_commit(store, batch, rows)
            walls[name].append(wall)
            cpus[name].append(cpu)
    for store in stores.values():
        store.close()
    again: dict[str, Storage] = {
        "log": LogStorage(directory / "state.log", "batch"),
        "sqlite": SqliteStorage(directory / "state.sqlite", "batch"),
    }
    result: dict[str, Any] = {"bench": "storage_speed", "commits": commits, "rows": rows}
    for name, store in again.items():
        result[f"{name}_wall_us"] = round(statistics.median(walls[name]) * 1e6, 1)
        result[f"{name}_cpu_us"] = round(statistics.mean(cpus[name]) * 1e6, 1)
        result[f"{name}_verified"] = verified(store, commits, rows)
        store.close()
    result["ratio_wall"] = round(result["log_wall_us"] / max(result["sqlite_wall_us"], 0.1), 3)
    result["ratio_cpu"] = round(result["log_cpu_us"] / max(result["sqlite_cpu_us"], 0.1), 3)
    result["verified"] = result["log_verified"] and result["sqlite_verified"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--rows", type=int, default=64, help="saves per commit")
    args = parser.parse_args()
    if not (1 <= args.commits <= 100_000 and 1 <= args.rows <= 10_000):
        parser.error("--commits 1..100000, --rows 1..10000")
    with tempfile.TemporaryDirectory(prefix="smrkit-storage-speed-") as tmp:
        result = measure(Path(tmp), args.commits, args.rows)
    print(json.dumps(result))
    return 0 if result["verified"] else 1


if __name__ == "__main__":
    sys.exit(main())
