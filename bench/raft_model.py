"""Raft in the model checker: the state counts of bigger configurations than the tests
pin, and the BFS for Figure 8 in ``raft-unsafe-commit`` (hours, millions of states),
all under symmetry.

For each configuration it runs the search in this process and prints a JSON line:
``model``, ``elections``, ``clients``, ``states``, ``unique``, ``max_depth``, ``sec``
(wall), ``cpu_s`` (this process's CPU time: the machine is shared, so wall time is
noisy), ``complete`` and each property's verdict with its path length. With
``--figure8-trace FILE`` the unsafe search writes its first counterexample there as a
trace ``smrkit replay`` re-runs (the one kept in ``tests/explore/testdata``).

    python bench/raft_model.py [--skip-safe] [--skip-unsafe] [--figure8-trace FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from smrkit.explore.raft_model import raft_model
from smrkit.explore.replay import path_to_json, replay
from smrkit.explore.search import search
from smrkit.explore.symmetry import Symmetry

SAFE = ((2, 1), (3, 0))
"""``(elections, clients)`` of the safe variant, beyond the tests' small ones."""

UNSAFE_MAX_STATES = 6_000_000


def run(name: str, elections: int, clients: int, trace: Path | None = None) -> dict[str, object]:
    model = raft_model(name, clients=clients, elections=elections)
    space = model.build_space()
    cpu = time.process_time()
    max_states = UNSAFE_MAX_STATES if name != "raft" else None
    symmetry = Symmetry(space, model.symmetric)
    result = search(space, model.properties, max_states=max_states, symmetry=symmetry)
    figures: dict[str, object] = {
        "model": name,
        "elections": elections,
        "clients": clients,
        "states": result.states,
        "unique": result.unique,
        "max_depth": result.max_depth,
        "sec": round(result.sec, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "complete": result.complete,
        "stopped_by": result.stopped_by,
        "properties": {
            prop.name: {
                "verdict": result.verdict(prop),
                "path_length": len(found.path)
                if (found := result.discoveries.get(prop.name))
                else None,
            }
            for prop in model.properties
        },
    }
    if trace is not None and result.discoveries:
        first = min(result.discoveries.values(), key=lambda d: len(d.path))
        replay(model, path_to_json(space, first.path)).trace.write(trace)
        figures["trace"] = str(trace)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-safe", action="store_true")
    parser.add_argument("--skip-unsafe", action="store_true")
    parser.add_argument("--figure8-trace", type=Path)
    args = parser.parse_args(argv)
    if not args.skip_safe:
        for elections, clients in SAFE:
            print(json.dumps(run("raft", elections, clients)), flush=True)
    if not args.skip_unsafe:
        found = run("raft-unsafe-commit", 4, 2, args.figure8_trace)
        print(json.dumps(found), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
