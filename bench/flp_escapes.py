"""What escapes FLP, measured (issue 12 §4): randomization, partial synchrony, and
processes that can only be dead from the start.

1. ``ben-or`` — Ben-Or's randomized consensus under ``async`` timing, over ``--seeds``
   seeds per row, under three adversaries: the seeded random order, oldest first (fair),
   and ``split`` (delivers to each process first the value it has heard least of, to
   keep reports split and force coin flips); with f crashes at seeded steps in some
   rows. Every run is judged by smrkit's consensus checks (termination, agreement,
   validity); the table gives the distribution of the round of the last decision.
2. ``paxos-timeouts`` — single-decree Paxos with proposer time-outs under
   ``partial-sync`` timing (δ = 10 ms, delays up to 10δ and reordering before GST =
   1 s): the time from GST to the last process's decision, over seeds; a run whose
   processes all decided before GST counts as ``before GST`` (its figure is negative).
3. ``initially-dead`` — FLP §4's protocol, model-checked: every schedule of every case
   (binary inputs × processes dead from the start, at most t) for n = 3, t = 1 and for
   n = 5, t = 2 with two dead; with one or none dead (n = 5), one case per class up to
   renaming processes. A case whose search exceeds ``--max-states`` unique states is
   reported as ``holds so far``. Then ``--seeds`` simulated runs of n = 5 with a random set of at
   most two dead processes under the random order.
4. With ``--flp`` (when the FLP engine is present), the FLP adversary run on ``ben-or``.

Figures, not assertions: a row that falls short says so in its columns. Prints tables,
then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time
from collections.abc import Sequence
from typing import Any

from smrkit.check.evaluate import evaluate_consensus_run
from smrkit.explore.initially_dead import explore_initially_dead
from smrkit.protocols.consensus.ben_or import BenOr
from smrkit.protocols.consensus.paxos_timeouts import TimedPaxos
from smrkit.sim.world import SimConfig, run_simulation


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in (0, 100])."""
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)]


def _crashes(rng: random.Random, n: int, count: int, within: int) -> tuple[str, ...]:
    victims = rng.sample([f"p{i}" for i in range(1, n + 1)], count)
    return tuple(f"crash:{p}@{rng.randint(0, within)}" for p in sorted(victims))


def ben_or_row(n: int, schedule: str, crashes: int, seeds: int) -> dict[str, Any]:
    """``seeds`` runs of ben-or with n processes (inputs 0, 1, 0, …)."""
    rounds: list[int] = []
    steps: list[float] = []
    coins: list[int] = []
    failed: dict[str, int] = {}
    undecided = 0
    started = time.perf_counter()
    for seed in range(seeds):
        faults = _crashes(random.Random(f"{seed}/crashes"), n, crashes, 200) if crashes else ()
        run = run_simulation(
            SimConfig(
                protocol="ben-or",
                replicas=n,
                timing="async",
                schedule=schedule,
                seed=seed,
                faults=faults,
                time_limit_s=1_000_000,
            )
        )
        evaluation = evaluate_consensus_run(run)
        for name in evaluation.failed:
            failed[name] = failed.get(name, 0) + 1
        processes = [node for node in run.nodes.values() if isinstance(node, BenOr)]
        decided = [node for node in processes if node.decided]
        if not evaluation.checks["termination"].ok:
            undecided += 1
        if decided:
            rounds.append(max(node.decided_round for node in decided))
            steps.append(evaluation.measured()["last_decision_at"])
        coins.append(sum(node.coins for node in processes))
    return {
        "protocol": "ben-or",
        "n": n,
        "f": (n - 1) // 2,
        "schedule": schedule,
        "crashes": crashes,
        "runs": seeds,
        "undecided_runs": undecided,
        "failed_checks": failed,
        "rounds_median": statistics.median(rounds) if rounds else None,
        "rounds_p99": percentile(rounds, 99) if rounds else None,
        "rounds_max": max(rounds, default=None),
        "rounds_histogram": {r: rounds.count(r) for r in sorted(set(rounds))},
        "steps_median": statistics.median(steps) if steps else None,
        "coins_mean": statistics.fmean(coins) if coins else 0.0,
        "wall_s": time.perf_counter() - started,
    }


def paxos_row(
    n: int, crashes: tuple[str, ...], seeds: int, gst: float, delta: float
) -> dict[str, Any]:
    """``seeds`` runs of paxos-timeouts under partial-sync with GST = ``gst``."""
    after: list[float] = []
    ballots: list[int] = []
    failed: dict[str, int] = {}
    before_gst = 0
    started = time.perf_counter()
    for seed in range(seeds):
        run = run_simulation(
            SimConfig(
                protocol="paxos-timeouts",
                replicas=n,
                timing="partial-sync",
                gst_s=gst,
                delta_s=delta,
                seed=seed,
                faults=crashes,
                time_limit_s=gst + 60.0,
            )
        )
        evaluation = evaluate_consensus_run(run)
        for name in evaluation.failed:
            failed[name] = failed.get(name, 0) + 1
        last = evaluation.measured()["last_decision_at"]
        if evaluation.ok and last is not None:
            after.append(last - gst)
            before_gst += last < gst
        ballots.append(
            sum(node.ballots_led for node in run.nodes.values() if isinstance(node, TimedPaxos))
        )
    return {
        "protocol": "paxos-timeouts",
        "n": n,
        "faults": list(crashes),
        "gst_s": gst,
        "delta_s": delta,
        "runs": seeds,
        "failed_checks": failed,
        "decided_before_gst": before_gst,
        "after_gst_min_s": min(after, default=None),
        "after_gst_median_s": statistics.median(after) if after else None,
        "after_gst_p99_s": percentile(after, 99) if after else None,
        "after_gst_max_s": max(after, default=None),
        "ballots_median": statistics.median(ballots),
        "ballots_max": max(ballots),
        "wall_s": time.perf_counter() - started,
    }


def dead_exploration(
    n: int, t: int, max_states: int, dead_counts: tuple[int, ...], up_to_renaming: bool
) -> dict[str, Any]:
    started = time.perf_counter()
    exploration = explore_initially_dead(
        n, t, max_states=max_states, dead_counts=dead_counts, up_to_renaming=up_to_renaming
    )
    by_dead: dict[int, dict[str, Any]] = {}
    for case in exploration.cases:
        row = by_dead.setdefault(
            len(case.dead),
            {"cases": 0, "complete": 0, "unique": 0, "states": 0, "max_depth": 0, "sec": 0.0},
        )
        row["cases"] += 1
        row["complete"] += case.result.complete
        row["unique"] += case.result.unique
        row["states"] += case.result.states
        row["max_depth"] = max(row["max_depth"], case.result.max_depth)
        row["sec"] += case.result.sec
    return {
        "n": n,
        "t": t,
        "dead_counts": list(dead_counts),
        "up_to_renaming": up_to_renaming,
        "max_states": max_states,
        "cases": len(exploration.cases),
        "complete": exploration.complete,
        "violations": [
            {"inputs": list(case.inputs), "dead": list(case.dead), "property": name}
            for case, name in exploration.violations
        ],
        "unique": exploration.unique,
        "states": exploration.states,
        "max_depth": exploration.max_depth,
        "search_s": exploration.seconds,
        "wall_s": time.perf_counter() - started,
        "by_dead": by_dead,
    }


def dead_runs(n: int, t: int, seeds: int) -> dict[str, Any]:
    failed: dict[str, int] = {}
    started = time.perf_counter()
    for seed in range(seeds):
        rng = random.Random(f"{seed}/dead")
        inputs = tuple(rng.randint(0, 1) for _ in range(n))
        dead = rng.sample([f"p{i}" for i in range(1, n + 1)], rng.randint(0, t))
        run = run_simulation(
            SimConfig(
                protocol="initially-dead",
                replicas=n,
                timing="async",
                seed=seed,
                inputs=inputs,
                faults=tuple(f"crash:{p}@0" for p in sorted(dead)),
                time_limit_s=1_000_000,
            )
        )
        for name in evaluate_consensus_run(run).failed:
            failed[name] = failed.get(name, 0) + 1
    wall = time.perf_counter() - started
    return {"n": n, "t": t, "runs": seeds, "failed_checks": failed, "wall_s": wall}


def _v(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value * 1000:.1f} ms" if unit == "ms" else f"{value:g}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--max-states", type=int, default=100_000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["ben-or", "paxos", "dead"])
    args = parser.parse_args()
    figures: dict[str, Any] = {"seeds": args.seeds}

    if "ben-or" not in args.skip:
        rows = [
            ben_or_row(n, schedule, crashes, args.seeds)
            for n, crashes in ((3, 0), (5, 0), (5, 2))
            for schedule in ("random", "oldest", "split")
        ]
        figures["ben_or"] = rows
        print(f"ben-or under async, inputs 0,1,0,…, {args.seeds} seeds per row")
        print(
            f"{'n':>2} {'f':>2} {'schedule':<8} {'crashes':>7} {'undecided':>9} "
            f"{'failed':>6} {'rounds med':>10} {'p99':>4} {'max':>4} {'steps med':>9} "
            f"{'coins/run':>9}"
        )
        for row in rows:
            print(
                f"{row['n']:>2} {row['f']:>2} {row['schedule']:<8} {row['crashes']:>7} "
                f"{row['undecided_runs']:>9} {sum(row['failed_checks'].values()):>6} "
                f"{_v(row['rounds_median']):>10} {_v(row['rounds_p99']):>4} "
                f"{_v(row['rounds_max']):>4} {_v(row['steps_median']):>9} "
                f"{row['coins_mean']:>9.2f}"
            )
        print()

    if "paxos" not in args.skip:
        rows = [
            paxos_row(3, (), args.seeds, 1.0, 0.01),
            paxos_row(3, ("crash:p1@0.5",), args.seeds, 1.0, 0.01),
            paxos_row(5, ("crash:p1@0.5", "crash:p2@1.02"), args.seeds, 1.0, 0.01),
        ]
        figures["paxos_timeouts"] = rows
        print(
            f"paxos-timeouts under partial-sync, δ = 10 ms, delays ≤ 100 ms before GST = 1 s, "
            f"{args.seeds} seeds per row: last decision − GST"
        )
        print(
            f"{'n':>2} {'faults':<28} {'failed':>6} {'before GST':>10} {'min':>8} "
            f"{'median':>8} {'p99':>8} {'max':>8} {'ballots max':>11}"
        )
        for row in rows:
            print(
                f"{row['n']:>2} {', '.join(row['faults']) or 'none':<28} "
                f"{sum(row['failed_checks'].values()):>6} {row['decided_before_gst']:>10} "
                f"{_v(row['after_gst_min_s'], 'ms'):>8} {_v(row['after_gst_median_s'], 'ms'):>8} "
                f"{_v(row['after_gst_p99_s'], 'ms'):>8} {_v(row['after_gst_max_s'], 'ms'):>8} "
                f"{row['ballots_max']:>11}"
            )
        print()

    if "dead" not in args.skip:
        explored = [
            dead_exploration(3, 1, args.max_states, (0, 1), False),
            dead_exploration(5, 2, args.max_states, (2,), False),
            dead_exploration(5, 2, args.max_states, (1, 0), True),
        ]
        figures["initially_dead_explored"] = explored
        print(
            "initially-dead, model-checked: binary inputs × processes dead from the start, "
            f"BFS, at most {args.max_states:,} unique states per case; cases: all, or one per "
            "class up to renaming processes (the protocol uses ids only as names)"
        )
        print(
            f"{'n':>2} {'t':>2} {'dead':>4} {'cases of':>8} {'cases':>5} {'complete':>8} "
            f"{'unique':>10} "
            f"{'states':>11} {'depth':>5} {'search s':>8} {'violations':>10}"
        )
        for result in explored:
            for dead, row in sorted(result["by_dead"].items()):
                complete = row["complete"] == row["cases"]
                violations = sum(1 for v in result["violations"] if len(v["dead"]) == dead)
                print(
                    f"{result['n']:>2} {result['t']:>2} {dead:>4} "
                    f"{'renaming' if result['up_to_renaming'] else 'all':>8} {row['cases']:>5} "
                    f"{row['complete']:>8} {row['unique']:>10,} {row['states']:>11,} "
                    f"{row['max_depth']:>5} {row['sec']:>8.1f} "
                    f"{violations:>10}{'' if complete else '  (holds so far)'}"
                )
        runs = dead_runs(5, 2, args.seeds)
        figures["initially_dead_runs"] = runs
        print(
            f"initially-dead, simulated: {runs['runs']} runs of n = 5 under the random order, "
            f"random inputs, 0–2 dead: {sum(runs['failed_checks'].values())} failed checks"
        )
        print()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
