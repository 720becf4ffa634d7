"""``smrkit explore`` on seed 002's lock-step crash protocols, beside ``smrkit rounds``'
exhaustive search of the same crash patterns, measured in the same run.

For each protocol, n = 3…5, f = 1…min(3, n − 1) and R = f (one round too few; 1 for
consensus-naive) and R = f + 1: the explorer's unique states, verdict and seconds
(BFS, the command's default), and the exhaustive search's states, verdict and seconds
(``RoundsSearch(..., guided=False)``: every pattern, no dangerous chain first). Where
both searches cover the whole space (no violation) the unique states must equal the
search's states — ``same`` says whether they do; where one finds a violation both must.
Seconds are the median of ``--repeat`` runs; ``ratio`` is explore's over rounds'.

Figures, not assertions: the tests pin the small cases. One JSON line ends the output.

    python bench/crash_explore.py [--max-n 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from smrkit.explore.crash_models import CRASH_MODELS, crash_model
from smrkit.explore.rounds import RoundsSearch, resolve_round_protocol
from smrkit.explore.search import search


def _explore(name: str, n: int, f: int, r: int) -> tuple[float, int, list[str]]:
    model = crash_model(name, n, f, r)
    started = time.perf_counter()
    result = search(model.build_space(), model.properties)
    seconds = time.perf_counter() - started
    assert result.complete
    return seconds, result.unique, sorted(result.discoveries)


def _rounds(name: str, n: int, f: int, r: int) -> tuple[float, int, bool, list[str]]:
    make, trb = resolve_round_protocol(name)
    started = time.perf_counter()
    result = RoundsSearch(name, make, replicas=n, f=f, rounds=r, trb=trb, guided=False).search()
    seconds = time.perf_counter() - started
    broken = [] if result.violation is None else result.violation.broken
    return seconds, result.states, result.exhausted, broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-n", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for name in CRASH_MODELS:
        for n in range(3, args.max_n + 1):
            for f in range(1, min(3, n - 1) + 1):
                for r in [1] if name == "consensus-naive" else [f, f + 1]:
                    explored = [_explore(name, n, f, r) for _ in range(args.repeat)]
                    searched = [_rounds(name, n, f, r) for _ in range(args.repeat)]
                    _, unique, violated = explored[0]
                    _, states, exhausted, broken = searched[0]
                    e_s = statistics.median(x[0] for x in explored)
                    r_s = statistics.median(x[0] for x in searched)
                    same = (
                        not violated and unique == states
                        if exhausted
                        else bool(violated) and bool(broken)
                    )
                    row = {
                        "protocol": name,
                        "n": n,
                        "f": f,
                        "rounds": r,
                        "unique": unique,
                        "violated": violated,
                        "explore_s": round(e_s, 3),
                        "rounds_states": states,
                        "rounds_exhausted": exhausted,
                        "rounds_violation": broken,
                        "rounds_s": round(r_s, 3),
                        "ratio": round(e_s / r_s, 2) if r_s > 0 else None,
                        "same": same,
                    }
                    rows.append(row)
                    print(
                        f"{name:15} n={n} f={f} R={r}  explore: unique={unique:>9,} "
                        f"{','.join(violated) or 'all hold':>18} {e_s:7.2f} s   rounds: "
                        f"states={states:>7,} {','.join(broken) or 'none':>10} "
                        f"{r_s:6.2f} s   ratio={row['ratio']}  same={same}",
                        flush=True,
                    )
    print(json.dumps({"rows": rows, "all_same": all(r["same"] for r in rows)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
