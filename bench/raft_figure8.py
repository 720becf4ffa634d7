"""The Raft paper's Figure 8, found by BFS — the shortest counterexample of
``raft-unsafe-commit`` (a leader that commits an entry of an earlier term by counting
replicas) — and the same search over ``raft``, which finds none.

The search runs under the bounds that make it finish (each removes behaviours and adds
none, so a path found is a real run of the protocol, and "shortest" means shortest
among the runs the bounds leave): three servers, two clients, four elections, links
holding only their newest message (``--links newest``), no heartbeats, symmetry, and
the adversary's bounds of :data:`smrkit.explore.raft_model.BOUNDS` —
``elections-in-turn``, ``requests-once``, ``stale-lost``. It is the same search as

    smrkit explore --model raft-unsafe-commit --links newest --symmetry \\
        --bound elections-in-turn --bound requests-once --bound stale-lost

For each model it prints a JSON line: ``states``, ``unique``, ``max_depth``, ``sec``
(wall), ``cpu_s`` (this process's CPU: the machine is shared), ``unique_per_cpu_s``,
``complete``, ``stopped_by`` and each property's verdict with its path length. The
unsafe search's counterexamples are walked again and judged along their paths; if one
is not a violation at its last move the script says so and exits 1. It narrates the
state machine safety path (the whole story: an entry committed, overwritten, and a
different command applied at its index); with ``--trace FILE`` it writes that path as
a trace ``smrkit replay`` re-runs (the one in ``tests/explore/testdata/
raft_figure8.jsonl``). ``--max-depth D`` bounds the safe search (default 16: paths of
15 moves; ``raft``'s bounded space is bigger than the broken variant's — to the 24
moves of the longer counterexample it outgrew 10 GB of memory unfinished here).

    python bench/raft_figure8.py [--trace FILE] [--skip-safe] [--max-depth D]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from smrkit.explore.models import Model
from smrkit.explore.raft_model import BOUNDS, NEWEST, narrate, raft_model
from smrkit.explore.replay import path_to_json, path_verdicts, replay
from smrkit.explore.search import SearchResult, search
from smrkit.explore.space import Space
from smrkit.explore.symmetry import Symmetry
from smrkit.report.explore import explore_json

SAFE_MAX_DEPTH = 16


def figure8_model(name: str) -> Model:
    return raft_model(name, clients=2, elections=4, links=NEWEST, bounds=BOUNDS)


def run(name: str, max_depth: int | None) -> tuple[Model, Space, SearchResult, dict[str, object]]:
    model = figure8_model(name)
    space = model.build_space()
    cpu = time.process_time()
    result = search(
        space, model.properties, max_depth=max_depth, symmetry=Symmetry(space, model.symmetric)
    )
    cpu_s = time.process_time() - cpu
    figures: dict[str, object] = {
        "model": name,
        "bounds": list(BOUNDS),
        "links": NEWEST,
        "states": result.states,
        "unique": result.unique,
        "max_depth": result.max_depth,
        "sec": round(result.sec, 1),
        "cpu_s": round(cpu_s, 1),
        "unique_per_cpu_s": round(result.unique / cpu_s) if cpu_s > 0 else None,
        "complete": result.complete,
        "stopped_by": result.stopped_by,
        "properties": {
            p["name"]: {"verdict": p["verdict"], "path_length": p["path_length"]}
            for p in explore_json(model, space, result, bfs=True, symmetry=True)["properties"]
        },
    }
    return model, space, result, figures


def violates_at_its_end(model: Model, name: str, moves: list[dict[str, Any]]) -> bool:
    """Whether replaying ``moves`` violates property ``name`` first at its last move:
    what a shortest counterexample of it must do."""
    verdicts = {v.name: v.step for v in path_verdicts(model, moves)}
    return verdicts.get(name) == len(moves)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trace", type=Path, help="write the counterexample here")
    parser.add_argument("--skip-safe", action="store_true", help="search raft-unsafe-commit only")
    parser.add_argument(
        "--max-depth", type=int, help=f"bound the safe search [default: {SAFE_MAX_DEPTH}]"
    )
    args = parser.parse_args(argv)
    model, space, result, figures = run("raft-unsafe-commit", None)
    print(json.dumps(figures), flush=True)
    if not result.discoveries:
        print("FAILED: no counterexample for raft-unsafe-commit", file=sys.stderr)
        return 1
    lengths = {name: len(found.path) for name, found in result.discoveries.items()}
    story = result.discoveries.get("state machine safety")
    if story is None:
        print("FAILED: raft-unsafe-commit never applied two commands at one index", file=sys.stderr)
        return 1
    for name, found in result.discoveries.items():
        if not violates_at_its_end(model, name, path_to_json(space, found.path)):
            print(f"FAILED: the {name} path does not violate it on replay", file=sys.stderr)
            return 1
    moves = path_to_json(space, story.path)
    verdicts = {v.name: v.step for v in path_verdicts(model, moves)}
    print(json.dumps({"shortest": lengths, "story_verdicts": verdicts}), flush=True)
    for line in narrate(model, moves):
        print(line, flush=True)
    if args.trace is not None:
        replay(model, moves).trace.write(args.trace)
        print(f"trace written to {args.trace}", flush=True)
    if not args.skip_safe:
        depth = args.max_depth if args.max_depth is not None else SAFE_MAX_DEPTH
        _, _, safe, figures = run("raft", depth)
        print(json.dumps(figures), flush=True)
        if safe.discoveries:
            print("FAILED: raft has a counterexample", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
