"""smrkit's real cluster against PySyncObj 0.3.17, 3 replicas each, on loopback, same run.

Workload: increments of a replicated counter (smrkit: the ``counter`` app's
``add 1``; PySyncObj: a ``SyncObj`` subclass with a ``@replicated`` ``inc``), offered
open-loop at rising rates (``--steps``, ops/s), ``--step-s`` seconds per rate, until a
rate is no longer sustained. A command counts as acknowledged if its answer comes
within ``ACK_TIMEOUT_S`` of its issue; a rate is *sustained* when ≥ 99 % of the
commands offered at it are acknowledged. Latency p50/p99 is measured at 1,000 ops/s.

How each system is driven (they differ in where a client can live):

* smrkit: ``smrkit cluster`` with pb-crash, 3 replica processes, fsync ``batch``; the
  load comes from this process through ``smrkit.Client`` (asyncio, TCP, HMAC-framed,
  one session per outstanding command, up to 4,096 in flight): every millisecond it
  starts the commands that are due;
* PySyncObj: 3 processes, one ``SyncObj`` each (default ``SyncObjConf``: in-memory
  journal, batched append entries); PySyncObj has no network client, so the load comes
  from inside the leader's process: a thread calls ``inc(callback=…)`` for the commands
  due every millisecond, and the callback (after a majority has the entry and the
  leader applied it) is the acknowledgement.

PySyncObj is installed into the running interpreter's environment with pip if missing
(it is not a dependency of smrkit). Prints one line per step, then the JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PYSYNCOBJ_VERSION = "0.3.17"
ACK_TIMEOUT_S = 2.0
SUSTAINED = 0.99
LATENCY_RATE = 1000
DEFAULT_STEPS = (500, 1000, 2000, 4000, 8000, 16000)


def _summary(rate: int, latencies: list[float | None]) -> dict[str, Any]:
    acked = sorted(x * 1000 for x in latencies if x is not None and x <= ACK_TIMEOUT_S)
    offered = len(latencies)

    def pct(q: float) -> float | None:
        return acked[min(len(acked) - 1, int(q * len(acked)))] if acked else None

    return {
        "rate": rate,
        "offered": offered,
        "acked": len(acked),
        "ack_ratio": len(acked) / offered if offered else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def _result(steps: list[dict[str, Any]]) -> tuple[int, float | None, float | None]:
    """Highest sustained rate, and p50/p99 at ``LATENCY_RATE``."""
    sustained = max((s["rate"] for s in steps if s["ack_ratio"] >= SUSTAINED), default=0)
    at = next((s for s in steps if s["rate"] == LATENCY_RATE), None)
    return sustained, (at or {}).get("p50_ms"), (at or {}).get("p99_ms")


# --- smrkit ----------------------------------------------------------------------------


async def _smrkit_steps(directory: Path, rates: list[int], step_s: float) -> list[dict[str, Any]]:
    from smrkit.core.ops import Op
    from smrkit.net.client import Client

    steps: list[dict[str, Any]] = []
    async with Client(directory, op_timeout_s=ACK_TIMEOUT_S * 2, sessions_max=4096) as client:
        await client.call(Op("add", None, 0))  # connect before the clock starts
        loop = asyncio.get_running_loop()

        async def one() -> float | None:
            start = loop.time()
            try:
                await client.call(Op("add", None, 1))
            except Exception:
                return None
            return loop.time() - start

        for rate in rates:
            tasks: list[asyncio.Task[float | None]] = []
            t0 = loop.time()
            while (elapsed := loop.time() - t0) < step_s:
                due = int(elapsed * rate) + 1 - len(tasks)
                tasks.extend(asyncio.ensure_future(one()) for _ in range(due))
                await asyncio.sleep(0.001)
            step = _summary(rate, list(await asyncio.gather(*tasks)))
            steps.append(step)
            print(f"smrkit     {_line(step)}", flush=True)
            if step["ack_ratio"] < SUSTAINED:
                break
    return steps


def run_smrkit(rates: list[int], step_s: float) -> list[dict[str, Any]]:
    from smrkit.net.cluster import down_cluster, init_cluster, up_cluster

    with tempfile.TemporaryDirectory(prefix="smrkit-bench-") as tmp:
        config = init_cluster(
            Path(tmp) / "c", protocol="pb-crash", replicas=3, app="counter", fsync="batch"
        )
        try:
            up_cluster(config)
            return asyncio.run(_smrkit_steps(config.base, rates, step_s))
        finally:
            down_cluster(config)


# --- PySyncObj -------------------------------------------------------------------------


def _ensure_pysyncobj() -> None:
    try:
        import pysyncobj  # noqa: F401
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", f"pysyncobj=={PYSYNCOBJ_VERSION}"],
            check=True,
        )


def pysyncobj_node(index: int, ports: list[int], rates: list[int], step_s: float, out: str) -> None:
    """One PySyncObj replica; the leader runs the load and writes the steps to ``out``."""
    from pysyncobj import SyncObj, SyncObjConf, replicated

    class Counter(SyncObj):  # type: ignore[misc]
        def __init__(self, me: str, others: list[str]) -> None:
            super().__init__(me, others, conf=SyncObjConf(dynamicMembershipChange=False))
            self.value = 0

        @replicated  # type: ignore[misc]
        def inc(self) -> int:
            self.value += 1
            return self.value

    addresses = [f"127.0.0.1:{p}" for p in ports]
    node = Counter(addresses[index], [a for i, a in enumerate(addresses) if i != index])
    deadline = time.monotonic() + 30
    while not (node.isReady() and node._getLeader() is not None):
        if time.monotonic() > deadline:
            raise SystemExit("no leader in 30 s")
        time.sleep(0.05)
    time.sleep(0.5)
    if not node._isLeader():
        time.sleep(3600)  # a follower: serve until killed
        return
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        time.sleep(3600)
        return
    steps = []
    for rate in rates:
        latencies: list[float | None] = []
        lock = threading.Lock()

        def issue(
            slot: int, latencies: list[float | None] = latencies, lock: threading.Lock = lock
        ) -> None:
            start = time.monotonic()

            def done(result: Any, error: Any) -> None:
                with lock:
                    latencies[slot] = time.monotonic() - start if error == 0 else None

            node.inc(callback=done)

        t0 = time.monotonic()
        while (elapsed := time.monotonic() - t0) < step_s:
            due = int(elapsed * rate) + 1 - len(latencies)
            for _ in range(due):
                latencies.append(None)
                issue(len(latencies) - 1)
            time.sleep(0.001)
        time.sleep(ACK_TIMEOUT_S)
        with lock:
            step = _summary(rate, list(latencies))
        steps.append(step)
        if step["ack_ratio"] < SUSTAINED:
            break
    os.write(fd, json.dumps(steps).encode())
    os.close(fd)
    time.sleep(3600)


def run_pysyncobj(rates: list[int], step_s: float) -> list[dict[str, Any]]:
    from smrkit.net.cluster import free_ports

    _ensure_pysyncobj()
    ports = free_ports(3)
    with tempfile.TemporaryDirectory(prefix="pysyncobj-bench-") as tmp:
        out = str(Path(tmp) / "steps.json")
        args = [json.dumps(ports), json.dumps(rates), str(step_s), out]
        procs = [
            subprocess.Popen([sys.executable, __file__, "--pysyncobj-node", str(i), *args])
            for i in range(3)
        ]
        try:
            deadline = time.monotonic() + 60 + len(rates) * (step_s + ACK_TIMEOUT_S + 1)
            while time.monotonic() < deadline:
                if Path(out).exists() and Path(out).stat().st_size > 0:
                    time.sleep(0.2)
                    steps: list[dict[str, Any]] = json.loads(Path(out).read_text())
                    for step in steps:
                        print(f"pysyncobj  {_line(step)}", flush=True)
                    return steps
                if any(p.poll() is not None for p in procs):
                    raise SystemExit("a PySyncObj node exited early")
                time.sleep(0.2)
            raise SystemExit("PySyncObj did not finish in time")
        finally:
            for p in procs:
                p.kill()
                p.wait()


def _line(step: dict[str, Any]) -> str:
    p50 = "-" if step["p50_ms"] is None else f"{step['p50_ms']:.2f}"
    p99 = "-" if step["p99_ms"] is None else f"{step['p99_ms']:.2f}"
    return (
        f"offered {step['rate']:>6} ops/s  acked {step['ack_ratio'] * 100:6.2f} %  "
        f"p50 {p50} ms  p99 {p99} ms"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--pysyncobj-node":
        _, _, index, ports, rates, step_s, out = sys.argv
        pysyncobj_node(int(index), json.loads(ports), json.loads(rates), float(step_s), out)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default=",".join(map(str, DEFAULT_STEPS)))
    parser.add_argument("--step-s", type=float, default=3.0)
    args = parser.parse_args()
    rates = sorted(int(r) for r in args.steps.split(","))
    if LATENCY_RATE not in rates:
        rates = sorted([*rates, LATENCY_RATE])
    smrkit = run_smrkit(rates, args.step_s)
    pso = run_pysyncobj(rates, args.step_s)
    s_ops, s_p50, s_p99 = _result(smrkit)
    p_ops, p_p50, p_p99 = _result(pso)
    print(f"smrkit:    sustained {s_ops} ops/s; at {LATENCY_RATE} ops/s p50 {s_p50} p99 {s_p99} ms")
    print(f"pysyncobj: sustained {p_ops} ops/s; at {LATENCY_RATE} ops/s p50 {p_p50} p99 {p_p99} ms")
    print(
        json.dumps(
            {
                "smrkit_ops_s": s_ops,
                "pysyncobj_ops_s": p_ops,
                "ratio": round(s_ops / p_ops, 3) if p_ops else None,
                "smrkit_p50_ms": None if s_p50 is None else round(s_p50, 3),
                "pysyncobj_p50_ms": None if p_p50 is None else round(p_p50, 3),
                "smrkit_p99_ms": None if s_p99 is None else round(s_p99, 3),
                "pysyncobj_p99_ms": None if p_p99 is None else round(p_p99, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
