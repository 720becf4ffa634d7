"""Raft's liveness rules, each shown red when turned off: PreVote (a server back from a
partition deposes a working leader only without it), CheckQuorum (a leader cut off from
the others keeps its role only without it), and heartbeats that resend only to a
follower that has not replied since the last one. Pinned seeds of the simulator; the
sweep over seeds is ``bench/raft_partition.py``."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from smrkit.check.evaluate import evaluate_run
from smrkit.core.messages import PrimaryHint
from smrkit.core.node import Out
from smrkit.protocols.raft import RaftNode, build_raft_group
from smrkit.protocols.raft.messages import (
    AppendEntries,
    AppendReply,
    PreVote,
    PreVoteReply,
    RequestVote,
    VoteReply,
)
from smrkit.protocols.raft.node import CANDIDATE, ELECTION, FOLLOWER, HEARTBEAT, LEADER
from smrkit.sim.kernel.records import PRIMARY, SEND
from smrkit.sim.trace import Trace
from smrkit.sim.world import SimConfig, SimRun, build_simulator


def _run(*faults: str, pre_vote: bool = True, check_quorum: bool = True) -> SimRun:
    """n = 3, seed 1 (p2 leads from 0.16 s), the servers' two rules as given."""
    config = SimConfig(protocol="raft", replicas=3, ops=400, faults=faults, seed=1)
    simulator, run = build_simulator(config)
    for node in simulator.world.nodes.values():
        if isinstance(node, RaftNode):
            node.config = replace(node.config, pre_vote=pre_vote, check_quorum=check_quorum)
    simulator.run()
    assert evaluate_run(run).ok
    return run


def _servers(run: SimRun) -> list[RaftNode]:
    return [node for node in run.nodes.values() if isinstance(node, RaftNode)]


def _role_changes(trace: Trace, node: str) -> list[tuple[float, bool]]:
    return [(e.t, bool(e.data)) for e in trace.events if e.kind == PRIMARY and e.node == node]


# --- PreVote ----------------------------------------------------------------------------------


@pytest.mark.parametrize("pre_vote", [True, False])
def test_a_server_back_from_a_partition_deposes_the_leader_only_without_pre_vote(
    pre_vote: bool,
) -> None:
    """p3 hears nothing for a second (eight election time-outs). Without PreVote it
    stands in terms 2 to 7 there, and its term, once the partition heals, deposes p2 —
    an election nobody needed. With PreVote it asks, hears no answer, and never raises
    its term: p2 leads term 1 all along."""
    run = _run("general-omission:p3@0.5..1.5", pre_vote=pre_vote)
    p2_led = _role_changes(run.trace, "p2")
    terms = {node.id: node.term for node in _servers(run)}
    if pre_vote:
        assert p2_led == [(pytest.approx(0.1559, abs=1e-4), True)]
        assert terms == {"p1": 1, "p2": 1, "p3": 1}
        assert evaluate_run(run).measured()["elections"] == 1
    else:
        assert [up for _, up in p2_led] == [True, False, True]  # deposed, elected again
        assert 1.5 < p2_led[1][0] < 1.8
        assert terms == {"p1": 8, "p2": 8, "p3": 8}
        assert evaluate_run(run).measured()["elections"] == 2


def _follower(now: float = 0.0) -> tuple[RaftNode, Out]:
    node = build_raft_group(["p1", "p2", "p3"], "kv", delta_s=0.01, tau_s=0.05)[1]
    out = Out(random.Random(0))
    out.now = now
    node.on_start(out)
    return node, out


def _step(node: RaftNode, out: Out, src: str, msg: object, now: float) -> list[object]:
    out.clear()
    out.now = now
    node.on_message(src, msg, out)  # type: ignore[arg-type]
    return [m for _, m in out.sends]


def test_a_pre_vote_changes_no_term_and_no_vote_and_a_leaders_follower_refuses_it() -> None:
    node, out = _follower()
    # A follower that has heard no leader would vote for p1 in term 1: it says so and
    # stays in term 0 with no vote.
    assert _step(node, out, "p1", PreVote(1, 0, 0), 0.0) == [PreVoteReply(1, True)]
    assert (node.term, node.voted_for, out.saves) == (0, None, [])
    # Once p3 leads term 1 and p2 follows it, p2 refuses p1 (and says its term) until
    # an election time-out (2τ + 2δ = 0.12 s) has passed without a word from p3.
    _step(node, out, "p3", AppendEntries(1, 0, 0, (1,), (None,), 0), 1.0)
    assert _step(node, out, "p1", PreVote(2, 1, 1), 1.1) == [PreVoteReply(1, False)]
    assert _step(node, out, "p1", PreVote(2, 1, 1), 1.13) == [PreVoteReply(2, True)]
    # A stale log is refused whatever the time.
    assert _step(node, out, "p1", PreVote(2, 0, 0), 2.0) == [PreVoteReply(1, False)]
    assert (node.term, node.voted_for) == (1, None)


def test_a_server_stands_only_after_a_majority_of_pre_votes() -> None:
    node, out = _follower()
    out.clear()
    node.on_timer(ELECTION, out)
    assert node.term == 0 and node.role == FOLLOWER
    assert [m for _, m in out.sends] == [PreVote(1, 0, 0), PreVote(1, 0, 0)]
    assert ELECTION in out.timers  # no majority in time: it asks again
    # A refusal that carries a newer term: it catches up, and still does not stand.
    assert _step(node, out, "p1", PreVoteReply(3, False), 0.0) == []
    assert (node.term, node.role) == (3, FOLLOWER)
    node.on_timer(ELECTION, out)
    assert _step(node, out, "p3", PreVoteReply(1, True), 0.0) == []  # about another term
    assert node.term == 3
    sent = _step(node, out, "p3", PreVoteReply(4, True), 0.0)
    assert (node.term, node.role, node.voted_for) == (4, CANDIDATE, "p2")
    assert sent == [RequestVote(4, 0, 0), RequestVote(4, 0, 0)]
    assert _step(node, out, "p1", VoteReply(4, True), 0.0) and node.role == LEADER


def test_without_pre_vote_the_time_out_stands_at_once() -> None:
    node, out = _follower()
    node.config = replace(node.config, pre_vote=False)
    out.clear()
    node.on_timer(ELECTION, out)
    assert (node.term, node.role) == (1, CANDIDATE)
    assert [m for _, m in out.sends] == [RequestVote(1, 0, 0), RequestVote(1, 0, 0)]


# --- CheckQuorum ------------------------------------------------------------------------------

CUT_OFF_P2 = ("link:p2-p1@0.5..1.5", "link:p2-p3@0.5..1.5")
"""p2, the leader, cut off from both followers; the clients still reach everyone."""


@pytest.mark.parametrize("check_quorum", [True, False])
def test_a_cut_off_leader_keeps_its_role_only_without_check_quorum(check_quorum: bool) -> None:
    """Cut off at 0.5 s, p2 has no reply from a majority after three heartbeats
    (3τ ≥ 2τ + 2δ): with CheckQuorum it steps down at once, and points the clients it
    holds commands of at p3. Without, it leads until the partition heals and it hears
    the newer term — a leader that can commit nothing, holding requests all along."""
    run = _run(*CUT_OFF_P2, check_quorum=check_quorum)
    p2_led = _role_changes(run.trace, "p2")
    assert [up for _, up in p2_led] == [True, False]
    stepped_down = p2_led[1][0]
    hints = [
        e.data
        for e in run.trace.events
        if e.kind == SEND and e.node == "p2" and isinstance(e.data, PrimaryHint)
    ]
    if check_quorum:
        assert stepped_down == pytest.approx(0.6559, abs=1e-4)  # 0.5 + 3τ, late by 1 ms
        assert PrimaryHint("p3", 1) in hints
        assert _servers(run)[1].quorum_lost == 1
    else:
        assert stepped_down > 1.5
        assert all(hint.primary == "p2" for hint in hints)
        assert _servers(run)[1].quorum_lost == 0


def _leader() -> tuple[RaftNode, Out]:
    node, out = _follower()
    node.config = replace(node.config, pre_vote=False)
    node.on_timer(ELECTION, out)
    _step(node, out, "p1", VoteReply(1, True), 0.0)
    assert node.role == LEADER and node.log.last_index == 1
    return node, out


def test_the_leader_steps_down_after_an_election_time_out_without_a_majority() -> None:
    leader, out = _leader()
    for _ in range(2):  # 2τ since the election: less than 2τ + 2δ, it leads on
        out.clear()
        leader.on_timer(HEARTBEAT, out)
        assert leader.role == LEADER
    _step(leader, out, "p3", AppendReply(1, True, 1, 0, 0), 0.0)  # p3 replies
    for _ in range(3):  # p3's reply may be less than 3τ old: it may be within 2τ + 2δ
        out.clear()
        leader.on_timer(HEARTBEAT, out)
        assert leader.role == LEADER
    out.clear()
    leader.on_timer(HEARTBEAT, out)  # more than 3τ: no majority heard from in time
    assert leader.role == FOLLOWER and out.timers[HEARTBEAT] is None  # cancelled
    assert out.timers[ELECTION] is not None


# --- retransmission only to a follower that stalls ---------------------------------------


def test_a_heartbeat_resends_only_to_a_follower_that_has_not_replied_since_the_last() -> None:
    """The leader appends three entries, p1 acknowledges them all, p3 nothing: the next
    heartbeat sends p1 an empty one and p3 everything from its ``match_index + 1``; the
    heartbeat after that, p1 silent since, resends p1 what it has not acknowledged.
    Resending from ``match_index + 1`` to every follower on every heartbeat — the rule
    before — sent p1 entries 3 and 4 again on the first heartbeat too, while they were
    on their way."""
    leader, out = _leader()
    for index in (2, 3, 4):
        leader.log.append(1, None)
        leader.next_index = {peer: index + 1 for peer in leader.next_index}
    _step(leader, out, "p1", AppendReply(1, True, 2, 0, 0), 0.0)  # p1 holds 2 of 4
    out.clear()
    leader.on_timer(HEARTBEAT, out)
    sent = dict(out.sends)
    # p1 replied since the election: the next part (none: 3 and 4 are on their way).
    assert sent["p1"] == AppendEntries(1, 4, 1, (), (), 2)
    # p3 replied to nothing: it stalls, and gets entries 1 to 4 again.
    assert sent["p3"] == AppendEntries(1, 0, 0, (1, 1, 1, 1), (None,) * 4, 2)
    out.clear()
    leader.on_timer(HEARTBEAT, out)
    sent = dict(out.sends)
    assert sent["p1"] == AppendEntries(1, 2, 1, (1, 1), (None, None), 2)  # stalled now
    assert sent["p3"] == AppendEntries(1, 0, 0, (1, 1, 1, 1), (None,) * 4, 2)
