"""Raft as a real cluster, from the command line: ``cluster init --protocol raft``,
``up``, ``kv`` (the client finds the leader: a follower answers a request with a hint
naming the leader and its term, and the client resends there), ``cluster status``
(each replica's role and term), and a short ``smrkit test`` with a kill and a
partition of the leader — linearizable, no acknowledged write lost, every fault healed
and followed by acknowledged operations, new terms elected."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from raft_support import leader_of, until
from tests_net_support import cli, client_channel

from smrkit.core.messages import ClientRequest, PrimaryHint
from smrkit.core.ops import Op
from smrkit.net.cluster import down_cluster, replica_pid, supervisor_pid
from smrkit.net.config import ClusterConfig, load_config


async def _ask(config: ClusterConfig, replica: str, request: ClientRequest) -> object:
    """Send one request straight to ``replica``; its first answer."""
    channel = await client_channel(config, replica)
    try:
        channel.send(("b", "", time.time(), (request,)))
        frame = await asyncio.wait_for(channel.recv(), 5.0)
        assert isinstance(frame, tuple) and frame[0] == "r"
        return frame[3][0][1][0]  # ("r", id, time, ((client id, messages), …))
    finally:
        channel.close()


def test_raft_cluster_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = str(tmp_path / "c")
    code, out, err = cli(capsys, "cluster", "init", directory)  # raft is the default
    assert code == 0, err
    assert out.startswith(f"cluster raft (kv) in {directory}: p1 127.0.0.1:")
    config = load_config(Path(directory))
    # Raft's own δ and τ: elections within 0.6–1.2 s, so that the test's partitions
    # (1.2 s) depose the leader.
    assert (config.delta_s, config.tau_s) == (0.1, 0.2)
    try:
        code, out, err = cli(capsys, "cluster", "up", directory)
        assert code == 0, err
        leader, term = until(config, "a leader", leader_of(list(config.servers)))
        assert cli(capsys, "kv", "--cluster", directory, "put", "x", "hello")[1] == "null\n"
        assert cli(capsys, "kv", "--cluster", directory, "append", "x", "!")[1] == "null\n"
        assert cli(capsys, "kv", "--cluster", directory, "get", "x")[1] == '"hello!"\n'
        follower = next(r for r in config.servers if r != leader)
        hint = asyncio.run(_ask(config, follower, ClientRequest("c7", 1, Op("get", "x"))))
        assert hint == PrimaryHint(leader, term)  # a follower redirects; it does not serve
        code, out, _ = cli(capsys, "cluster", "status", directory)
        lines = dict(line.split("  ", 1) for line in out.splitlines())
        assert f"leader     term {term}  applied " in lines[leader]
        assert f"follower   term {term}  applied " in lines[follower]

        code, out, err = cli(
            capsys, "test", "--cluster", directory, "--time", "12", "--rate", "100",
            "--nemesis", "kill,partition", "--op-timeout", "3", "--final-read-timeout", "20",
            "--json", "--quiet",
        )  # fmt: skip
        summary = json.loads(out)
        assert code == 0 and summary["verdict"] == "linearizable", summary["witness_text"]
        assert summary["lost_writes"] == 0 and summary["duplicated_writes"] == 0
        assert summary["safety_rests_on_timing"] is False
        faults = summary["faults"]
        assert sorted({f["kind"] for f in faults}) == ["kill", "partition"]
        assert all(f["end"] is not None and f["recover_s"] is not None for f in faults)
        assert summary["ops"]["ok"] > 0.5 * summary["ops"]["offered"]
        code, out, _ = cli(capsys, "cluster", "status", directory, "--json")
        after = json.loads(out)
        assert all(s["ok"] and s["serving"] for s in after.values())
        assert max(s["term"] for s in after.values()) > term  # the faults forced elections
    finally:
        down_cluster(config, timeout_s=3.0)
        assert all(replica_pid(config, r) is None for r in config.servers)
        assert all(supervisor_pid(config, r) is None for r in config.servers)
