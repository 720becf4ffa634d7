"""How often a real cluster breaks the timing its protocol assumes, for several δ, on a
busy machine: the late messages and late timers the replicas count (``timing`` in
``smrkit cluster status``), and whether the run ended with exactly one primary.

For each δ of ``--deltas`` (τ = 2δ, as ``cluster init`` pairs them) and each of
``--runs`` runs: a fresh 3-replica cluster of ``--protocol`` in a temporary directory,
``--clients`` closed-loop clients putting as fast as they are answered for ``--time``
seconds while ``--burners`` processes spin on the CPU (the machine's own load comes
on top: on a shared machine it is noisy, so the figures are medians and ranges over
runs, measured interleaved), then every replica's status. Prints a line per run and
a summary per δ; the last line is JSON with every run. Figures, not assertions.

    python bench/cluster_timing.py [--deltas 0.05,0.1,0.25] [--runs 3] [--time 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from smrkit.net.admin import status_all
from smrkit.net.client import Client
from smrkit.net.cluster import down_cluster, init_cluster, up_cluster
from smrkit.net.config import ClusterConfig

BURNER = "import time\nwhile True:\n    time.process_time()\n"


async def _load(config: ClusterConfig, clients: int, time_s: float) -> int:
    done = 0
    stop_at = time.monotonic() + time_s

    async def worker(w: int) -> None:
        nonlocal done
        async with Client(config, op_timeout_s=5.0) as client:
            while time.monotonic() < stop_at:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.put(f"k{w}", str(done)), 5.0)
                    done += 1

    await asyncio.gather(*(worker(w) for w in range(clients)))
    return done


def one_run(protocol: str, delta_s: float, clients: int, time_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smrkit-timing-") as tmp:
        config = init_cluster(
            Path(tmp) / "c", protocol=protocol, replicas=3, delta_s=delta_s, tau_s=2 * delta_s
        )
        try:
            up_cluster(config)
            ops = asyncio.run(_load(config, clients, time_s))
            statuses = asyncio.run(status_all(config))
        finally:
            down_cluster(config, timeout_s=3.0)
    live = {r: s for r, s in statuses.items() if s.get("ok")}
    return {
        "delta_s": delta_s,
        "ops": ops,
        "late_messages": sum(s["timing"]["late_messages"] for s in live.values()),
        "late_timers": sum(s["timing"]["late_timers"] for s in live.values()),
        "primaries": sorted(r for r, s in live.items() if s.get("is_primary")),
        "live": len(live),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="pb-general-omission")
    parser.add_argument("--deltas", default="0.05,0.1,0.25")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--time", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--burners", type=int, default=2)
    args = parser.parse_args()
    deltas = [float(d) for d in args.deltas.split(",")]
    burners = [
        subprocess.Popen([sys.executable, "-c", BURNER]) for _ in range(max(0, args.burners))
    ]
    runs: list[dict[str, Any]] = []
    try:
        for i in range(args.runs):
            for delta_s in deltas:  # interleaved: the machine's noise hits every δ alike
                run = one_run(args.protocol, delta_s, args.clients, args.time)
                runs.append(run)
                print(
                    f"run {i + 1} δ = {delta_s:g} s: {run['ops']} ops, late messages "
                    f"{run['late_messages']}, late timers {run['late_timers']}, primaries "
                    f"{','.join(run['primaries']) or 'none'}, load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    finally:
        for burner in burners:
            burner.send_signal(signal.SIGKILL)
            burner.wait()
    for delta_s in deltas:
        mine = [r for r in runs if r["delta_s"] == delta_s]
        late = [r["late_messages"] for r in mine]
        timers = [r["late_timers"] for r in mine]
        ops = [r["ops"] for r in mine]
        one_primary = sum(len(r["primaries"]) == 1 for r in mine)
        print(
            f"δ = {delta_s:g} s, τ = {2 * delta_s:g} s: late messages median "
            f"{statistics.median(late):g} (range {min(late)}–{max(late)}), late timers median "
            f"{statistics.median(timers):g} (range {min(timers)}–{max(timers)}), ops median "
            f"{statistics.median(ops):g}; one primary at the end in {one_primary} of {len(mine)}"
        )
    print(json.dumps({"protocol": args.protocol, "burners": args.burners, "runs": runs}))


if __name__ == "__main__":
    main()
