"""How fast a real cluster heals: faults of its primary in a row on one cluster, and
for each, how long the service went without acknowledging anything and how long after
the heal it served again.

One 3-replica cluster of ``--protocol`` (default pb-general-omission), under its
supervisors, with ``--clients`` clients each issuing a put every ``--interval``
seconds (open loop: one op in flight per client at most, given up after 2 s). Faults
take turns (``--faults kill,partition``), each aimed at the primary of the moment,
``--gap`` seconds apart:

* ``kill`` — SIGKILL; nothing heals it but the replica's supervisor, which starts a new
  incarnation from its disk after its back-off; the heal is when that incarnation
  serves;
* ``partition`` — cut off from the other replicas for ``--hold`` seconds, then healed
  (a pb-general-omission primary halts itself, and its supervisor restarts it).

Per fault: ``outage`` — the longest stretch with no acknowledged op from the fault to
10 s after its heal; ``after heal`` — from the heal to the first acknowledged op
invoked after it; ``restart`` — for a kill, from the kill to the new incarnation
serving. Prints one line per fault and the medians; the last line is JSON. Figures,
not assertions.

    python bench/cluster_recovery.py [--rounds 6] [--faults kill,partition]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from smrkit.net import nemesis
from smrkit.net.admin import status_all
from smrkit.net.client import Client
from smrkit.net.cluster import down_cluster, init_cluster, up_cluster
from smrkit.net.config import ClusterConfig

OP_TIMEOUT_S = 2.0
HEAL_WAIT_S = 30.0
"""How long a killed replica may take to serve again before it counts as not healed."""


class Acks:
    """When each op was invoked and acknowledged (monotonic seconds)."""

    def __init__(self) -> None:
        self.ops: list[tuple[float, float]] = []

    def outage(self, start: float, end: float) -> float:
        """The longest stretch in [start, end] with no acknowledgement."""
        acks = sorted(done for _, done in self.ops if start <= done <= end)
        points = [start, *acks, end]
        return max(b - a for a, b in itertools.pairwise(points))

    def first_after(self, instant: float) -> float | None:
        done = [d for called, d in self.ops if called >= instant]
        return min(done) - instant if done else None


async def _client(
    config: ClusterConfig, index: int, acks: Acks, stop: asyncio.Event, interval: float
) -> None:
    async with Client(config, op_timeout_s=OP_TIMEOUT_S) as client:
        count = 0
        while not stop.is_set():
            began = time.monotonic()
            count += 1
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.put(f"k{index}", str(count)), OP_TIMEOUT_S)
                acks.ops.append((began, time.monotonic()))
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))


async def _statuses(config: ClusterConfig) -> dict[str, Any]:
    return await status_all(config)


async def _primary(config: ClusterConfig) -> str | None:
    statuses = await _statuses(config)
    live = [r for r, s in statuses.items() if s.get("ok") and s.get("is_primary")]
    return live[0] if len(live) == 1 else None


async def _serving_again(config: ClusterConfig, replica: str, incarnation: int) -> float:
    while True:
        status = (await _statuses(config))[replica]
        if (
            status.get("ok")
            and status.get("serving")
            and status.get("incarnation", 1) > incarnation
        ):
            return time.monotonic()
        await asyncio.sleep(0.05)


async def run(config: ClusterConfig, args: argparse.Namespace) -> list[dict[str, Any]]:
    acks = Acks()
    stop = asyncio.Event()
    clients = [
        asyncio.ensure_future(_client(config, i, acks, stop, args.interval))
        for i in range(args.clients)
    ]
    kinds = args.faults.split(",")
    faults: list[dict[str, Any]] = []
    try:
        await asyncio.sleep(args.gap)
        for i in range(args.rounds):
            kind = kinds[i % len(kinds)]
            target = await _primary(config)
            if target is None:
                faults.append({"kind": kind, "error": "no single primary to aim at"})
                await asyncio.sleep(args.gap)
                continue
            incarnation = (await _statuses(config))[target].get("incarnation", 1)
            start = time.monotonic()
            healed: float | None
            if kind == "kill":
                nemesis.kill(config, target)
                try:
                    healed = await asyncio.wait_for(
                        _serving_again(config, target, incarnation), HEAL_WAIT_S
                    )
                except TimeoutError:
                    healed = None  # nothing brought it back
            else:
                await nemesis.block(config, nemesis.partition_links(config, [target]))
                await asyncio.sleep(args.hold)
                await nemesis.heal(config)
                healed = time.monotonic()
            await asyncio.sleep(args.gap)
            after = None if healed is None else acks.first_after(healed)
            end = time.monotonic() if healed is None else min(time.monotonic(), healed + 10)
            fault = {
                "kind": kind,
                "target": target,
                "outage_s": acks.outage(start, end),
                "after_heal_s": after,
                "healed_after_s": None if healed is None else healed - start,
            }
            faults.append(fault)
            print(
                f"{kind} {target}: outage {fault['outage_s']:.2f} s, "
                + (
                    f"not healed within {HEAL_WAIT_S:.0f} s"
                    if healed is None
                    else f"healed after {healed - start:.2f} s"
                )
                + ", served "
                + ("never" if after is None else f"{after:.3f} s")
                + " after the heal",
                flush=True,
            )
    finally:
        stop.set()
        await asyncio.gather(*clients, return_exceptions=True)
    return faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="pb-general-omission")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--faults", default="kill,partition")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--hold", type=float, default=3.0, help="seconds a partition lasts")
    parser.add_argument("--gap", type=float, default=6.0, help="seconds between faults")
    parser.add_argument("--delta", type=float, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smrkit-recovery-") as tmp:
        options: dict[str, Any] = {}
        if args.delta is not None:
            options = {"delta_s": args.delta, "tau_s": 2 * args.delta}
        config = init_cluster(Path(tmp) / "c", protocol=args.protocol, replicas=3, **options)
        try:
            up_cluster(config)
            faults = asyncio.run(run(config, args))
            statuses = asyncio.run(status_all(config))
        finally:
            down_cluster(config, timeout_s=3.0)
    done = [f for f in faults if "error" not in f]
    for kind in sorted({f["kind"] for f in done}):
        mine = [f for f in done if f["kind"] == kind]
        served = [f["after_heal_s"] for f in mine if f["after_heal_s"] is not None]
        healed = [f["healed_after_s"] for f in mine if f["healed_after_s"] is not None]
        print(
            f"{kind}: {len(mine)} faults; outage median "
            f"{statistics.median(f['outage_s'] for f in mine):.2f} s (max "
            f"{max(f['outage_s'] for f in mine):.2f}); healed {len(healed)} of {len(mine)}"
            + (f", after median {statistics.median(healed):.2f} s" if healed else "")
            + "; served after the "
            f"heal in {len(served)} of {len(mine)}, median "
            + (f"{statistics.median(served):.3f} s" if served else "–")
        )
    outages = [f["outage_s"] for f in done]
    late = sum(
        s.get("timing", {}).get("late_messages", 0) for s in statuses.values() if s.get("ok")
    )
    print(
        f"all {len(done)} faults: outage median {statistics.median(outages):.2f} s; "
        f"config δ = {config.delta_s:g} s, τ = {config.tau_s:g} s; late messages "
        f"{late}"
    )
    print(json.dumps({"protocol": args.protocol, "faults": faults}))


if __name__ == "__main__":
    main()
