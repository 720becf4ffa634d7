"""A partition and its heal in the simulator, with raft's PreVote and CheckQuorum on and off.

For each seed: n = 3 (δ = 10 ms, τ = 50 ms, so an election time-out is 120–240 ms), 4
clients, synchronous timing. At ``--cut`` one server is cut off from the other servers
(both links; the clients still reach every server, as ``smrkit nemesis partition``
does on a real cluster) until ``--heal``: the leader of the moment (``leader``) or a
follower (``follower``). Each run is judged by every check of ``smrkit sim`` and
measured from the clients' acknowledgements:

* ``outage`` — the longest stretch without an acknowledged op that starts between the
  cut and the heal (what the partition cost);
* ``after heal`` — the longest stretch without an ack that starts in the second after
  the heal (what the heal cost: a deposed leader, an election nobody needed);
* ``next ack`` — from the heal to the next acknowledged op;
* ``deposed`` — runs in which a leader was elected after the heal.

Prints one row per case and rule set (medians and maxima over the seeds), then one JSON
line. ``pre_vote`` and ``check_quorum`` are :class:`smrkit.protocols.raft.RaftConfig`'s;
"both off" is the Raft paper's Figure 2.

    python bench/raft_partition.py [--seeds 30] [--cut 0.5] [--heal 1.5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from dataclasses import replace
from typing import Any

from smrkit.check.evaluate import evaluate_run
from smrkit.protocols.raft import RaftNode
from smrkit.sim.kernel.records import COMPLETE, ELECTED
from smrkit.sim.world import SimConfig, SimRun, build_simulator

RULES = {
    "both on": (True, True),
    "pre_vote off": (False, True),
    "check_quorum off": (True, False),
    "both off": (False, False),
}
SERVERS = ("p1", "p2", "p3")


def simulate(seed: int, faults: tuple[str, ...], pre_vote: bool, check_quorum: bool) -> SimRun:
    config = SimConfig(protocol="raft", replicas=3, ops=800, faults=faults, seed=seed)
    simulator, run = build_simulator(config)
    for node in simulator.world.nodes.values():
        if isinstance(node, RaftNode):
            node.config = replace(node.config, pre_vote=pre_vote, check_quorum=check_quorum)
    simulator.run()
    return run


def leader_at(run: SimRun, t: float) -> str | None:
    elected = [(e.t, e.node) for e in run.trace.events if e.kind == ELECTED and e.t <= t]
    return elected[-1][1] if elected else None


def cut_off(node: str, cut: float, heal: float) -> tuple[str, ...]:
    return tuple(f"link:{node}-{other}@{cut}..{heal}" for other in SERVERS if other != node)


def measure(run: SimRun, cut: float, heal: float) -> dict[str, Any]:
    acks = sorted(e.t for e in run.trace.events if e.kind == COMPLETE and e.data[0] == "ok")
    gaps = list(itertools.pairwise(acks))
    during = [b - a for a, b in gaps if cut <= b and a <= heal]
    after = [b - a for a, b in gaps if heal <= b and a <= heal + 1.0]
    following = [t for t in acks if t >= heal]
    elected = [e.t for e in run.trace.events if e.kind == ELECTED]
    return {
        "ok": evaluate_run(run).ok,
        "outage_s": max(during, default=None),
        "after_heal_s": max(after, default=None),
        "next_ack_s": following[0] - heal if following else None,
        "deposed": any(t > heal for t in elected),
        "covered": bool(acks) and acks[-1] > heal + 1.0,
    }


def spread(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values) * 1000:6.0f} ms (max {max(values) * 1000:4.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--cut", type=float, default=0.5)
    parser.add_argument("--heal", type=float, default=1.5)
    args = parser.parse_args(argv)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for case in ("leader", "follower"):
        for seed in range(1, args.seeds + 1):
            leader = leader_at(simulate(seed, (), True, True), args.cut)
            if leader is None:
                continue
            target = leader if case == "leader" else next(s for s in SERVERS if s != leader)
            for name, (pre_vote, check_quorum) in RULES.items():
                faults = cut_off(target, args.cut, args.heal)
                run = simulate(seed, faults, pre_vote, check_quorum)
                row = measure(run, args.cut, args.heal)
                row["seed"] = seed
                results.setdefault(case, {}).setdefault(name, []).append(row)
    print(
        f"raft, n = 3, δ = 10 ms, τ = 50 ms: one server cut off from the others "
        f"{args.cut:g}–{args.heal:g} s, seeds 1..{args.seeds}"
    )
    print(
        f"{'cut off':9} {'rules':17} {'runs':>4} {'checks':>6}  {'outage (median, max)':24}"
        f"{'after the heal':24}{'next ack after heal':24}deposed after heal"
    )
    for case, by_rules in results.items():
        for name, rows in by_rules.items():
            checks = sum(1 for r in rows if r["ok"])
            print(
                f"{case:9} {name:17} {len(rows):>4} {checks:>6}  "
                f"{spread([r['outage_s'] for r in rows if r['outage_s'] is not None]):24}"
                f"{spread([r['after_heal_s'] for r in rows if r['after_heal_s'] is not None]):24}"
                f"{spread([r['next_ack_s'] for r in rows if r['next_ack_s'] is not None]):24}"
                f"{sum(1 for r in rows if r['deposed'])} of {len(rows)}"
                + ("" if all(r["covered"] for r in rows) else "  (some runs ended too soon)")
            )
    print(json.dumps({"cut": args.cut, "heal": args.heal, "results": results}))
    failed = any(
        not r["ok"] for by_rules in results.values() for rows in by_rules.values() for r in rows
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
