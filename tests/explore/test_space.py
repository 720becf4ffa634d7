"""The explorer's lean states: frozen node states, and a transition function that is the
kernel's — random walks take the same moves on a search state and on a kernel world
and compare them after every move."""

from __future__ import annotations

import random

import pytest

from smrkit.explore.frozen import freeze, freeze_node, thaw_into
from smrkit.explore.models import Model, build_model
from smrkit.explore.replay import _apply, differences, kernel_world, path_to_json
from smrkit.explore.search import search
from smrkit.protocols.primary_backup.crash import CrashReplica
from smrkit.protocols.registry import ProtocolConfig
from smrkit.sim.kernel.fingerprint import NotPlainDataError

CONFIG = ProtocolConfig(("p1", "p2"), ("c1",), "kv", 0.01, 0.05)


def test_freezing_keeps_sharing_order_and_kinds() -> None:
    replica = CrashReplica("p1", CONFIG)
    replica.heard = {"p2": 3, "p1": 1}
    replica.dead = {"p2"}
    frozen = freeze_node(replica)
    hash(frozen)
    twin = CrashReplica("p1", CONFIG)
    own_config = twin.config
    thaw_into(twin, frozen)
    assert twin.applied is twin.service.log  # one list, two names, as before
    assert list(twin.heard) == ["p2", "p1"]  # insertion order kept
    assert twin.dead == {"p2"} and isinstance(twin.dead, set)
    assert twin.config is own_config  # configuration stays; state is replaced
    assert freeze_node(twin) == frozen
    twin.heard = {"p1": 1, "p2": 3}
    assert freeze_node(twin) != frozen  # a dict in another order is another state


def test_freezing_refuses_what_is_not_plain_data() -> None:
    with pytest.raises(NotPlainDataError, match="random"):
        freeze({"rng": random.Random(1)}, "state")
    with pytest.raises(NotPlainDataError):
        freeze([lambda: 1], "state")


def _walk(model: Model, steps: int, seed: int) -> int:
    rng = random.Random(seed)
    space = model.build_space()
    state = space.initial()
    world = kernel_world(model)
    assert differences(space, state, world) == []
    taken = 0
    for _ in range(steps):
        following = space.successors(state)
        if not following:
            break
        move, state = rng.choice(following)
        _apply(world, model, path_to_json(space, [move])[0])
        assert differences(space, state, world) == [], (taken, move)
        taken += 1
    return taken


@pytest.mark.parametrize("name", ["paxos", "2pc", "pb-crash"])
def test_random_walks_agree_with_the_kernel(name: str) -> None:
    model = build_model(name)
    taken = [_walk(model, 60, seed) for seed in range(12)]
    assert min(taken) >= 3


def test_a_differing_world_is_reported() -> None:
    model = build_model("paxos")
    space = model.build_space()
    state = space.initial()
    world = kernel_world(model)
    node = world.nodes["p1"]
    node.ballot = (9, 9)  # type: ignore[attr-defined]
    world.messages.clear()
    found = differences(space, state, world)
    assert "p1's state differs" in found
    assert any("messages in flight differ" in line for line in found)


def test_node_steps_are_memoized_per_node_state_and_input() -> None:
    model = build_model("paxos")
    space = model.build_space()
    result = search(space, model.properties)
    runs = len(space._raw)
    assert runs < result.states / 3  # far fewer handler runs than moves
