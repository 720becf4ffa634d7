"""The model checker under ``lock-step``: floodset's f + 1 round bound, found and held.

With f = 1 crash and ``rounds = f`` the explorer finds the dangerous chain (p1, holding
the least value, crashes in round 1 with only p2 getting its message; p2 and p3 decide
differently); with ``rounds = f + 1`` agreement holds in every reachable state. Random
walks agree with the kernel's own rounds, crash cuts included."""

from __future__ import annotations

import random

from kernel_protocols import flood

from smrkit.explore.models import Model
from smrkit.explore.properties import View, always
from smrkit.explore.replay import _apply, differences, kernel_world, path_to_json, replay
from smrkit.explore.search import search
from smrkit.explore.space import LOCK_STEP, SpaceConfig

PROCESSES = ("p1", "p2", "p3")


def _agreement(view: View) -> bool:
    decided = {
        view.node(p).decision  # type: ignore[attr-defined]
        for p in PROCESSES
        if not view.is_down(p) and view.node(p).decided  # type: ignore[attr-defined]
    }
    return len(decided) <= 1


def _model(rounds: int) -> Model:
    return Model(
        "flood",
        lambda: flood([0, 1, 1], rounds),
        SpaceConfig(timing=LOCK_STEP, crash_budget=1, crashable=PROCESSES, mid_step_crashes=True),
        (always("agreement", _agreement),),
    )


def test_f_rounds_lose_agreement_through_a_chain() -> None:
    model = _model(rounds=1)
    space = model.build_space()
    result = search(space, model.properties)
    moves = path_to_json(space, result.discoveries["agreement"].path)
    assert moves == [
        {"kind": "round", "round": 1, "crashes": [["p1", ["p2"]]]},
        {"kind": "round", "round": 2, "crashes": []},
    ]
    world = replay(model, moves).world
    decisions = {p: world.nodes[p].decision for p in ("p2", "p3")}  # type: ignore[attr-defined]
    assert decisions == {"p2": 0, "p3": 1}


def test_f_plus_one_rounds_keep_agreement_everywhere() -> None:
    model = _model(rounds=2)
    result = search(model.build_space(), model.properties)
    assert result.complete and result.ok
    assert result.unique > 30


def test_rounds_agree_with_the_kernel() -> None:
    model = _model(rounds=2)
    for seed in range(8):
        rng = random.Random(seed)
        space = model.build_space()
        state = space.initial()
        world = kernel_world(model)
        while True:
            following = space.successors(state)
            if not following:
                break
            move, state = rng.choice(following)
            _apply(world, model, path_to_json(space, [move])[0])
            assert differences(space, state, world) == []
