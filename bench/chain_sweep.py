"""2,000 seeds of random fault plans against ``chain`` (seed 003's OFS-SMR).

Each seed draws one to three faults in the first 2 s of a run (4 clients × 300 ops,
δ = 10 ms, τ = 50 ms, partial-sync from GST 0, a 6 s virtual time limit): crashes of
the head, a middle replica or the tail (restarted later in half the plans, to rejoin as
a new tail with state transfer), cut links between two replicas (healed in most plans),
a partition that cuts one replica off from everyone, a master node's crash (restarted in
half the plans) — and, in one plan in ten, a majority of the master crashed for good,
beyond what keeps the chain live, but not beyond what must keep it safe. Every run is
judged by ``linearizable``, ``log_agreement`` and ``fault_safe``; it prints the runs, the
violations by check, how many runs answered every op, the largest reconfiguration time
in δ, the first failures with the command that replays each, and as its last line one
JSON object. Exit status 1 if any run broke a check.

    python bench/chain_sweep.py [--seeds 2000] [--workers 2] [--protocol chain]

``--protocol chain-unsafe`` sweeps the broken variant: its violations are the point.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

from smrkit.core.ids import server_ids
from smrkit.explore.sweep import Tally, judge_stream, with_plan
from smrkit.protocols.chain.master import master_ids
from smrkit.protocols.chain.spec import MASTER_NODES
from smrkit.sim.world import SimConfig

HORIZON_S = 2.0
REPLICAS = 3


def chain_plan(seed: int, replicas: int = REPLICAS) -> tuple[str, ...]:
    """The fault plan of ``seed``: plain ``--fault`` specs."""
    rng = random.Random(f"chain-plan/{seed}")
    servers = list(server_ids(replicas))
    masters = list(master_ids(MASTER_NODES))
    everyone = servers + masters
    specs: list[str] = []
    master_down = False
    for _ in range(rng.randint(1, 3)):
        at = round(rng.uniform(0.1, HORIZON_S), 3)
        kind = rng.choice(["crash", "crash", "link", "partition", "master"])
        if kind == "crash":
            node = rng.choice(servers)
            specs.append(f"crash:{node}@{at}")
            if rng.random() < 0.5:
                specs.append(f"restart:{node}@{round(at + rng.uniform(0.2, 1.0), 3)}")
        elif kind == "link":
            a, b = rng.sample(servers, 2)
            end = "" if rng.random() < 0.3 else f"..{round(at + rng.uniform(0.05, 1.0), 3)}"
            specs.append(f"link:{a}-{b}@{at}{end}")
        elif kind == "partition":
            node = rng.choice(servers)
            end = round(at + rng.uniform(0.05, 1.0), 3)
            specs += [f"link:{node}-{other}@{at}..{end}" for other in everyone if other != node]
        elif not master_down:
            master_down = True
            node = rng.choice(masters)
            specs.append(f"crash:{node}@{at}")
            if rng.random() < 0.5:
                specs.append(f"restart:{node}@{round(at + rng.uniform(0.2, 1.0), 3)}")
    if rng.random() < 0.1:  # the master loses its majority for good: the chain must stop
        at = round(rng.uniform(0.1, HORIZON_S), 3)
        specs += [f"crash:{m}@{at}" for m in masters[:2] if f"crash:{m}" not in str(specs)]
    return tuple(dict.fromkeys(specs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--protocol", default="chain")
    args = parser.parse_args()
    base = SimConfig(
        protocol=args.protocol,
        replicas=REPLICAS,
        clients=4,
        ops=300,
        timing="partial-sync",
        time_limit_s=6.0,
    )
    started = time.perf_counter()
    tally = Tally()
    live = 0
    reconfigure_max = 0.0
    configs = (with_plan(base, seed, chain_plan(seed)) for seed in range(args.seeds))
    for outcome in judge_stream(configs, workers=args.workers):
        tally.add(outcome)
        live += outcome.ops.get("ok", 0) == outcome.ops.get("invoked", -1)
        worst = outcome.measured.get("reconfigure_delta_max")
        if isinstance(worst, int | float):
            reconfigure_max = max(reconfigure_max, float(worst))
    seconds = time.perf_counter() - started
    print(f"{args.protocol}: {tally.runs} runs, {tally.violations} violations", end="")
    print(f" ({dict(tally.broken)})" if tally.broken else "")
    print(
        f"ops answered: {tally.ops_ok} of {tally.ops_invoked}; runs that answered every op: {live}"
    )
    print(f"largest reconfiguration: {reconfigure_max} δ; {seconds:.1f} s")
    for outcome in tally.failed[:5]:
        print(f"  seed {outcome.seed} broke {', '.join(outcome.failed)}:")
        print(f"    {outcome.replay_hint(base)} --timing partial-sync")
    print(
        json.dumps(
            {
                "protocol": args.protocol,
                "runs": tally.runs,
                "violations": tally.violations,
                "broken": dict(tally.broken),
                "ops_ok": tally.ops_ok,
                "ops_invoked": tally.ops_invoked,
                "runs_all_answered": live,
                "reconfigure_delta_max": reconfigure_max,
                "seconds": round(seconds, 1),
            }
        )
    )
    return 1 if tally.violations else 0


if __name__ == "__main__":
    sys.exit(main())
