"""Closed-loop throughput of a real smrkit cluster: ops/s and p50/p99 at N clients.

A 3-replica cluster (``--protocol``, fsync ``batch``: every reply waits for its
commit to be on disk) on loopback; the load comes from a **separate process** running
one ``smrkit.Client`` with ``--clients`` commands outstanding at all times (each a
``put`` of the kv app; a command finished starts the next). Each run warms up for
``--warmup-s`` and then counts for ``--seconds``; ``--runs`` runs against the same
cluster, and the medians. One JSON line at the end.

CPU per operation (``primary_cpu_us_per_op``: the busiest replica's CPU seconds over
the commands acknowledged, warm-up included; ``cluster_cpu_us_per_op``: the three
replicas'; ``load_cpu_us_per_op``: the load process's, which shares the cores with
them) is what the runtime's work costs, and it is much steadier than ops/s on a
shared machine. A run that acknowledged nothing divides by 1.

A figure that says "bad": a run in which nothing is acknowledged reports 0 ops/s and
``null`` latencies (and ``errors`` counts the commands that failed), never a rate made
up of time-outs — a command counts only when its answer came.

``--profile DIR`` records each replica with py-spy (if on PATH) during the runs and
writes one flame SVG and one raw collapsed-stack file per replica there (what the
``net`` runtime's time goes to: :mod:`smrkit.net.replica`).

The runtime's speed work (issue 13) was measured with this script until
``bench/vs_peers.py`` (the fair comparison with PySyncObj and etcd) landed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


async def load(
    directory: Path, clients: int, warmup_s: float, seconds: float, op_timeout_s: float = 10.0
) -> dict[str, Any]:
    """The load process's work: ``clients`` closed-loop workers on one client."""
    from smrkit.core.ops import Op
    from smrkit.net.client import Client

    latencies: list[float] = []
    errors = 0
    done = 0
    async with Client(directory, op_timeout_s=op_timeout_s, sessions_max=clients) as client:
        with contextlib.suppress(Exception):
            await client.call(Op("put", "k0", 0))  # connect before the clock starts
        loop = asyncio.get_running_loop()
        cpu_from = time.process_time()
        counting_from = loop.time() + warmup_s
        until = counting_from + seconds

        async def worker(i: int) -> None:
            nonlocal errors, done
            n = 0
            while (start := loop.time()) < until:
                n += 1
                try:
                    await client.call(Op("put", f"k{i}", n))
                except Exception:
                    if start >= counting_from:
                        errors += 1
                    continue
                end = loop.time()
                done += 1
                if start >= counting_from and end <= until:
                    latencies.append(end - start)

        await asyncio.gather(*(worker(i) for i in range(clients)))
        cpu_s = time.process_time() - cpu_from
    latencies.sort()

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 3)

    return {
        "ops_s": round(len(latencies) / seconds, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": errors,
        "ops_total": done,
        "load_cpu_s": round(cpu_s, 3),
    }


def _cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system, all threads) a process has used so far."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _commit_ms(config: Any) -> dict[str, float | None]:
    """Each replica's mean commit time so far (``commit_us`` / ``commits`` of its
    status): how long its group commits take on this disk, off the event loop."""
    from smrkit.net.admin import status_all

    found: dict[str, float | None] = {}
    for replica, status in asyncio.run(status_all(config)).items():
        stats = status.get("stats", {})
        commits = stats.get("commits", 0)
        found[replica] = round(stats["commit_us"] / commits / 1000, 3) if commits else None
    return found


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocol", default="pb-general-omission")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup-s", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fsync", default="batch", choices=("always", "batch", "never"))
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--load", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load is not None:  # the load process
        result = asyncio.run(load(args.load, args.clients, args.warmup_s, args.seconds))
        print(json.dumps(result), flush=True)
        return

    from smrkit.net.cluster import down_cluster, init_cluster, replica_pid, up_cluster

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="smrkit-closed-loop-") as tmp:
        config = init_cluster(
            Path(tmp) / "c", protocol=args.protocol, replicas=3, app="kv", fsync=args.fsync
        )
        spies: list[subprocess.Popen[bytes]] = []
        try:
            up_cluster(config)
            py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
            if args.profile is not None and Path(py_spy).exists():
                args.profile.mkdir(parents=True, exist_ok=True)
                total = args.runs * (args.seconds + args.warmup_s + 2)
                for replica in config.servers:
                    pid = replica_pid(config, replica)
                    for fmt, ext in (("flamegraph", "svg"), ("raw", "txt")):
                        spies.append(
                            subprocess.Popen(
                                [py_spy, "record", "-p", str(pid), "-d", str(int(total)),
                                 "-f", fmt, "-o", str(args.profile / f"{replica}.{ext}"),
                                 "-r", "200"],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                            )
                        )  # fmt: skip
            pids = [replica_pid(config, replica) for replica in config.servers]
            for i in range(args.runs):
                before = [_cpu_s(pid) for pid in pids]
                out = subprocess.run(
                    [sys.executable, __file__, "--load", str(config.base),
                     "--clients", str(args.clients), "--seconds", str(args.seconds),
                     "--warmup-s", str(args.warmup_s)],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                run = json.loads(out.stdout.strip().splitlines()[-1])
                run["commit_ms_mean"] = _commit_ms(config)
                used = [_cpu_s(pid) - b for pid, b in zip(pids, before, strict=True)]
                ops = max(1, run.pop("ops_total"))
                # the busiest replica is the primary (the leader)
                run["primary_cpu_us_per_op"] = round(max(used) / ops * 1e6, 1)
                run["cluster_cpu_us_per_op"] = round(sum(used) / ops * 1e6, 1)
                run["load_cpu_us_per_op"] = round(run.pop("load_cpu_s") / ops * 1e6, 1)
                runs.append(run)
                print(f"run {i + 1}: {run}", flush=True)
        finally:
            for spy in spies:
                spy.wait(timeout=120)
            down_cluster(config)
    print(
        json.dumps(
            {
                "protocol": args.protocol,
                "clients": args.clients,
                "fsync": args.fsync,
                "runs": len(runs),
                "ops_s": _median([r["ops_s"] for r in runs]),
                "p50_ms": _median([r["p50_ms"] for r in runs]),
                "p99_ms": _median([r["p99_ms"] for r in runs]),
                "primary_cpu_us_per_op": _median([r["primary_cpu_us_per_op"] for r in runs]),
                "cluster_cpu_us_per_op": _median([r["cluster_cpu_us_per_op"] for r in runs]),
                "load_cpu_us_per_op": _median([r["load_cpu_us_per_op"] for r in runs]),
                "errors": sum(r["errors"] for r in runs),
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
    )


if __name__ == "__main__":
    main()
