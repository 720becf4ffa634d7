"""The explorer against a reference no one here wrote: Stateright's pinned state counts
(``examples/paxos.rs``, ``examples/2pc.rs``) reproduced exactly, its pinned Paxos
discovery replayed as a valid example, and each figure shown able to go red."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out
from smrkit.explore.models import Model, build_model, paxos_model, tpc_model
from smrkit.explore.properties import View, eventually
from smrkit.explore.replay import path_to_json, walk
from smrkit.explore.search import search
from smrkit.explore.space import Move, Space
from smrkit.explore.symmetry import Symmetry
from smrkit.protocols.consensus import paxos
from smrkit.protocols.consensus import two_phase_commit as tpc
from smrkit.protocols.register import Get, Put, PutOk
from smrkit.sim.trace import encode


def _unique(model: Model, *, bfs: bool, symmetry: bool = False) -> int:
    space = model.build_space()
    reduce = Symmetry(space, model.symmetric) if symmetry else None
    result = search(space, model.properties, bfs=bfs, symmetry=reduce)
    assert result.complete and result.ok
    return result.unique


@pytest.mark.parametrize("bfs", [True, False], ids=["bfs", "dfs"])
def test_paxos_with_two_clients_and_three_servers_has_stateright_s_16668_states(
    bfs: bool,
) -> None:
    assert _unique(paxos_model(servers=3, clients=2), bfs=bfs) == 16_668


def test_two_phase_commit_has_stateright_s_counts() -> None:
    assert _unique(tpc_model(3), bfs=True) == 288
    assert _unique(tpc_model(5), bfs=False) == 8_832
    assert _unique(tpc_model(5), bfs=False, symmetry=True) == 665


def test_symmetry_is_stateright_s_plan_not_a_canonical_form() -> None:
    """The reduced count depends on the order states are met (Stateright's representative
    is a stable sort, not a canonical form): another move order gives another count."""
    model = tpc_model(5)
    model.space.move_order = _reversed
    space = model.build_space()
    reduced = search(space, model.properties, bfs=False, symmetry=Symmetry(space, model.symmetric))
    assert reduced.unique != 665
    assert reduced.ok


def _reversed(space: Space, move: Move) -> Any:
    key = tpc_model(5).space.move_order
    assert key is not None
    return tuple(-k if isinstance(k, int) else k for k in key(space, move))


def test_the_bfs_example_of_value_chosen_is_a_shortest_path() -> None:
    model = paxos_model()
    space = model.build_space()
    result = search(space, model.properties, bfs=True)
    path = result.discoveries["value chosen"].path
    assert len(path) == 8  # Stateright's pinned example has 8 deliveries too
    last = walk(space, path_to_json(space, path))[-1]
    assert model.properties[1].condition(View(space, last))


def test_stateright_s_pinned_discovery_is_an_example_here() -> None:
    """``can_model_paxos`` pins a path to "value chosen"; with actors 0-2 as p1-p3 and 3-4
    as c1-c2 (ballot ``(1, Id 1)`` is ``(1, rank 2)``), every move of it is possible in
    our model and its last state satisfies the property."""
    ballot = (1, 2)
    proposal = (4, "c2", "B")
    moves = [
        ("c2", "p2", Put(4, "B")),
        ("p2", "p1", paxos.Prepare(ballot)),
        ("p1", "p2", paxos.Prepared(ballot, None)),
        ("p2", "p3", paxos.Accept(ballot, proposal)),
        ("p3", "p2", paxos.Accepted(ballot)),
        ("p2", "c2", PutOk(4)),
        ("p2", "p3", paxos.Decided(ballot, proposal)),
        ("c2", "p3", Get(8)),
    ]
    model = paxos_model()
    space = model.build_space()
    path = [
        {"kind": "deliver", "src": src, "dst": dst, "msg": encode(msg)} for src, dst, msg in moves
    ]
    states = walk(space, path)
    view = View(space, states[-1])
    assert model.properties[1].condition(view)
    assert all(model.properties[0].condition(View(space, s)) for s in states)


class ForgetfulLeader(paxos.PaxosServer):
    """Proposes its own client's value even when a majority reported an accepted one."""

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, paxos.Prepared) and not self.is_decided:
            msg = paxos.Prepared(msg.ballot, None)
        super().on_message(src, msg, out)


class SilentServer(paxos.PaxosServer):
    """Never answers a ``Get``."""

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if not isinstance(msg, Get):
            super().on_message(src, msg, out)


def _with_servers(cls: Callable[..., paxos.PaxosServer]) -> Model:
    model = paxos_model()
    build = model.nodes

    def nodes() -> list[Any]:
        built = build()
        servers = tuple(n.id for n in built[:3])
        return [cls(s, servers) for s in servers] + built[3:]

    model.nodes = nodes
    return model


def test_linearizable_goes_red_for_a_leader_that_forgets_accepted_values() -> None:
    model = _with_servers(ForgetfulLeader)
    space = model.build_space()
    result = search(space, model.properties, bfs=True)
    assert result.verdict(model.properties[0]) == "violated"
    path = result.discoveries["linearizable"].path
    states = walk(space, path_to_json(space, path))
    assert not model.properties[0].condition(View(space, states[-1]))
    assert all(model.properties[0].condition(View(space, s)) for s in states[:-1])


def test_value_chosen_goes_red_when_no_server_answers_a_get() -> None:
    model = _with_servers(SilentServer)
    result = search(model.build_space(), model.properties, bfs=True)
    assert result.complete
    assert result.verdict(model.properties[1]) == "not found"
    assert not result.ok
    assert result.unique != 16_668


def test_consistent_goes_red_when_an_rm_commits_on_its_own() -> None:
    class Rogue(tpc.ResourceManager):
        def on_timer(self, timer: object, out: Out) -> None:
            if timer == tpc.ABORT and self.id == "p1":
                self.state = tpc.RmState.COMMITTED
                out.cancel_timer(tpc.PREPARE)
                return
            super().on_timer(timer, out)

    model = tpc_model(3)
    model.nodes = lambda: (
        [Rogue(rm) for rm in ("p1", "p2", "p3")] + [tpc.TransactionManager(("p1", "p2", "p3"))]
    )
    result = search(model.build_space(), model.properties, bfs=True)
    assert result.verdict(model.properties[2]) == "violated"
    assert len(result.discoveries["consistent"].path) == 2  # p1 "commits", p2 aborts


def test_eventually_is_checked_where_paths_end() -> None:
    model = tpc_model(3)
    decided = (tpc.RmState.COMMITTED, tpc.RmState.ABORTED)

    def all_decided(view: View) -> bool:
        return all(view.node(rm).state in decided for rm in ("p1", "p2", "p3"))  # type: ignore[attr-defined]

    def all_committed(view: View) -> bool:
        return all(view.node(rm).state == tpc.RmState.COMMITTED for rm in ("p1", "p2", "p3"))  # type: ignore[attr-defined]

    properties = (eventually("decided", all_decided), eventually("committed", all_committed))
    result = search(model.build_space(), properties, bfs=True)
    assert result.verdict(properties[0]) == "holds"
    assert result.verdict(properties[1]) == "violated"
    assert len(result.discoveries["committed"].path) == 4  # the TM aborts; each RM hears it


def test_a_bound_stops_the_search_and_says_so() -> None:
    model = build_model("paxos")
    result = search(model.build_space(), model.properties, max_states=1000)
    assert result.stopped_by == "max-states" and not result.complete
    assert result.unique >= 1000
    assert result.verdict(model.properties[0]) == "holds so far"
    shallow = search(model.build_space(), model.properties, max_depth=5)
    assert shallow.stopped_by == "max-depth"
    assert shallow.max_depth == 5
    assert shallow.verdict(model.properties[1]) == "not found so far"


def test_a_search_can_start_anywhere_and_withhold_moves() -> None:
    """What FLP's valency search needs: start from a reached configuration, and never
    deliver one message."""
    model = paxos_model()
    space = model.build_space()
    put = {"kind": "deliver", "src": "c1", "dst": "p1", "msg": encode(Put(3, "A"))}
    after_put = walk(space, [put])[-1]
    withheld = "Put"

    def allow(move: Move) -> bool:
        return move.kind != "deliver" or type(space.envelope(move.item)[2]).__name__ != withheld

    result = search(space, model.properties, initial=after_put, allow=allow)
    assert result.initial == after_put
    assert result.unique < 16_668
    assert result.verdict(model.properties[1]) == "found"  # c1's value, through p1
    blocked = search(space, model.properties, allow=allow)
    assert blocked.unique == 1  # from the start, every move is a Put
