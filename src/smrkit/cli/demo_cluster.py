"""Part 3 of ``smrkit demo``: a protocol of the simulator (Raft), now as three real
processes on loopback, its leader killed with SIGKILL in the middle of a workload, and the
history judged by the same linearizability checker as the simulated runs.

The cluster lives in a temporary directory and every process it started is stopped
on the way out, whatever happens (an error, Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
from pathlib import Path

from rich.console import Console

from smrkit.net.cluster import down_cluster, init_cluster, replica_pid, up_cluster
from smrkit.net.config import DEFAULT_PROTOCOL
from smrkit.net.jepsen import JepsenPlan, run_test

PROTOCOL = DEFAULT_PROTOCOL
"""Raft, the default of ``cluster init``: it replies only once a majority holds the
update, and its safety does not rest on timing. pb-crash replies at once, trusting
that a message handed to the network arrives unless its sender crashed first; with TCP
and kill -9 that fails: data a process already wrote to a socket is discarded when the
kernel resets the connection of a killed process that left unread input behind."""

PLAN = JepsenPlan(time_s=8.0, rate=300, nemesis=("kill",), clients=8, keys=4, kills_max=1)


def run_cluster_demo(console: Console) -> bool:
    """Run part 3; returns whether the history was valid."""
    console.rule("[bold]part 3: a real cluster, its leader killed with SIGKILL")
    console.print(
        f"Three {PROTOCOL} replicas as processes on 127.0.0.1 (TCP, HMAC-authenticated "
        f"frames, SQLite). {PLAN.clients} clients issue {PLAN.rate:.0f} ops/s for "
        f"{PLAN.time_s:.0f} s on a key-value store; the leader is killed (kill -9) a third "
        "of the way in, and later restarted from its disk. It answers once a majority holds "
        "a write, and no delay can make it unsafe: pb-crash's immediate answer trusts that "
        "a message handed to the network arrives in time, which a killed process's TCP "
        "connections do not promise.\n"
        f"Same as: smrkit cluster init --protocol {PROTOCOL} --dir DIR; smrkit cluster up DIR; "
        "smrkit test --cluster DIR --time 8 --rate 300 --nemesis kill\n"
    )
    with tempfile.TemporaryDirectory(prefix="smrkit-demo-") as tmp:
        config = init_cluster(Path(tmp) / "cluster", protocol=PROTOCOL, replicas=3)
        pids: dict[str, int] = {}
        try:
            pids = up_cluster(config)
            console.print("serving: " + ", ".join(f"{r} (pid {p})" for r, p in pids.items()))
            result = asyncio.run(run_test(config, PLAN, Path(tmp) / "history"))
        finally:
            down_cluster(config, timeout_s=3.0)
            for replica, pid in pids.items():
                if replica_pid(config, replica) is not None:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
    summary = result.to_json()
    for fault in result.windows:
        back = "" if fault.end is None else f", restarted from its disk at {fault.end:.2f} s"
        console.print(f"t = {fault.start:.2f} s: {fault.kind} {fault.target}{back}")
    ops = summary["ops"]
    lat = summary["latency_ms"]
    gap = summary["longest_gap"]
    console.print(
        f"ops offered {ops['offered']}: ok {ops['ok']}, fail {ops['fail']}, info {ops['info']}; "
        f"availability {summary['availability'] * 100:.2f} % of offered; longest stretch with "
        f"no acknowledged op {gap['seconds']:.2f} s (the failover); latency p50 "
        f"{lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms, max {lat['max']:.0f} ms"
    )
    valid = bool(summary["valid"])
    style = "green" if valid else "red"
    console.print(
        f"[bold {style}]verdict: {summary['verdict']}[/], acknowledged writes lost: "
        f"{summary['lost_writes']}, applied twice: {summary['duplicated_writes']}"
    )
    return valid
