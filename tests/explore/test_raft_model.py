"""Raft in the model checker: the state counts of small configurations pinned (a change
in the protocol or the explorer shows up as a changed count), every property holding in
every state of ``raft``, and each property able to go red."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smrkit.core.messages import ClientRequest
from smrkit.core.ops import Command, Op
from smrkit.explore.models import model_from_parameters
from smrkit.explore.properties import View
from smrkit.explore.raft_model import (
    election_safety,
    leader_completeness,
    log_matching,
    narrate,
    obsolete,
    raft_model,
    state_machine_safety,
)
from smrkit.explore.replay import (
    ReplayError,
    differences,
    path_to_json,
    path_verdicts,
    replay,
    walk,
)
from smrkit.explore.search import search
from smrkit.explore.symmetry import Symmetry
from smrkit.protocols.raft.messages import AppendReply, VoteReply
from smrkit.protocols.raft.node import CANDIDATE, FOLLOWER, LEADER
from smrkit.sim.trace import read_trace

SERVERS = ("p1", "p2", "p3")
FIGURE8 = Path(__file__).parent / "testdata" / "raft_figure8.jsonl"
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(
    ("elections", "clients", "unique", "depth"),
    [(2, 0, 2_920, 18), (1, 2, 2_938, 19)],
    ids=["two-elections", "one-election-two-clients"],
)
def test_raft_holds_every_property_in_every_state(
    elections: int, clients: int, unique: int, depth: int
) -> None:
    model = raft_model("raft", clients=clients, elections=elections)
    result = search(model.build_space(), model.properties)
    assert result.complete and result.ok
    assert [result.verdict(p) for p in model.properties] == ["holds"] * 4
    assert (result.unique, result.max_depth) == (unique, depth)


def test_symmetry_keeps_the_verdicts_with_fewer_states() -> None:
    """Renaming servers (Stateright's representatives; raft's states hold ``None`` beside
    names, so they are ordered by their number there) cuts the count by 3.6x here."""
    model = raft_model("raft", clients=0, elections=2)
    space = model.build_space()
    result = search(space, model.properties, symmetry=Symmetry(space, model.symmetric))
    assert result.complete and result.ok
    assert (result.unique, result.max_depth) == (806, 18)


def test_the_model_reads_back_from_its_parameters() -> None:
    model = raft_model("raft-unsafe-commit", clients=1, elections=3, crashes=1)
    again = model_from_parameters(dict(model.parameters))
    assert again.parameters == model.parameters and again.name == "raft-unsafe-commit"


def test_the_explorer_steps_raft_as_the_kernel_does() -> None:
    """Walk a path of the search on a kernel world beside it: the servers' states agree
    state by state (the pools differ by design: the model drops client replies, copies
    of a message in flight, and messages no move can use)."""
    model = raft_model("raft", clients=2, elections=2)
    space = model.build_space()
    state, path = space.initial(), []
    for _ in range(16):
        following = space.successors(state)
        if not following:
            break
        move, state = following[len(following) // 2]
        path.append(move)
    assert len(path) == 16
    moves = path_to_json(space, path)
    states = walk(space, moves)
    replayed = replay(model, moves)
    node_diffs = [d for d in differences(space, states[-1], replayed.world) if "state" in d]
    assert node_diffs == []


def test_figure_8_in_the_unsafe_variant_loses_a_committed_entry() -> None:
    """The kept path, BFS's shortest under the Figure 8 bounds (``bench/raft_figure8.py``):
    p1 commits A of term 1 in term 3 by counting, then votes p2 — whose B of term 2 is
    newer — leader of term 4 without A (leader completeness, move 20), and p2 commits
    B where p1 applied A (state machine safety, move 24). The same moves against
    ``raft`` do not even apply: its leader's no-op travels with A."""
    header = dict(read_trace(FIGURE8).header["explore"])
    moves = header.pop("path")
    header.pop("format")
    model = model_from_parameters(header)
    assert model.name == "raft-unsafe-commit" and len(moves) == 24
    assert model.parameters["bounds"] == ("elections-in-turn", "requests-once", "stale-lost")
    verdicts = {v.name: v.step for v in path_verdicts(model, moves)}
    assert verdicts == {
        "election safety": None,
        "log matching": None,
        "leader completeness": 20,
        "state machine safety": 24,
    }
    assert replay(model, moves).trace.trace_hash() == read_trace(FIGURE8).trace_hash()
    story = narrate(model, moves)
    readme = README.read_text().splitlines()
    first = readme.index("    " + story[0])
    assert readme[first : first + len(story)] == ["    " + line for line in story]
    assert "in term 3 by counting replicas" in story[14] and "overwrites entry 1" in story[-2]
    safe = raft_model(
        "raft", clients=2, elections=4, links="newest", bounds=model.parameters["bounds"]
    )
    with pytest.raises(ReplayError):
        walk(safe.build_space(), moves)


# --- each property can go red ------------------------------------------------------------


class _Facts:
    """A view whose servers are given as ``(term, leader, log, commit, applied)``."""

    def __init__(self, facts: dict[str, tuple[Any, ...]], aux: Any = None) -> None:
        self.facts = facts
        self.aux_value = aux if aux is not None else (frozenset(), frozenset())

    def node_fact(self, node: str, fact: Callable[[Any], Any]) -> Any:
        return self.facts[node]

    def aux_fact(self, fact: Callable[[Any], Any]) -> Any:
        return fact(self.aux_value)


def _cmd(value: str) -> Command:
    return Command("c1", 1, Op("put", "x", value))


A, B = (1, _cmd("A")), (2, _cmd("B"))


def _check(check: Callable[[View, tuple[str, ...]], bool], view: _Facts) -> bool:
    return check(view, SERVERS)  # type: ignore[arg-type]


def test_election_safety_goes_red_on_two_leaders_of_one_term() -> None:
    quiet = {s: (1, False, (), 0, ()) for s in SERVERS}
    assert _check(election_safety, _Facts(quiet))
    two_now = {**quiet, "p1": (1, True, (), 0, ()), "p2": (1, True, (), 0, ())}
    assert not _check(election_safety, _Facts(two_now))
    earlier = (frozenset(), frozenset({(1, "p1"), (1, "p2")}))
    assert not _check(election_safety, _Facts(quiet, earlier))


def test_log_matching_goes_red_on_logs_that_agree_on_a_term_but_not_before() -> None:
    base = {s: (1, False, (A,), 0, ()) for s in SERVERS}
    assert _check(log_matching, _Facts(base))
    split = {**base, "p2": (2, False, ((1, _cmd("Z")), (2, None)), 0, ())}
    split["p1"] = (2, False, (A, (2, None)), 0, ())
    assert not _check(log_matching, _Facts(split))


def test_leader_completeness_goes_red_on_a_leader_without_a_committed_entry() -> None:
    facts = {
        "p1": (3, False, (A,), 1, (A[1],)),
        "p2": (4, True, (B,), 0, ()),
        "p3": (4, False, (A,), 0, ()),
    }
    assert not _check(leader_completeness, _Facts(facts))
    facts["p2"] = (4, True, (A, (4, None)), 0, ())
    assert _check(leader_completeness, _Facts(facts))


def test_leader_completeness_counts_a_committer_that_moved_on_to_the_leader_s_term() -> None:
    """Figure 8's path: p1 committed A in term 3, then voted p2 leader of term 4 — p1 is
    in term 4 now, and what it committed still binds the leader of term 4; a server
    of a later term than the leader's does not (the leader may be stale)."""
    facts = {
        "p1": (4, False, (A,), 1, (A[1],)),
        "p2": (4, True, (B,), 0, ()),
        "p3": (4, False, (A,), 0, ()),
    }
    assert not _check(leader_completeness, _Facts(facts))
    facts["p1"] = (5, False, (A,), 1, (A[1],))
    assert _check(leader_completeness, _Facts(facts))


def test_state_machine_safety_goes_red_on_two_commands_at_one_index() -> None:
    facts = {s: (4, False, (), 0, ()) for s in SERVERS}
    facts["p1"] = (4, False, (A,), 1, (A[1],))
    assert _check(state_machine_safety, _Facts(facts))
    facts["p2"] = (4, True, (B,), 1, (B[1],))
    assert not _check(state_machine_safety, _Facts(facts))


# --- messages that can change nothing ----------------------------------------------------


def test_obsolete_messages_are_replies_no_state_of_their_destination_can_use() -> None:
    model = raft_model("raft", clients=0, elections=1)
    node = model.nodes()[0]
    node.term, node.role, node.votes = 2, CANDIDATE, ["p1", "p2"]  # type: ignore[attr-defined]
    assert obsolete(node, "p2", VoteReply(1, True))  # an older term
    assert obsolete(node, "p2", VoteReply(2, True))  # counted already
    assert obsolete(node, "p3", VoteReply(2, False))  # a refusal
    assert not obsolete(node, "p3", VoteReply(2, True))  # a vote still to count
    assert not obsolete(node, "p3", VoteReply(3, False))  # a newer term: step down
    assert not obsolete(node, "p3", AppendReply(2, False, 0, 0, 0))  # may lead term 2
    node.role = FOLLOWER  # type: ignore[attr-defined]
    assert obsolete(node, "p3", AppendReply(2, True, 1, 0, 0))
    node.role = LEADER  # type: ignore[attr-defined]
    assert not obsolete(node, "p3", AppendReply(2, True, 1, 0, 0))
    assert not obsolete(node, "c1", ClientRequest("c1", 1, Op("put", "x", "A")))
