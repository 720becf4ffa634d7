"""FLP's run, built for every protocol of issue 12's first list: per protocol and n, the
configurations explored, the seconds, the run's length, the maximal and mean age of a
message when delivered, and who decided (none, when the theorem is shown) — or the
safety property the protocol broke instead.

Each (protocol, n) is built ``--repeats`` times (the run is a pure function of its
arguments, so only the seconds vary; the median is quoted: the machine is shared).
Figures, not assertions. Prints a table, then one JSON line per row.

    .venv/bin/python bench/flp_runs.py [--replicas 3 4] [--steps 60] [--bound 20000]
        [--adversary crash|byzantine] [--protocols NAME ...]
"""

from __future__ import annotations

import argparse
import json
import statistics

from smrkit.explore.flp.lemma2 import build_nondeciding_run
from smrkit.explore.flp.protocols import resolve_binary

PROTOCOLS = (
    "wait-majority",
    "paxos-single",
    "floodset-all",
    "floodset-n-1",
    "tests.explore.flp_protocols:Coordinator",
    "tests.explore.flp_protocols:AllSame",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--bound", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--adversary", choices=["crash", "byzantine"], default="crash")
    parser.add_argument("--protocols", nargs="+", default=list(PROTOCOLS))
    args = parser.parse_args()
    rows = []
    print(f"{'protocol':<42} n  outcome      configs  seconds  steps  max age  mean age  decided")
    for n in args.replicas:
        for name in args.protocols:
            seconds = []
            for _ in range(args.repeats):
                result = build_nondeciding_run(
                    resolve_binary(name), n, args.adversary, steps=args.steps, bound=args.bound
                )
                seconds.append(result.seconds)
            run = result.run if result.run is not None else result.violation_run
            assert run is not None
            outcome = "violation" if result.violation else run.end
            row = {
                "protocol": name,
                "replicas": n,
                "adversary": args.adversary,
                "outcome": outcome,
                "violation": result.violation,
                "configurations": result.explored,
                "seconds_median": round(statistics.median(seconds), 3),
                "steps": len(run.moves),
                "deliveries": run.deliveries,
                "max_message_age": run.max_age,
                "mean_message_age": round(run.mean_age, 2),
                "undelivered_at_end": run.undelivered,
                "decided": run.decided,
                "inputs": [v.label for v in result.lemma1.valencies],
            }
            rows.append(row)
            print(
                f"{name:<42} {n}  {outcome:<11} {result.explored:>8}  "
                f"{row['seconds_median']:>7}  {len(run.moves):>5}  {run.max_age:>7}  "
                f"{run.mean_age:>8.2f}  {','.join(run.decided) or 'none'}",
                flush=True,
            )
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
