"""Every protocol's node state is plain data, apart from its configuration (DESIGN.md):
a search can copy a whole world and fingerprint it.

For each registered protocol, after a short run with a fault (so logs, reply caches,
relays and votes hold something), every node — replicas and clients — must have an
immutable, hashable ``config``; a state of plain data only (no handle, closure or
random generator); a canonical fingerprint that a deep copy reproduces while sharing the
configuration; and a fingerprint that moves when the state moves.
"""

from __future__ import annotations

import copy
import random

import pytest

from smrkit.core import Message, NodeId, Out, Replica
from smrkit.protocols import ProtocolConfig, get_protocol, protocol_names
from smrkit.sim.kernel.fingerprint import (
    NotPlainDataError,
    canonical,
    fingerprint,
    node_state,
    plain_data_problems,
)
from smrkit.sim.world import SimConfig, run_simulation

FAULT = {
    "pb-simple": "crash:p1@0.3",
    "pb-crash": "crash:p1@0.3/1",
    "pb-link": "link:p1-p2@0.2..0.4",
}


@pytest.mark.parametrize("name", protocol_names())
def test_every_node_of_a_protocol_is_configuration_plus_plain_data(name: str) -> None:
    timing = get_protocol(name).timings[0]
    if timing == "lock-step":  # seed 002's round protocols: a crash in round 1
        config = SimConfig(protocol=name, timing=timing, faults=("crash:p1@r1/p2",))
    else:
        fault = FAULT.get(name, "general-omission:p1@0.3..0.5")
        config = SimConfig(protocol=name, ops=120, faults=(fault,), seed=2)
    run = run_simulation(config)
    auxiliary = run.trace.header.get("auxiliary", [])  # chain's master nodes
    assert set(run.nodes) == {*run.trace.servers, *auxiliary, *run.trace.clients}
    for node_id, node in run.nodes.items():
        hash(node.config)  # type: ignore[attr-defined]  # immutable: frozen dataclasses
        state = node_state(node)
        assert "config" not in state and "id" not in state
        assert plain_data_problems(node, f"{name} {node_id}") == []
        twin = copy.deepcopy(node)
        assert twin.config is node.config  # type: ignore[attr-defined]
        assert fingerprint(node_state(twin)) == fingerprint(state)
        assert canonical(node_state(twin)) == canonical(state)


def test_a_replica_state_that_changes_changes_its_fingerprint() -> None:
    spec = get_protocol("pb-crash")
    config = ProtocolConfig(("p1", "p2"), ("c1",), "kv", 0.01, 0.05)
    first, _ = spec.build(config)
    assert isinstance(first, Replica)
    before = fingerprint(node_state(first))
    first.on_start(Out(random.Random(0)))
    assert fingerprint(node_state(first)) != before
    after = fingerprint(node_state(first))
    first.note("a message from a stranger")
    assert fingerprint(node_state(first)) != after


class Leaky(Replica):
    """State that is not plain data, three ways."""

    def __init__(self, node_id: NodeId) -> None:
        super().__init__(node_id)
        self.rng = random.Random(1)
        self.callback = lambda: None
        self.pending = {"later": self.on_message}

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        pass


def test_handles_closures_and_generators_are_named_where_they_sit() -> None:
    problems = plain_data_problems(Leaky("p1"), "p1")
    assert len(problems) == 3
    assert any(p.startswith("p1.rng is a random generator") for p in problems)
    assert any(p.startswith("p1.callback is a callable (function)") for p in problems)
    assert any(p.startswith("p1.pending['later'] is a callable (method)") for p in problems)
    with pytest.raises(NotPlainDataError, match="random generator"):
        canonical(node_state(Leaky("p1")))


def test_canonical_text_ignores_insertion_order_and_object_identity() -> None:
    a = {"x": {3, 1, 2}, "y": [1, 2], "z": (1.5, None, True)}
    b = {"z": (1.5, None, True), "y": [1, 2], "x": {2, 3, 1}}
    assert canonical(a) == canonical(b) and fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint({**a, "y": [2, 1]})
    assert fingerprint(1) != fingerprint(1.0) != fingerprint("1") != fingerprint(True)
