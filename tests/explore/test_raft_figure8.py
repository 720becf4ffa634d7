"""Figure 8 by BFS: the bounds on the adversary remove behaviours and keep verdicts, and
the bounded search finds the shortest counterexample of ``raft-unsafe-commit`` — pinned
here on searches small enough for CI (``bench/raft_figure8.py`` runs the whole one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench_modules import load_bench
from smrkit.explore.models import Model, model_from_parameters
from smrkit.explore.raft_model import BOUNDS, NEWEST, raft_model
from smrkit.explore.replay import ReplayError, walk
from smrkit.explore.search import search
from smrkit.explore.symmetry import Symmetry
from smrkit.sim.trace import read_trace

FIGURE8 = Path(__file__).parent / "testdata" / "raft_figure8.jsonl"


@pytest.mark.parametrize(
    ("bounds", "unique", "depth"),
    [
        ((), 4_742, 21),
        (("elections-in-turn",), 4_396, 21),
        (("requests-once",), 1_834, 18),
        (("stale-lost",), 2_847, 20),
        (BOUNDS, 804, 17),
    ],
    ids=["none", "elections-in-turn", "requests-once", "stale-lost", "all"],
)
def test_each_bound_removes_behaviours_and_keeps_the_verdicts(
    bounds: tuple[str, ...], unique: int, depth: int
) -> None:
    """Two elections, one client, newest-message links, symmetry: every search is
    complete, every property holds, and each bound leaves fewer states."""
    model = raft_model("raft-unsafe-commit", clients=1, elections=2, links=NEWEST, bounds=bounds)
    space = model.build_space()
    result = search(space, model.properties, symmetry=Symmetry(space, model.symmetric))
    assert result.complete and result.ok
    assert (result.unique, result.max_depth) == (unique, depth)


def _figure8() -> tuple[Model, list[dict[str, Any]]]:
    header = dict(read_trace(FIGURE8).header["explore"])
    moves = header.pop("path")
    header.pop("format")
    return model_from_parameters(header), moves


def test_the_bounded_bfs_finds_the_pinned_path_s_remainder_and_no_shorter() -> None:
    """From the state ten moves along the pinned path, the bounded BFS finds leader
    completeness red 10 moves on and state machine safety 14 moves on: with the ten
    moves before them, the 20 and 24 of the whole search (``bench/raft_figure8.py``).
    A shorter remainder would be a shorter path from the initial state — which the
    whole search says there is not."""
    model, moves = _figure8()
    space = model.build_space()
    halfway = walk(space, moves[:10])[-1]
    result = search(
        space, model.properties, initial=halfway, symmetry=Symmetry(space, model.symmetric)
    )
    assert result.complete
    assert (result.states, result.unique, result.max_depth) == (3_294, 1_983, 20)
    lengths = {name: len(found.path) for name, found in result.discoveries.items()}
    assert lengths == {"leader completeness": 10, "state machine safety": 14}


def test_raft_under_the_same_bounds_has_no_counterexample() -> None:
    """The safe ``raft`` under the Figure 8 bounds, to 9 moves (the bench goes to 24):
    every property holds so far — and the pinned path is not a run of it (its leader's
    no-op of term 3 travels with A, so p1 cannot count A committed at move 17)."""
    model = raft_model("raft", clients=2, elections=4, links=NEWEST, bounds=BOUNDS)
    space = model.build_space()
    result = search(
        space, model.properties, max_depth=10, symmetry=Symmetry(space, model.symmetric)
    )
    assert result.ok and result.stopped_by == "max-depth"
    assert (result.states, result.unique) == (4_256, 2_502)
    _, moves = _figure8()
    with pytest.raises(ReplayError):
        walk(space, moves)


def test_the_bench_confirms_a_counterexample_only_where_it_first_goes_red() -> None:
    """``bench/raft_figure8.py`` fails unless each path it found violates its property
    first at its last move on replay: the pinned path does so at 20 (leader
    completeness) and 24 (state machine safety); one move short, or one too many, it
    does not."""
    bench = load_bench("raft_figure8")
    model, moves = _figure8()
    assert bench.violates_at_its_end(model, "state machine safety", moves)
    assert bench.violates_at_its_end(model, "leader completeness", moves[:20])
    assert not bench.violates_at_its_end(model, "state machine safety", moves[:23])
    assert not bench.violates_at_its_end(model, "leader completeness", moves[:21])
    assert not bench.violates_at_its_end(model, "election safety", moves)
