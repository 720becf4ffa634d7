"""10,000 seeds of random admissible fault plans for every row of Table 1 (f = 1 and 2).

The rows are those of ``smrkit bounds``: for each failure model and f, smrkit's protocol
for that model with the fewest servers that tolerate f. Each row is one run of the real
command, ``smrkit sweep --protocol P --replicas N --seeds 0..9999 --json --quiet``
(4 clients × 300 ops, δ = 10 ms, τ = 50 ms, faults anywhere in the failure-free run's
length, every core). Per row it prints the runs, the violations, the largest failover
against its target, the largest blocking against its target, and the seconds the row
took (and, with untrusted clients, the most periods of the target Δ it took to cover a
run's unanswered requests, against the target k); then the first failures of any row
with their replay commands; and as its last line one JSON object with every row. Exit
status 1 if any row has a violation.

With ``--untrusted-clients`` it sweeps the rows whose protocol takes a client's word
(the omission rows) with clients untrusted instead: backups relay, and every plan also
has a faulty server omit towards one client (``smrkit sweep --untrusted-clients``).

    python bench/sweep.py [--seeds 10000] [--f 1,2] [--workers N] [--untrusted-clients]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from smrkit.explore.bounds import PROTOCOL_FOR, replicas_for
from smrkit.protocols.registry import get_protocol


def rows(fs: list[int], *, untrusted: bool = False) -> list[tuple[str, str, int, int]]:
    """(failure model, protocol, n, f) for every row of Table 1 with these f; with
    ``untrusted``, only the rows whose protocol claims otherwise without a client's word."""
    found = []
    for f in fs:
        for model, name in PROTOCOL_FOR.items():
            spec = get_protocol(name)
            if not untrusted or spec.untrusted_claims is not None:
                found.append((model.value, name, replicas_for(spec, f), f))
    return found


def sweep_row(
    name: str, n: int, seeds: int, workers: int | None, *, untrusted: bool = False
) -> tuple[dict[str, Any], float]:
    command = [
        sys.executable, "-m", "smrkit", "sweep", "--protocol", name, "--replicas", str(n),
        "--seeds", f"0..{seeds - 1}", "--json", "--quiet",
    ]  # fmt: skip
    if untrusted:
        command.append("--untrusted-clients")
    if workers is not None:
        command += ["--workers", str(workers)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr)
        raise SystemExit(f"smrkit sweep failed for {name} (exit {done.returncode})")
    data: dict[str, Any] = json.loads(done.stdout)
    return data, seconds


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10_000, help="seeds per row")
    parser.add_argument("--f", default="1,2", help="numbers of failures, e.g. 1,2")
    parser.add_argument("--workers", type=int, help="processes [default: every core]")
    parser.add_argument(
        "--untrusted-clients", action="store_true", help="the omission rows, clients untrusted"
    )
    args = parser.parse_args(argv)
    fs = [int(part) for part in args.f.split(",")]
    header = (
        f"{'model':<17} {'protocol':<20} {'n':>2} {'f':>2} {'runs':>7} {'viol.':>6} "
        f"{'failover ms':>11} {'target':>7} {'blocking ms':>11} {'target':>7} {'seconds':>8}"
        + (f" {'outages':>7} {'k':>3}" if args.untrusted_clients else "")
    )
    print(header)
    print("─" * len(header))
    results = []
    started = time.perf_counter()
    for model, name, n, f in rows(fs, untrusted=args.untrusted_clients):
        data, seconds = sweep_row(
            name, n, args.seeds, args.workers, untrusted=args.untrusted_clients
        )
        target = data["target"]
        print(
            f"{model:<17} {name:<20} {n:>2} {f:>2} {data['runs']:>7,} {data['violations']:>6,} "
            f"{_ms(data['failover_s_max']):>11} {_ms(target.get('failover_s')):>7} "
            f"{_ms(data['blocking_s_max']):>11} {_ms(target.get('blocking_s')):>7} "
            f"{seconds:>8.1f}"
            + (
                f" {data['outage_periods_max']:>7} {target.get('outage_count')!s:>3}"
                if args.untrusted_clients
                else ""
            ),
            flush=True,
        )
        results.append(
            {
                "model": model,
                "protocol": name,
                "replicas": n,
                "f": f,
                "runs": data["runs"],
                "violations": data["violations"],
                "checks_broken": {k: v for k, v in data["checks_broken"].items() if v},
                "failover_s_max": data["failover_s_max"],
                "failover_s_target": target.get("failover_s"),
                "blocking_s_max": data["blocking_s_max"],
                "blocking_s_target": target.get("blocking_s"),
                "outage_periods_max": data["outage_periods_max"],
                "outage_count_target": target.get("outage_count"),
                "beyond_targets": data["beyond_targets"],
                "failed_examples": data["failed_examples"],
                "seconds": round(seconds, 1),
            }
        )
    for row in results:
        for example in row["failed_examples"]:
            print(f"failed: {', '.join(example['failed'])} — {example['replay']}")
    violations = sum(row["violations"] for row in results)
    print(
        json.dumps(
            {
                "rows": results,
                "runs": sum(row["runs"] for row in results),
                "violations": violations,
                "beyond_targets": sum(len(row["beyond_targets"]) for row in results),
                "seconds": round(time.perf_counter() - started, 1),
                "seeds_per_row": args.seeds,
                "cores": os.cpu_count(),
            }
        )
    )
    return 0 if violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
