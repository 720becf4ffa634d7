"""``smrkit test`` on a real pb-crash cluster, run after run: each run gets its true
verdict, replicas already down count against f, a run whose final reads go unanswered
is ``unknown``, and a cluster that cannot serve is refused at once."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
from tests_net_support import cli as _cli
from tests_net_support import running_cluster

from smrkit.net import nemesis
from smrkit.net.cluster import replica_pid
from smrkit.net.config import ClusterConfig
from smrkit.net.jepsen import JepsenPlan, run_test


def _test(
    capsys: pytest.CaptureFixture[str], config: ClusterConfig, *argv: str
) -> dict[str, object]:
    code, out, err = _cli(
        capsys, "test", "--cluster", str(config.base), "--rate", "100", "--json", *argv
    )
    summary: dict[str, object] = json.loads(out)
    summary["exit"] = code
    assert err == ""  # no progress bar when standard error is not a terminal
    return summary


def test_run_after_run_on_one_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_cluster(tmp_path / "c", protocol="pb-crash") as config:
        first = _test(capsys, config, "--time", "1.5", "--nemesis", "")
        second = _test(capsys, config, "--time", "1.5", "--nemesis", "")
        # The second run's keys are its own: no false "applied twice" from the first's data.
        for run in (first, second):
            assert (run["verdict"], run["exit"]) == ("linearizable", 0), run["witness_text"]
            assert run["lost_writes"] == 0 and run["duplicated_writes"] == 0
        assert first["run_id"] != second["run_id"]

        # p3 is down before the test: pb-crash (n = 3, f = 2) may lose one more, not two.
        nemesis.kill(config, "p3")
        third = _test(capsys, config, "--time", "2", "--nemesis", "kill")
        kills = [f for f in third["faults"] if f["kind"] == "kill"]  # type: ignore[attr-defined]
        assert len(kills) == 1
        health = {r: info["health"] for r, info in third["replicas"].items()}  # type: ignore[attr-defined]
        assert sum(h == "live" for h in health.values()) == 1, health
        assert third["health_before"]["p3"].startswith("dead")  # type: ignore[index]
        assert third["verdict"] != "unknown" and third["unread_keys"] == []

        # The last replica dies during the run: its final reads go unanswered.
        last = next(r for r, h in health.items() if h == "live")
        killer = threading.Timer(0.8, nemesis.kill, (config, last))
        killer.start()
        plan = JepsenPlan(time_s=1.5, rate=100, op_timeout_s=0.5, final_read_s=1.0, seed=4)
        result = asyncio.run(run_test(config, plan))
        killer.join()
        summary = result.to_json()
        assert result.acks and result.unread_keys
        assert summary["verdict"] == "unknown" and not summary["valid"]
        assert "never answered" in summary["unknown_reasons"][0]
        assert summary["replicas"][last]["health"].startswith("dead")

        # Nothing is left serving: refused at once, in one line.
        assert all(replica_pid(config, r) is None for r in config.servers)
        started = time.monotonic()
        code, out, err = _cli(capsys, "test", "--cluster", str(config.base), "--time", "30")
        assert time.monotonic() - started < 15.0
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert "0 of 3 replicas live" in err and "cluster up" in err
