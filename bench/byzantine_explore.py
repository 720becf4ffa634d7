"""The model checker over every behaviour of a bounded Byzantine adversary: Dolev-Strong
with n = 4, f = 2 and EIG with n = 4, f = 1, each with every choice of faulty processes
up to renaming, and EIG with every input vector of its correct processes.

Prints one row per search (unique states, depth, seconds, verdicts) and ends with one
JSON line. Figures, not assertions: the tests pin the small cases.

    python bench/byzantine_explore.py
"""

from __future__ import annotations

import itertools
import json
import time

from smrkit.explore.byzantine_models import byzantine_model
from smrkit.explore.search import search

CASES: list[tuple[str, int, int, list[str], list[int] | None]] = [
    ("dolev-strong", 4, 2, ["p1", "p2"], None),  # the sender and a relay
    ("dolev-strong", 4, 2, ["p2", "p3"], None),  # two relays, the sender correct
    ("dolev-strong", 4, 1, ["p1"], None),
    ("dolev-strong", 4, 1, ["p2"], None),
    *(
        ("eig", 4, 1, ["p4"], [*bits, 0])
        for bits in itertools.product((0, 1), repeat=3)  # the correct processes' inputs
    ),
    ("eig", 3, 1, ["p3"], [0, 1, 0]),  # n = 3f: must fail
]


def main() -> int:
    rows = []
    for name, n, f, byzantine, inputs in CASES:
        model = byzantine_model(name, n, f, byzantine, inputs)
        started = time.perf_counter()
        result = search(model.build_space(), model.properties)
        seconds = time.perf_counter() - started
        violated = sorted(result.discoveries)
        row = {
            "model": name,
            "n": n,
            "f": f,
            "byzantine": byzantine,
            "inputs": inputs,
            "unique": result.unique,
            "states": result.states,
            "max_depth": result.max_depth,
            "complete": result.complete,
            "violated": violated,
            "seconds": round(seconds, 2),
        }
        rows.append(row)
        print(
            f"{name:13} n={n} f={f} byzantine={','.join(byzantine):6} "
            f"inputs={'' if inputs is None else ''.join(map(str, inputs)):5} "
            f"unique={result.unique:>8,} depth={result.max_depth:>3} "
            f"complete={result.complete} violated={violated or 'none'} {seconds:7.2f} s",
            flush=True,
        )
    print(json.dumps({"searches": len(rows), "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
