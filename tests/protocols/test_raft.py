"""Raft in the simulator: it elects, replicates and commits; it survives the faults of
its model; a restarted voter keeps its word; snapshots and parts carry a lagging
follower; the builder runs it over any state machine."""

from __future__ import annotations

import random
from typing import Any

import pytest

from smrkit.check.evaluate import evaluate_run
from smrkit.core.node import Out
from smrkit.core.ops import Op, Value
from smrkit.core.state_machine import InvalidOperationError
from smrkit.protocols.client import StandardClient
from smrkit.protocols.raft import RaftNode, build_raft_group
from smrkit.protocols.raft.messages import AppendEntries, InstallSnapshot, RequestVote, VoteReply
from smrkit.protocols.raft.node import LEADER
from smrkit.sim.faults import FaultPlan
from smrkit.sim.kernel.world import World
from smrkit.sim.network import PartialSyncNetwork
from smrkit.sim.simulator import Simulator
from smrkit.sim.world import SimConfig, SimRun, run_simulation


def _run(
    *faults: str,
    seed: int = 1,
    replicas: int = 5,
    ops: int = 200,
    message_bytes_max: int | None = None,
    **kw: Any,
) -> SimRun:
    fields: dict[str, Any] = {"protocol": "raft", "gst_s": 1.0, **kw}
    config = SimConfig(
        replicas=replicas, ops=ops, timing="partial-sync", faults=faults, seed=seed, **fields
    )
    if message_bytes_max is None:
        return run_simulation(config)
    return run_simulation(config, message_bytes_max=message_bytes_max)


def _raft_nodes(run: SimRun) -> list[RaftNode]:
    return [node for node in run.nodes.values() if isinstance(node, RaftNode)]


def _all_hold(run: SimRun) -> dict[str, Any]:
    evaluation = evaluate_run(run)
    assert evaluation.ok, {k: v.summary for k, v in evaluation.checks.items() if not v.ok}
    assert list(evaluation.checks)[:4] == [
        "linearizable",
        "log_agreement",
        "election_safety",
        "leader_completeness",
    ]
    return evaluation.measured()


def test_raft_elects_replicates_and_commits_every_command() -> None:
    run = _run(replicas=3)
    measured = _all_hold(run)
    nodes = _raft_nodes(run)
    leaders = [node for node in nodes if node.role == LEADER]
    assert len(leaders) == 1
    # The leader applied all 200 commands (its no-ops are not commands); every server
    # holds every entry, and applied a prefix of them: a follower learns the last
    # commit index with the next heartbeat, which may come after the run's end.
    assert len(leaders[0].applied) == 200
    assert all(node.log.last_index == leaders[0].log.last_index for node in nodes)
    assert all(len(node.applied) >= 190 for node in nodes)
    assert measured["committed"] >= 200 and measured["elections"] >= 1
    assert measured["commit_latency"]["count"] > 0


def test_a_lone_server_commits_each_command_in_the_step_that_takes_it() -> None:
    """n = 1: the leader's own log is the majority (the leader skips the commit rule on
    a request only when a follower must hold the entry too)."""
    run = _run(replicas=1)
    measured = _all_hold(run)
    assert [len(node.applied) for node in _raft_nodes(run)] == [200]
    assert measured["commit_latency"]["max_s"] == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_raft_survives_the_leader_crash_and_a_cut_link(seed: int) -> None:
    run = _run("crash:p1@2.0", "link:p2-p3@1.0..3.0", seed=seed)
    assert not run.admissibility  # a cut link is one end's omissions: within f = 2
    _all_hold(run)


def _leader_at(t: float, **kw: Any) -> str:
    """Who leads at ``t`` in the fault-free run (a run with a crash at ``t`` is the same
    run until then)."""
    run = _run(**kw)
    elected = [e for e in run.trace.events if e.kind == "elected" and e.t <= t]
    return str(elected[-1].node)


def test_the_time_to_elect_after_the_leaders_crash_is_measured() -> None:
    leader = _leader_at(1.5, replicas=3, ops=300)
    run = _run(f"crash:{leader}@1.5", replicas=3, ops=300)
    measured = _all_hold(run)
    crashes = measured["leader_crashes"]
    assert [c["leader"] for c in crashes] == [leader]
    # An election time-out in [2τ + 2δ, 4τ + 4δ] (0.12 … 0.24 s), then a vote round.
    assert 0.12 <= crashes[0]["elect_s"] <= 0.24 + 2 * 0.01 + 0.05
    assert measured["elect_after_crash_s_max"] == crashes[0]["elect_s"]


def test_a_run_that_commits_nothing_has_no_liveness_figures_and_fails() -> None:
    run = _run("crash:p2@0", "crash:p3@0", replicas=3, ops=20, gst_s=0.0, time_limit_s=3.0)
    evaluation = evaluate_run(run)
    measured = evaluation.measured()
    assert measured["elect_after_gst_s"] is None
    assert measured["commit_latency"]["median_s"] is None
    assert not evaluation.checks["live_after_gst"].ok
    assert not evaluation.ok


# --- persistence: a restarted voter keeps its vote (PySyncObj issue #84) ---------------


def _voter_step(node: RaftNode, out: Out, src: str, msg: object) -> list[object]:
    out.clear()
    node.on_message(src, msg, out)  # type: ignore[arg-type]
    return [m for _, m in out.sends]


def _restart(saves: dict[str, object]) -> tuple[RaftNode, Out]:
    node = build_raft_group(["p1", "p2", "p3"], "kv", delta_s=0.01, tau_s=0.05)[1]
    out = Out(random.Random(0), saves)
    node.on_start(out)
    return node, out


def test_a_restarted_voter_does_not_vote_twice_in_a_term() -> None:
    voter, out = _restart({})
    saves: dict[str, object] = dict(out.saves)
    assert _voter_step(voter, out, "p1", RequestVote(1, 0, 0)) == [VoteReply(1, True)]
    saves.update(out.saves)  # what the runtime made durable before the reply left
    # p2 crashes and comes back with what it saved; p3 asks for a vote in the same term.
    again, out = _restart(saves)
    assert (again.term, again.voted_for) == (1, "p1")
    assert _voter_step(again, out, "p3", RequestVote(1, 0, 0)) == [VoteReply(1, False)]
    # The same voter without its saves (PySyncObj's bug) would vote twice: the test
    # above is what tells them apart.
    forgetful, out = _restart({})
    assert _voter_step(forgetful, out, "p3", RequestVote(1, 0, 0)) == [VoteReply(1, True)]


def test_a_restarted_follower_keeps_the_entries_it_acknowledged() -> None:
    follower, out = _restart({})
    saves: dict[str, object] = dict(out.saves)
    _voter_step(follower, out, "p1", RequestVote(1, 0, 0))
    saves.update(out.saves)
    entry = AppendEntries(1, 0, 0, (1,), (None,), 0)
    replies = _voter_step(follower, out, "p1", entry)
    saves.update(out.saves)
    assert [getattr(r, "success", None) for r in replies] == [True]
    again, _ = _restart(saves)
    assert again.log.last_index == 1 and again.log.term_at(1) == 1


def test_restarts_in_a_run_keep_every_check() -> None:
    run = _run("crash:p1@1.2", "restart:p1@1.6", "crash:p2@2.0", "restart:p2@2.3", seed=4)
    assert not run.admissibility  # restarts are within Raft's model
    _all_hold(run)


# --- snapshots and parts -----------------------------------------------------------------


def test_a_follower_far_behind_catches_up_through_a_snapshot_in_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored: dict[str, dict[str, object]] = {}
    persist = World.persist

    def keep(world: World, node: str, saves: Any) -> None:
        persist(world, node, saves)
        stored[node] = world.storage[node]

    monkeypatch.setattr(World, "persist", keep)
    run = _run("general-omission:p2@0.5..9.0", ops=1400, message_bytes_max=400, seed=2)
    _all_hold(run)
    p2 = run.nodes["p2"]
    assert isinstance(p2, RaftNode)
    assert p2.applied_offset > 0  # it took commands over in a snapshot
    leader = next(node for node in _raft_nodes(run) if node.role == LEADER)
    assert leader.log.base_index > 0  # the leader's log was compacted
    assert len(leader.log.terms) <= leader.config.log_entries_max + 50
    to_p2 = [e.data for e in run.trace.events if e.kind == "send" and e.other == "p2"]
    assert sum(isinstance(m, InstallSnapshot) and m.parts > 1 for m in to_p2) >= 2
    assert p2.snapshot is not None and p2.last_applied > p2.snapshot.index  # and went on
    # A compaction deletes the saved entries its snapshot covers: the storage stays
    # bounded, and holds exactly what a restart reads back (the snapshot, then the log).
    assert leader.snapshot is not None
    entries = {int(k.split("/")[1]) for k in stored[leader.id] if k.startswith("entry/")}
    assert min(entries) == leader.snapshot.index + 1
    assert max(entries) == leader.log.last_index == stored[leader.id]["last"]
    again = RaftNode(leader.id, leader.config)
    out = Out(random.Random(0), dict(stored[leader.id]))
    again.on_start(out)
    assert again.log.last_index == leader.log.last_index and again.snapshot == leader.snapshot


# --- the builder ---------------------------------------------------------------------------


class Configuration:
    """A toy state machine other than the registered apps: a chain's members."""

    name = "configuration"

    def __init__(self) -> None:
        self.members: tuple[str, ...] = ()
        self.version = 0

    def apply(self, op: Op) -> Value:
        if op.f == "set" and isinstance(op.value, tuple):
            self.members = tuple(str(m) for m in op.value)
            self.version += 1
            return self.version
        if op.f == "get":
            return (self.version, self.members)
        raise InvalidOperationError(f"configuration has no op {op.f!r}")

    def snapshot(self) -> Value:
        return (self.version, self.members)

    def restore(self, snapshot: Value) -> None:
        assert isinstance(snapshot, tuple)
        version, members = snapshot
        assert isinstance(version, int) and isinstance(members, tuple)
        self.version, self.members = version, tuple(str(m) for m in members)


class Ops:
    def __init__(self) -> None:
        self.left = [Op("set", None, ("p1", "p2")), Op("get"), Op("set", None, ("p3",))]
        self.left += [Op("nope")]

    def next_op(self, client: str, rng: random.Random) -> Op | None:
        return self.left.pop(0) if self.left else None


def test_build_raft_group_replicates_any_deterministic_state_machine() -> None:
    servers = ["p1", "p2", "p3"]
    nodes: list[Any] = build_raft_group(
        servers, Configuration, delta_s=0.01, tau_s=0.05, clients=["c1"]
    )
    nodes.append(StandardClient("c1", servers, Ops(), timeout_s=0.08))
    network = PartialSyncNetwork(0.01, 0.001, 0.5, 0.1, random.Random(3))
    simulator = Simulator(
        nodes, seed=3, network=network, plan=FaultPlan(), header={}, time_limit_s=30.0
    )
    trace = simulator.run()
    replies = [e.data for e in trace.events if e.kind == "complete"]
    assert replies == [("ok", 1), ("ok", (1, ("p1", "p2"))), ("ok", 2), ("fail", None)]
    states = {n.id: n.service.app.snapshot() for n in nodes if isinstance(n, RaftNode)}
    assert set(states.values()) == {(2, ("p3",))}


def test_a_peers_malformed_message_is_counted_and_dropped() -> None:
    node, out = _restart({})
    bad = [
        RequestVote(-1, 0, 0),
        AppendEntries(1, 0, 0, (1, 1), (None,), 0),  # two terms, one command
        AppendEntries(1, 0, 0, (5,), (None,), 0),  # an entry newer than the term
        InstallSnapshot(1, 3, 1, 2, 2, ()),  # part 2 of 2
    ]
    for msg in bad:
        assert _voter_step(node, out, "p1", msg) == []
    assert _voter_step(node, out, "p9", RequestVote(1, 0, 0)) == []
    assert sum(node.anomalies.values()) == 5
    assert node.anomalies["message from a stranger"] == 1
    # It goes on serving: a correct request gets its vote.
    assert _voter_step(node, out, "p1", RequestVote(1, 0, 0)) == [VoteReply(1, True)]
