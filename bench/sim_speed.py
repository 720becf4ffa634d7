"""Simulator speed: simulated events per wall-clock second.

pb-crash, n = 3, 8 clients, 20,000 operations, no faults (the issue's configuration).
An *event* is one record of the trace — a send, a delivery, a timer firing, an apply, a
client invoke or completion, … — the events of a run in seed 001's sense. A *step* is one
event taken off the scheduler's queue (a delivery, a timer or a start: one handler call).

Prints the figures of the median and of the best of ``--repeat`` runs (the machine is
shared: quote medians), then, as its last line, one JSON object. Also reported: the rate
including the trace hash (what ``smrkit sim --json`` pays on top), and a full ``smrkit
sim`` evaluation (checks included). Figures, not assertions; the target is 150,000
events/s (issue 10: the world kernel must keep it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from smrkit.check.evaluate import evaluate_run
from smrkit.sim.world import SimConfig, run_simulation

TARGET_EVENTS_PER_S = 150_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = SimConfig(
        protocol="pb-crash", replicas=args.replicas, clients=args.clients, ops=args.ops, seed=1
    )
    best_run = best_hash = best_eval = float("inf")
    events = steps = 0
    trace_hash = ""
    run_times: list[float] = []
    for _ in range(args.repeat):
        run = run_simulation(config)
        events, steps = len(run.trace.events), run.steps
        run_times.append(run.wall_s)
        best_run = min(best_run, run.wall_s)
        started = time.perf_counter()
        trace_hash = run.trace.trace_hash()
        best_hash = min(best_hash, time.perf_counter() - started)
        started = time.perf_counter()
        evaluation = evaluate_run(run)
        best_eval = min(best_eval, time.perf_counter() - started)
        assert evaluation.ok, evaluation.failed
    median_run = statistics.median(run_times)
    result = {
        "events_per_s_median": round(events / median_run),
        "events_per_s": round(events / best_run),
        "steps_per_s": round(steps / best_run),
        "events_per_s_with_hash": round(events / (best_run + best_hash)),
        "events": events,
        "steps": steps,
        "run_s": round(best_run, 4),
        "run_s_median": round(median_run, 4),
        "hash_s": round(best_hash, 4),
        "evaluate_s": round(best_eval, 4),
        "target_events_per_s": TARGET_EVENTS_PER_S,
    }
    print(f"pb-crash n={args.replicas}, {args.clients} clients, {args.ops} ops, {args.repeat} runs")
    print(f"  events            {events:>10}   ({steps} scheduler steps)")
    print(
        f"  simulate, median  {median_run:>10.3f} s   {result['events_per_s_median']:>9} events/s"
    )
    print(f"  simulate, best    {best_run:>10.3f} s   {result['events_per_s']:>9} events/s")
    print(
        f"  + trace hash      {best_hash:>10.3f} s   {result['events_per_s_with_hash']:>9} events/s"
    )
    print(f"  evaluate (checks) {best_eval:>10.3f} s")
    print(f"  target            {TARGET_EVENTS_PER_S:>22} events/s  trace {trace_hash[:12]}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
