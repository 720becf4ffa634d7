"""2,000 seeds of Raft under random fault plans within f, partially synchronous.

Each seed draws a plan of :mod:`smrkit.explore.recovery_plans` — crashes (some in the
middle of a step), restarts, crash-restart cycles, general/send/receive omission
windows (total or lossy), cut links and partitions of the faulty servers, at most f
faulty servers — and a GST; the run (4 clients × 300 ops, δ = 10 ms, τ = 50 ms) is
judged by every check of ``smrkit sim``: linearizable, log agreement, election safety,
leader completeness, n = 2f + 1, every request answered after GST. It prints the runs,
the violations by check, and the liveness figures after GST over the runs that have
them, in δ: time to a leader that commits after GST, time to elect after each leader's
crash (all of them, and those at or after GST), and commit latency (from the leader's
receipt of a request to its commit; each run's median and p99, then their median and
p99 over the runs); then the failing seeds
with the command that replays each; and as its last line one JSON object. Exit status 1
if any run broke a check.

    python bench/raft_sweep.py [--protocol raft] [--replicas 5] [--seeds 2000]
                               [--ops 300] [--workers 2]

``--protocol raft-unsafe-commit`` sweeps the broken variant the same way (see the
README for what random plans find of its Figure 8).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from typing import Any

from smrkit.explore.recovery_plans import recovery_config
from smrkit.explore.sweep import Outcome, failure_free_length, judge_stream
from smrkit.sim.world import SimConfig


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def figures(outcomes: list[Outcome]) -> dict[str, Any]:
    """The liveness figures over the runs, in δ (see the module docstring)."""
    after_gst = [o.measured["elect_after_gst_delta"] for o in outcomes]
    crashes = [c for o in outcomes for c in o.measured.get("leader_crashes", [])]
    elect = [c["elect_delta"] for c in crashes]
    elect_after_gst = [c["elect_delta"] for c in crashes if c["after_gst"]]
    medians = [o.measured["commit_latency"]["median_delta"] for o in outcomes]
    p99s = [o.measured["commit_latency"].get("p99_delta") for o in outcomes]

    def summary(values: list[Any]) -> dict[str, Any]:
        known = [v for v in values if v is not None]
        return {
            "count": len(known),
            "none": len(values) - len(known),
            "median": quantile(known, 0.5),
            "p99": quantile(known, 0.99),
            "max": max(known) if known else None,
        }

    return {
        "elect_after_gst_delta": summary(after_gst),
        "elect_after_leader_crash_delta": summary(elect),
        "elect_after_leader_crash_after_gst_delta": summary(elect_after_gst),
        "commit_latency_median_delta": summary(medians),
        "commit_latency_p99_delta": summary(p99s),
    }


def _line(name: str, figure: dict[str, Any]) -> str:
    def f(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f} δ"

    return (
        f"  {name:<44} median {f(figure['median'])}, p99 {f(figure['p99'])}, "
        f"max {f(figure['max'])} ({figure['count']} values; {figure['none']} without)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocol", default="raft")
    parser.add_argument("--replicas", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=2000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    base = SimConfig(
        protocol=args.protocol,
        replicas=args.replicas,
        clients=4,
        ops=args.ops,
        timing="partial-sync",
        gst_s=0.0,
        time_limit_s=120.0,
    )
    horizon = round(failure_free_length(base), 3)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    configs = {seed: recovery_config(base, seed, horizon) for seed in seeds}
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    for outcome in judge_stream(configs.values(), workers=args.workers):
        outcomes.append(outcome)
        if len(outcomes) % 100 == 0:  # progress, and the failures so far, on stderr
            bad = [o.seed for o in outcomes if not o.ok]
            print(f"  {len(outcomes)} seeds judged; failing: {bad[:20]}", file=sys.stderr)
    seconds = time.perf_counter() - started
    failed = [o for o in outcomes if not o.ok]
    broken = Counter(name for o in failed for name in o.failed)
    plan_kinds = Counter(spec.split(":")[0] for o in outcomes for spec in o.faults)
    found = figures([o for o in outcomes if o.error is None])
    print(
        f"{args.protocol}, n = {args.replicas}: {len(outcomes)} seeds "
        f"({args.first_seed}..{args.first_seed + args.seeds - 1}), horizon {horizon} s, "
        f"{seconds:.0f} s on {args.workers} workers"
    )
    print(f"  faults drawn: {dict(sorted(plan_kinds.items()))}")
    print(f"  violations: {len(failed)} runs; by check: {dict(sorted(broken.items()))}")
    for name, figure in found.items():
        print(_line(name, figure))
    for outcome in failed[:10]:
        config = configs[outcome.seed]
        print(f"  seed {outcome.seed} broke {', '.join(outcome.failed)}: replay with")
        print(f"    {outcome.replay_hint(config)}")
    print(
        json.dumps(
            {
                "protocol": args.protocol,
                "replicas": args.replicas,
                "seeds": len(outcomes),
                "first_seed": args.first_seed,
                "horizon_s": horizon,
                "violations": len(failed),
                "broken": dict(broken),
                "failing_seeds": [o.seed for o in failed][:100],
                "figures": found,
                "seconds": round(seconds, 1),
            }
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
