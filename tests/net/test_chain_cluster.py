"""``chain`` on a real cluster: three chain replicas and three master nodes as
processes on loopback; ``smrkit kv`` is served, and ``smrkit test`` with kills and
partitions stays linearizable, loses no acknowledged write and serves again after each
fault. Processes are stopped by id (``running_cluster``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests_net_support import cli, running_cluster

from smrkit.net.cluster import cluster_status


def test_a_chain_cluster_serves_and_survives_kills_and_partitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_cluster(tmp_path / "c", protocol="chain", delta_s=0.05, tau_s=0.1) as config:
        assert config.servers == ("p1", "p2", "p3", "m1", "m2", "m3")
        assert config.protocol_servers == ("p1", "p2", "p3")
        base = str(config.base)
        assert cli(capsys, "kv", "--cluster", base, "put", "x", "1")[:2] == (0, "null\n")
        assert cli(capsys, "kv", "--cluster", base, "append", "x", "2")[:2] == (0, "null\n")
        assert cli(capsys, "kv", "--cluster", base, "get", "x")[:2] == (0, '"12"\n')
        code, out, _ = cli(
            capsys, "test", "--cluster", base, "--time", "12", "--rate", "100",
            "--nemesis", "kill,partition", "--json", "--quiet",
        )  # fmt: skip
        summary = json.loads(out)
        assert code == 0 and summary["verdict"] == "linearizable", summary["unknown_reasons"]
        assert summary["lost_writes"] == 0 and summary["duplicated_writes"] == 0
        assert summary["availability"] > 0.3
        faults = summary["faults"]
        assert {f["kind"] for f in faults} == {"kill", "partition"}
        assert all(f["recover_s"] is not None for f in faults[:-1]), faults
        statuses = cluster_status(config)
        assert set(statuses) == set(config.servers)
