"""A killed ``chain`` replica on a real cluster: chain replicas save no log, so the
supervisor's new incarnation comes back empty (it recovers nothing from disk), is added
by the master as the new tail with the old tail's state, and serves — it applies the
next update and answers the next query. Bounded in time; processes stopped by id."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests_net_support import cli, running_cluster

from smrkit.net.cluster import cluster_status
from smrkit.net.config import ClusterConfig

REJOIN_S = 20.0  # the claim is one reconfiguration (45δ) and a restart; ample on a loaded machine


def chain_status(config: ClusterConfig) -> dict[str, dict[str, object]]:
    statuses = cluster_status(config)
    return {replica: statuses[replica] for replica in config.protocol_servers}


def replies(status: dict[str, object]) -> int:
    stats = status["stats"]
    assert isinstance(stats, dict)
    return int(stats.get("replies_out", 0))  # counted from the first reply on


def test_a_killed_chain_replica_comes_back_empty_rejoins_as_tail_and_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_cluster(tmp_path / "c", protocol="chain", delta_s=0.05, tau_s=0.1) as config:
        base = str(config.base)
        assert cli(capsys, "kv", "--cluster", base, "put", "x", "a")[:2] == (0, "null\n")
        before = chain_status(config)
        tail = next(r for r, s in before.items() if s.get("is_primary"))
        assert cli(capsys, "nemesis", "--cluster", base, "kill", tail)[0] == 0
        deadline = time.monotonic() + REJOIN_S
        while True:
            now = chain_status(config)
            back = now[tail]
            others = [s["applied"] for r, s in now.items() if r != tail and s.get("ok")]
            rejoined = back.get("incarnation") == 2 and back.get("is_primary")
            if rejoined and others and back["applied"] == max(others):  # type: ignore[type-var]
                break
            assert time.monotonic() < deadline, f"{tail} did not rejoin as tail: {now}"
            time.sleep(0.2)
        recovered = back["recovered"]
        assert isinstance(recovered, dict) and recovered["applied"] == 0  # it saved no log
        assert int(back["applied"]) > 0  # the old tail's state, transferred
        served = replies(back)
        assert cli(capsys, "kv", "--cluster", base, "append", "x", "b")[:2] == (0, "null\n")
        assert cli(capsys, "kv", "--cluster", base, "get", "x")[:2] == (0, '"ab"\n')
        after = chain_status(config)[tail]
        assert after["incarnation"] == 2 and after["is_primary"]
        assert int(after["applied"]) > int(back["applied"])
        assert replies(after) > served  # the new tail answered
