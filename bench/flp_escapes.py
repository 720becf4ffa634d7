"""What escapes FLP, measured (issue 12 §4): randomization, partial synchrony, and
processes that can only be dead from the start.

1. ``ben-or`` — Ben-Or's randomized consensus under ``async`` timing, over ``--seeds``
   seeds per row, under three adversaries: the seeded random order, oldest first (fair),
   and ``split`` (delivers to each process first the value it has heard least of, to
   keep reports split and force coin flips); with f crashes at seeded steps in some
   rows. Every run is judged by seed 002's consensus checks (termination, validity,
   agreement, integrity: what ``smrkit sim`` prints); the table gives the distribution
   of the round of the last decision.
2. ``paxos-timeouts`` — single-decree Paxos with proposer time-outs under
   ``partial-sync`` timing (δ = 10 ms, delays up to 10δ and reordering before GST =
   1 s): the time from GST to the last process's decision, over seeds; a run whose
   processes all decided before GST counts as ``before GST`` (its figure is negative).
3. ``initially-dead`` — FLP §4's protocol, model-checked: every schedule of every case
   (binary inputs × processes dead from the start, at most t) for n = 3, t = 1 and for
   n = 5, t = 2 with two dead; with one or none dead (n = 5), one case per class up to
   renaming processes. A case whose search exceeds ``--max-states`` unique states is
   reported as ``holds so far``. ``--one-case`` searches one n = 5 case with one dead
   process, inputs 0,1,0,1,1 and p5 dead, to the end (symmetry reduction over the live
   processes; about 2 million states). Then ``--seeds`` simulated runs of n = 5 with a
   random set of at most two dead processes under the random order.
4. With ``--flp``, FLP's adversary (:func:`smrkit.explore.flp.lemma2.
   build_nondeciding_run`: Lemma 1 over X_0 … X_n, then Lemma 2's run of ``--flp-steps``
   moves) run on
   :class:`~smrkit.protocols.consensus.ben_or.BenOrFixedCoins`, whose coins are a hash
   of (process, round): coins the adversary can read. It reports each X_i's valency, and
   the run it built — its length, the decisions in it, the messages' ages — or the
   violation it found. Then the adversary's schedule is replayed, event for event, on
   ben-or with coins it cannot read (the seeded ``out.rng``, ``--seeds`` seeds): how
   many of those runs decide within the schedule, and at which move.
5. With ``--coins``, the adversary that cannot read the coins
   (:func:`smrkit.explore.flp.coins.adversary_against_coins`): ``--coin-seeds`` runs of
   at most ``--coin-steps`` moves on ``ben-or`` from Lemma 1's ambiguous X_i (n from
   ``--coin-replicas``; each valency search at most ``--coin-bound`` configurations),
   coins drawn from each seed's generators, the adversary re-planning after each coin;
   and, as the control that must stay undecided, the same adversary on
   ``BenOrFixedCoins`` (3 seeds: no coin is drawn, so every seed is the same run). It
   reports how many runs decided, at which move and round, and how many the adversary
   kept undecided for every move; one line per run goes to stderr as it ends.
   ``--coin-workers N`` runs N seeds at a time (the figures do not change: each seed's
   run has its own oracle). A seed costs about 5 CPU seconds at n = 3, 29 at n = 4 and
   50 at n = 5 (``--coin-steps`` 100, 200, 300).

Figures, not assertions: a row that falls short says so in its columns. Prints tables,
then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from smrkit.check.agreement_run import AgreementEvaluation, evaluate_agreement, first_decisions
from smrkit.core.ids import server_ids
from smrkit.explore.initially_dead import explore_initially_dead, search_case
from smrkit.protocols.claims import ConsensusClaims
from smrkit.protocols.consensus.ben_or import BEN_OR, BEN_OR_FIXED_COINS, BenOr
from smrkit.protocols.consensus.binary import BinaryProtocol
from smrkit.protocols.consensus.paxos_timeouts import TimedPaxos
from smrkit.sim.kernel import Crash, Deliver, Event, Start, World, enabled, step
from smrkit.sim.network import AsyncNetwork
from smrkit.sim.observers import observers_for
from smrkit.sim.world import SimConfig, SimRun, run_simulation


def judge(run: SimRun) -> AgreementEvaluation:
    """Seed 002's consensus checks over the run's records (what ``smrkit sim`` prints)."""
    assert isinstance(run.claims, ConsensusClaims)
    return evaluate_agreement(run.trace, run.claims)


def decided(run: SimRun) -> dict[str, tuple[float, object]]:
    """Each process's first decision: (time, value); times are steps under ``async``."""
    return {node: (r.t, r.data) for node, r in first_decisions(run.trace.events).items()}


def last_decision(run: SimRun) -> float | None:
    return max((t for t, _ in decided(run).values()), default=None)


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
        evaluation = judge(run)
        for name in evaluation.failed:
            failed[name] = failed.get(name, 0) + 1
        processes = [node for node in run.nodes.values() if isinstance(node, BenOr)]
        decided = [node for node in processes if node.decided]
        if not evaluation.checks["termination"].ok:
            undecided += 1
        if decided:
            rounds.append(max(node.decided_round for node in decided))
            steps.append(last_decision(run))
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
        evaluation = judge(run)
        for name in evaluation.failed:
            failed[name] = failed.get(name, 0) + 1
        last = last_decision(run)
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
        for name in judge(run).failed:
            failed[name] = failed.get(name, 0) + 1
    wall = time.perf_counter() - started
    return {"n": n, "t": t, "runs": seeds, "failed_checks": failed, "wall_s": wall}


def _key(event: Event) -> tuple[str, object] | None:
    """What names an event across runs whose messages differ only in content."""
    if isinstance(event, Deliver):
        return "deliver", event.id
    if isinstance(event, Crash):
        return "crash", event.fault.node
    if isinstance(event, Start):
        return "start", event.node
    return None


def _matching(events: Sequence[Event], wanted: Event) -> Event | None:
    key = _key(wanted)
    return next((event for event in events if _key(event) == key), None)


def hidden_coins(schedule: Sequence[Event], inputs: tuple[int, ...], seeds: int) -> dict[str, Any]:
    """``schedule`` (the adversary's, built against coins it could read) replayed on
    ben-or whose coins come from the seeded ``out.rng``: message ids follow the send
    order, which the coins' values do not change, so each event names the same message
    slot; a replay stops where the schedule names an event that is not enabled."""
    ids = server_ids(len(inputs))
    decided_within: list[int] = []
    followed_all = 0
    for seed in range(seeds):
        nodes = [BenOr(p, ids, v) for p, v in zip(ids, inputs, strict=True)]
        world = World(
            nodes,
            seed=seed,
            network=AsyncNetwork(),
            observers=observers_for(nodes),
            crash_budget=1,
        )
        first: int | None = None
        taken = 0
        for index, wanted in enumerate(schedule):
            event = _matching(enabled(world), wanted)
            if event is None:
                break
            step(world, event)
            taken += 1
            if first is None and any(node.decided for node in nodes):
                first = index + 1
        followed_all += taken == len(schedule)
        if first is not None:
            decided_within.append(first)
    return {
        "seeds": seeds,
        "decided_within_schedule": len(decided_within),
        "first_decision_move_median": statistics.median(decided_within) if decided_within else None,
        "first_decision_move_max": max(decided_within, default=None),
        "followed_whole_schedule": followed_all,
    }


def flp_on_ben_or(replicas: int, steps: int, seeds: int) -> dict[str, Any]:
    from smrkit.explore.flp.lemma2 import build_nondeciding_run

    result = build_nondeciding_run(BEN_OR_FIXED_COINS, replicas, steps=steps)
    run = result.run or result.violation_run
    replayed = None if run is None else hidden_coins(run.events, run.setup.inputs, seeds)
    return {
        "protocol": BEN_OR_FIXED_COINS.name,
        "replicas": replicas,
        "steps_asked": steps,
        "valencies": [v.text() for v in result.lemma1.valencies],
        "ambiguous_initial": result.lemma1.ambiguous,
        "violation": result.violation,
        "run_end": None if run is None else run.end,
        "run_moves": None if run is None else len(run.moves),
        "run_deliveries": None if run is None else run.deliveries,
        "decided": None if run is None else run.decided,
        "first_decision_move": None if run is None or not run.decided_at else run.decided_at[0][0],
        "max_message_age": None if run is None else run.max_age,
        "mean_message_age": None if run is None else run.mean_age,
        "undelivered_at_end": None if run is None else run.undelivered,
        "configurations": result.explored,
        "seconds": result.seconds,
        "inputs": None if run is None else list(run.setup.inputs),
        "hidden_coins": replayed,
    }


# The ambiguous X_i of flp_against_coins, set before its worker processes fork.
_SHARED: dict[str, Any] = {}


def _coin_run(seed: int, steps: int, bound: int) -> dict[str, Any]:
    """One seed's run against drawn coins, from the shared X_i, as the figures it adds."""
    from smrkit.explore.flp.coins import adversary_against_coins

    run = adversary_against_coins(_SHARED["setup"], seed, steps, bound)
    return {
        "seed": seed,
        "first_decision": run.first_decision,
        "rounds": run.rounds,
        "coins": run.coins,
        "plans": run.plans,
        "foiled": run.foiled,
        "explored": run.explored,
    }


def _coin_run_args(args: tuple[int, int, int]) -> dict[str, Any]:
    return _coin_run(*args)


def flp_against_coins(
    protocol: BinaryProtocol, replicas: int, steps: int, seeds: int, bound: int, workers: int = 1
) -> dict[str, Any]:
    """Lemma 2's adversary re-planning against coins drawn from each seed's generators
    (:mod:`smrkit.explore.flp.coins`), from Lemma 1's ambiguous X_i, one run per seed,
    ``workers`` processes at a time. Each seed's run is its own (a fresh oracle), so the
    figures do not depend on ``workers``."""
    from smrkit.explore.flp.lemma1 import lemma1

    began = time.perf_counter()
    walk = lemma1(protocol, replicas, "crash", bound)
    if walk.ambiguous is None:
        return {"protocol": protocol.name, "replicas": replicas, "ambiguous_initial": None}
    setup = walk.setups[walk.ambiguous]
    _SHARED["setup"] = setup
    jobs = [(seed, steps, bound) for seed in range(seeds)]
    runs: list[dict[str, Any]] = []
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        done = pool.imap(_coin_run_args, jobs) if pool else map(_coin_run_args, jobs)
        for last in done:
            runs.append(last)
            print(
                f"{protocol.name} n = {replicas}: seed {last['seed']}: first decision at move "
                f"{_v(last['first_decision'])}, round {last['rounds']}, {last['coins']} coins, "
                f"{last['foiled']} plans foiled; "
                f"{sum(r['first_decision'] is not None for r in runs)} of {len(runs)} decided "
                f"({time.perf_counter() - began:.0f} s)",
                file=sys.stderr,
            )
    finally:
        if pool:
            pool.close()
            pool.join()
    firsts = [r["first_decision"] for r in runs if r["first_decision"] is not None]
    rounds = [r["rounds"] for r in runs if r["first_decision"] is not None]
    return {
        "protocol": protocol.name,
        "replicas": replicas,
        "steps_asked": steps,
        "inputs": list(setup.inputs),
        "ambiguous_initial": walk.ambiguous,
        "seeds": seeds,
        "decided": len(firsts),
        "undecided": seeds - len(firsts),
        "undecided_seeds": [r["seed"] for r in runs if r["first_decision"] is None][:20],
        "first_decision_move_median": statistics.median(firsts) if firsts else None,
        "first_decision_move_p90": percentile(firsts, 90) if firsts else None,
        "first_decision_move_max": max(firsts, default=None),
        "rounds_median": statistics.median(rounds) if rounds else None,
        "rounds_max": max(rounds, default=None),
        "coins_mean": statistics.mean(r["coins"] for r in runs),
        "plans_foiled": sum(r["foiled"] for r in runs),
        "plans": sum(r["plans"] for r in runs),
        "configurations": walk.explored + sum(r["explored"] for r in runs),
        "workers": workers,
        "seconds": time.perf_counter() - began,
    }


def _print_against_coins(row: dict[str, Any]) -> None:
    if row["ambiguous_initial"] is None:
        print(f"  {row['protocol']}, n = {row['replicas']}: no ambiguous X_i")
        return
    print(
        f"  {row['protocol']:<18} n = {row['replicas']}  from X_{row['ambiguous_initial']} "
        f"{row['inputs']}: {row['decided']} of {row['seeds']} runs decided within "
        f"{row['steps_asked']} moves, {row['undecided']} kept undecided; first decision at "
        f"move median {_v(row['first_decision_move_median'])}, p90 "
        f"{_v(row['first_decision_move_p90'])}, max {_v(row['first_decision_move_max'])}; "
        f"round median {_v(row['rounds_median'])}, max {_v(row['rounds_max'])}; "
        f"{row['coins_mean']:.1f} coins/run, {row['plans_foiled']} of {row['plans']} plans "
        f"foiled by a coin; {row['configurations']:,} configurations in {row['seconds']:.0f} s"
    )


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
    parser.add_argument("--flp", action="store_true", help="Run FLP's adversary on ben-or.")
    parser.add_argument("--one-case", action="store_true", help="One n = 5 case, unbounded.")
    parser.add_argument("--flp-replicas", type=int, default=3)
    parser.add_argument("--flp-steps", type=int, default=60)
    parser.add_argument(
        "--coins",
        action="store_true",
        help="Run Lemma 2's adversary against coins it cannot read (ben-or, and "
        "ben-or-fixed-coins as the control), --coin-seeds runs each.",
    )
    parser.add_argument("--coin-seeds", type=int, default=1000)
    parser.add_argument("--coin-steps", type=int, default=100)
    parser.add_argument("--coin-replicas", type=int, nargs="*", default=[3])
    parser.add_argument("--coin-bound", type=int, default=500, help="Per valency search.")
    parser.add_argument(
        "--coin-workers", type=int, default=1, help="Processes running seeds side by side."
    )
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

    if args.one_case:
        result = search_case((0, 1, 0, 1, 1), ("p5",), symmetric=True)
        figures["initially_dead_one_case"] = {
            "inputs": [0, 1, 0, 1, 1],
            "dead": ["p5"],
            "complete": result.complete,
            "unique": result.unique,
            "states": result.states,
            "max_depth": result.max_depth,
            "sec": result.sec,
            "violations": sorted(result.discoveries),
        }
        print(
            f"initially-dead, n = 5, inputs 0,1,0,1,1, p5 dead, up to renaming: "
            f"{'complete' if result.complete else 'cut'}, {result.unique:,} unique states "
            f"({result.states:,} generated), depth {result.max_depth}, {result.sec:.0f} s, "
            f"violations: {', '.join(sorted(result.discoveries)) or 'none'}"
        )
        print()

    if args.flp:
        flp = flp_on_ben_or(args.flp_replicas, args.flp_steps, args.seeds)
        figures["flp_on_ben_or"] = flp
        print(f"FLP's adversary on {flp['protocol']}, n = {flp['replicas']}")
        for i, text in enumerate(flp["valencies"]):
            print(f"  X_{i}: {text}")
        print(
            f"  run: {flp['run_end']}, {flp['run_moves']} moves, {flp['run_deliveries']} "
            f"deliveries, decided: {', '.join(flp['decided']) or 'none'} (first decision at "
            f"move {_v(flp['first_decision_move'])}), max message age {flp['max_message_age']}, "
            f"{flp['undelivered_at_end']} undelivered at the end; violation: "
            f"{flp['violation'] or 'none'}; {flp['configurations']:,} configurations in "
            f"{flp['seconds']:.0f} s"
        )
        hidden = flp["hidden_coins"]
        if hidden is not None:
            print(
                f"  its schedule replayed on ben-or with coins it cannot read "
                f"(inputs {flp['inputs']}, {hidden['seeds']} seeds): "
                f"{hidden['decided_within_schedule']} runs decided within the schedule "
                f"(first decision: median move {_v(hidden['first_decision_move_median'])}, "
                f"max {_v(hidden['first_decision_move_max'])}); "
                f"{hidden['followed_whole_schedule']} followed it to the end"
            )
        print()
    if args.coins:
        print("FLP's adversary against coins it cannot read (it re-plans after each coin)")
        rows = [
            flp_against_coins(
                protocol, n, args.coin_steps, seeds, args.coin_bound, args.coin_workers
            )
            for n in args.coin_replicas
            for protocol, seeds in ((BEN_OR, args.coin_seeds), (BEN_OR_FIXED_COINS, 3))
        ]
        for row in rows:
            _print_against_coins(row)
        figures["flp_against_coins"] = rows
        print()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
