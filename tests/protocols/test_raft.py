"""Raft in the simulator: it elects, replicates and commits; it survives the faults of
its model; the checks see what it did."""

from __future__ import annotations

import pytest

from smrkit.check.linearizability import check_linearizability
from smrkit.check.logs import check_log_agreement
from smrkit.check.trace_history import history_from_trace
from smrkit.protocols.raft.node import LEADER, RaftNode
from smrkit.sim.world import SimConfig, SimRun, run_simulation


def _run(*faults: str, seed: int = 1, replicas: int = 5, ops: int = 200, **kw: object) -> SimRun:
    config = SimConfig(
        protocol=str(kw.pop("protocol", "raft")),
        replicas=replicas,
        ops=ops,
        timing="partial-sync",
        gst_s=float(kw.pop("gst_s", 1.0)),  # type: ignore[arg-type]
        faults=faults,
        seed=seed,
        **kw,  # type: ignore[arg-type]
    )
    return run_simulation(config)


def _raft_nodes(run: SimRun) -> list[RaftNode]:
    return [node for node in run.nodes.values() if isinstance(node, RaftNode)]


def test_raft_elects_replicates_and_commits_every_command() -> None:
    run = _run(replicas=3)
    history = history_from_trace(run.trace)
    assert history.counts() == {"invoked": 200, "ok": 200, "fail": 0, "info": 0}
    assert check_linearizability(history).verdict == "linearizable"
    assert check_log_agreement(run.trace).ok
    nodes = _raft_nodes(run)
    leaders = [node for node in nodes if node.role == LEADER]
    assert len(leaders) == 1
    # Every server applied all 200 commands (and the leaders' no-ops are not commands).
    assert all(len(node.applied) == 200 for node in nodes)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_raft_survives_the_leader_crash_and_a_cut_link(seed: int) -> None:
    run = _run("crash:p1@2.0", "link:p2-p3@1.0..3.0", seed=seed)
    history = history_from_trace(run.trace)
    assert history.counts()["ok"] == 200
    assert check_linearizability(history).verdict == "linearizable"
    assert check_log_agreement(run.trace).ok
