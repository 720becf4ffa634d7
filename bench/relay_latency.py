"""What the relay of an untrusted client costs: a relayed command against a direct one.

A 3-replica pb-general-omission cluster on loopback, two client sessions in one run,
taking turns: one talks to the primary p1 directly; the other is cut off from p1 by the
nemesis (``p1->SESSION`` and ``SESSION->p1`` blocked), so after one time-out it turns to
p2, which relays its commands to p1 over the server link and passes the replies back
(:mod:`smrkit.protocols.primary_backup.client_relay`). Prints, for ``--ops`` puts each
(after ``--warmup``), the median and 90th percentile latency in ms of each session, the
ratio of the medians (relayed / direct), what p2 relayed, and one JSON line. Figures,
not assertions.

    python bench/relay_latency.py [--ops 500] [--warmup 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from smrkit.net import nemesis
from smrkit.net.admin import status_all
from smrkit.net.client import BlockingClient
from smrkit.net.cluster import down_cluster, init_cluster, up_cluster


def timed_put(client: BlockingClient, key: str, value: str) -> float:
    started = time.perf_counter()
    client.put(key, value)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=500, help="timed puts per session")
    parser.add_argument("--warmup", type=int, default=50, help="untimed puts first")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        config = init_cluster(Path(tmp) / "c", protocol="pb-general-omission", replicas=3)
        up_cluster(config)
        try:
            with BlockingClient(config) as direct, BlockingClient(config) as relayed:
                direct.put("d", "0")
                relayed.put("r", "0")  # opens the session, through p1
                (session,) = relayed._client._session_ids
                links = {
                    nemesis.parse_link(f"p1->{session}", config),
                    nemesis.parse_link(f"{session}->p1", config),
                }
                asyncio.run(nemesis.block(config, links))
                first_s = timed_put(relayed, "r", "first")  # one time-out, then relayed
                times: dict[str, list[float]] = {"direct": [], "relayed": []}
                for i in range(args.warmup + args.ops):
                    d = timed_put(direct, "d", str(i))
                    r = timed_put(relayed, "r", str(i))
                    if i >= args.warmup:
                        times["direct"].append(d)
                        times["relayed"].append(r)
                dest = relayed._client.dest
            statuses = asyncio.run(status_all(config))
        finally:
            down_cluster(config)
    figures: dict[str, object] = {"ops": args.ops, "first_relayed_s": round(first_s, 3)}
    for name, values in times.items():
        median = statistics.median(values) * 1000
        p90 = statistics.quantiles(values, n=10)[-1] * 1000
        figures[f"{name}_p50_ms"] = round(median, 3)
        figures[f"{name}_p90_ms"] = round(p90, 3)
        print(f"{name:>8}: p50 {median:7.3f} ms  p90 {p90:7.3f} ms")
    ratio = float(figures["relayed_p50_ms"]) / float(figures["direct_p50_ms"])  # type: ignore[arg-type]
    figures["ratio_p50"] = round(ratio, 2)
    figures["relayed_dest"] = dest
    figures["p2_relayed"] = statuses["p2"]["relayed"]
    figures["client_timeout_s"] = config.client_timeout_s()
    print(
        f"relayed/direct (medians): {ratio:.2f}; the first relayed put took {first_s:.3f} s "
        f"(one time-out of {config.client_timeout_s()} s); the relayed session's Dest: {dest}; "
        f"p2 relayed {statuses['p2']['relayed']}"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
