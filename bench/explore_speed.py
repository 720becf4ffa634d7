"""Model-checker speed: unique states per second on Stateright's Paxos model.

Paxos with 3 servers and 2 clients (16,668 unique states, Stateright's figure), searched
breadth-first from a fresh space each run (the node-step memo starts empty: a cold
search), with two-phase commit with 5 resource managers (8,832 states, depth-first)
beside it. One process, one core: the search is single-threaded.

The peer, measured in the same run: the same Paxos world searched through the kernel's
own API — ``World.copy`` + ``step`` + ``world_fingerprint(rng=False)`` per successor, the
way the kernel's docstring sketches a search — up to ``--kernel-states`` unique states.
(Its state space is not Stateright's: the kernel consumes a message that changes nothing;
only the rate is compared.)

Runs are interleaved (lean, kernel, lean, …) and the medians quoted: the machine is
shared. Figures, not assertions; the target is 50,000 unique states/s (issue 10).
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from smrkit.explore.history import linearizable
from smrkit.explore.models import build_model
from smrkit.explore.replay import kernel_world
from smrkit.explore.search import search
from smrkit.sim.kernel import enabled, step
from smrkit.sim.kernel.fingerprint import world_fingerprint

TARGET_STATES_PER_S = 50_000


def lean(name: str, servers: int, bfs: bool) -> tuple[int, int, float]:
    linearizable.cache_clear()  # every run starts cold
    model = build_model(name, servers=servers)
    space = model.build_space()
    result = search(space, model.properties, bfs=bfs)
    assert result.complete and result.ok
    return result.unique, result.states, result.sec


def kernel(limit: int) -> tuple[int, float]:
    """BFS over kernel worlds of the Paxos model, up to ``limit`` unique states."""
    model = build_model("paxos")
    started = time.perf_counter()
    root = kernel_world(model)
    seen = {world_fingerprint(root, rng=False)}
    frontier = [root]
    while frontier and len(seen) < limit:
        following = []
        for world in frontier:
            for event in enabled(world):
                child = world.copy()
                step(child, event)
                key = world_fingerprint(child, rng=False)
                if key not in seen:
                    seen.add(key)
                    following.append(child)
                    if len(seen) >= limit:
                        break
            if len(seen) >= limit:
                break
        frontier = following
    return len(seen), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--kernel-states", type=int, default=1500)
    args = parser.parse_args()
    paxos: list[float] = []
    paxos_dfs: list[float] = []
    tpc: list[float] = []
    kernel_rates: list[float] = []
    unique = states = tpc_unique = 0
    for _ in range(args.repeat):
        unique, states, sec = lean("paxos", 3, True)
        paxos.append(sec)
        _, _, sec = lean("paxos", 3, False)
        paxos_dfs.append(sec)
        tpc_unique, _, sec = lean("2pc", 5, False)
        tpc.append(sec)
        found, sec = kernel(args.kernel_states)
        kernel_rates.append(found / sec)
    median = statistics.median(paxos)
    rate = unique / median
    kernel_rate = statistics.median(kernel_rates)
    result = {
        "paxos_unique": unique,
        "paxos_states": states,
        "paxos_s_median": round(median, 4),
        "paxos_s_best": round(min(paxos), 4),
        "paxos_unique_per_s_median": round(rate),
        "paxos_unique_per_s_best": round(unique / min(paxos)),
        "paxos_dfs_unique_per_s_median": round(unique / statistics.median(paxos_dfs)),
        "paxos_states_per_s_median": round(states / median),
        "tpc5_unique": tpc_unique,
        "tpc5_unique_per_s_median": round(tpc_unique / statistics.median(tpc)),
        "kernel_unique_per_s_median": round(kernel_rate),
        "ratio_to_kernel": round(rate / kernel_rate, 1),
        "target_unique_per_s": TARGET_STATES_PER_S,
        "repeat": args.repeat,
    }
    print(f"explore speed, {args.repeat} interleaved runs each (medians; best in brackets)")
    print(
        f"  paxos 3+2, BFS     {unique:>7} unique  {median:.3f} s  "
        f"{result['paxos_unique_per_s_median']:>7} unique/s  "
        f"[{result['paxos_unique_per_s_best']}]  {result['paxos_states_per_s_median']} states/s"
    )
    dfs_rate = result["paxos_dfs_unique_per_s_median"]
    tpc_rate = result["tpc5_unique_per_s_median"]
    print(f"  paxos 3+2, DFS     {unique:>7} unique  {dfs_rate:>17} unique/s")
    print(f"  2pc 5 RMs, DFS     {tpc_unique:>7} unique  {tpc_rate:>17} unique/s")
    print(
        f"  kernel worlds      {args.kernel_states:>7} unique  "
        f"{result['kernel_unique_per_s_median']:>17} unique/s  (copy + step + fingerprint)"
    )
    print(f"  lean / kernel      {result['ratio_to_kernel']:>7}×")
    print(f"  target             {TARGET_STATES_PER_S:>25} unique/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
