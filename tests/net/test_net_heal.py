"""A real cluster that heals (issue 9, §2): every replica runs under a supervisor
process, so a killed replica of a restartable protocol comes back as a new incarnation
from its disk — after a second fault too — and the replicas count the messages and
timers that broke the timing their protocol assumes. A crash-stop protocol's data is
never silently replaced by an empty store."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests_net_support import cli as _cli
from tests_net_support import running_cluster

from smrkit.net import nemesis
from smrkit.net.admin import status_all
from smrkit.net.client import BlockingClient
from smrkit.net.cluster import down_cluster, replica_pid, restart_replica, supervisor_pid
from smrkit.net.config import ClusterConfig

DEADLINE_S = 30.0


def _until(config: ClusterConfig, what: str, check: Callable[[dict[str, Any]], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check(asyncio.run(status_all(config))):
        assert time.monotonic() < deadline, f"not within {DEADLINE_S} s: {what}"
        time.sleep(0.05)


def _primary(statuses: dict[str, Any]) -> str | None:
    primaries = [r for r, s in statuses.items() if s.get("ok") and s.get("is_primary")]
    return primaries[0] if len(primaries) == 1 else None


def test_killed_primaries_come_back_and_the_service_survives_a_second_kill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kill the primary; its supervisor restarts it from its disk. Kill the next primary:
    with only the first kill healed by hand this left one replica of three, no quorum,
    and the service was gone for good. Status says what happened to each replica."""
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        with BlockingClient(config) as client:
            client.put("k", "0")
        killed: list[str] = []
        for round_ in (1, 2):
            primary = _primary(asyncio.run(status_all(config)))
            assert primary is not None
            supervisor = supervisor_pid(config, primary)
            nemesis.kill(config, primary)
            killed.append(primary)
            # While it is down, status gives its supervisor's word (once it has seen the
            # kill: a moment) — or the new incarnation says it, if that was quicker.
            deadline = time.monotonic() + DEADLINE_S
            while True:
                code, out, _ = _cli(capsys, "cluster", "status", str(config.base))
                line = next(x for x in out.splitlines() if x.startswith(primary))
                if "killed by SIGKILL" in line:
                    break
                assert time.monotonic() < deadline, line
                time.sleep(0.02)
            _until(
                config,
                f"{primary} serves again as a follower",
                lambda s, p=primary: (
                    bool(s[p].get("ok"))
                    and s[p]["serving"]
                    and s[p]["restarts"] >= 1
                    and _primary(s) not in (None, p)
                ),
            )
            assert supervisor_pid(config, primary) == supervisor  # the same supervisor
            with BlockingClient(config) as client:
                client.append("k", f"+{round_}")
        with BlockingClient(config) as client:
            assert client.get("k") == "0+1+2"
        statuses = asyncio.run(status_all(config))
        for replica in killed:
            assert statuses[replica]["incarnation"] == 2
            assert statuses[replica]["last_halt"] == "killed by SIGKILL"
            assert statuses[replica]["recovered"] is not None  # from its disk
        # 'nemesis restart' of a replica its supervisor already brought back: its pid
        assert restart_replica(config, killed[0]) == replica_pid(config, killed[0])
        code, out, _ = _cli(capsys, "cluster", "status", "--dir", str(config.base))
        assert code == 0
        line = next(x for x in out.splitlines() if x.startswith(killed[0]))
        assert "incarnation 2 (1 restart; last: killed by SIGKILL; recovered" in line, line


def test_a_stalled_replica_counts_late_messages_and_late_timers_and_a_partition_outlives_a_restart(
    tmp_path: Path,
) -> None:
    """A replica stopped (SIGSTOP) for 4δ handles its peers' heartbeats more than δ
    after they were sent, and its own timers long after their instants: its status
    says so. The counters sit where ``smrkit test`` reads them.

    Then the primary is cut off: it halts, and its supervisor restarts it while the
    partition holds — the new incarnation is still cut off (it used to start with
    every link whole), and says why the last one ended."""
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        pid = replica_pid(config, "p3")
        assert pid is not None
        before = asyncio.run(status_all(config))["p3"]["timing"]
        assert set(before) == {"late_messages", "late_timers"}
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(4 * config.delta_s)
        finally:
            os.kill(pid, signal.SIGCONT)
        _until(
            config,
            "p3 counts late messages and timers",
            lambda s: (
                bool(s["p3"].get("ok"))
                and s["p3"]["timing"]["late_messages"] > before["late_messages"]
                and s["p3"]["timing"]["late_timers"] > before["late_timers"]
            ),
        )
        asyncio.run(nemesis.block(config, nemesis.partition_links(config, ["p1"])))
        _until(
            config,
            "p1 halted and came back, still cut off",
            lambda s: bool(s["p1"].get("ok")) and s["p1"]["incarnation"] == 2,
        )
        p1 = asyncio.run(status_all(config))["p1"]
        assert len(p1["blocked"]) == 4 and p1["last_halt"].startswith("halted: ")
        asyncio.run(nemesis.heal(config))
        _until(
            config,
            "p1 whole again",
            lambda s: bool(s["p1"].get("ok")) and len(s["p1"]["blocked"]) == 0,
        )
        with BlockingClient(config) as client:
            client.put("k", "after the partition")
            assert client.get("k") == "after the partition"


def test_a_crash_stop_cluster_with_data_is_not_started_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pb-crash cannot recover what an earlier run held: 'up' refuses (one line, how to
    start over) instead of serving an empty store; 'up --fresh' wipes and starts.
    The four commands take the directory as DIR or as --dir. A nemesis against the
    stopped cluster says nothing was done."""
    directory = str(tmp_path / "c")
    assert _cli(capsys, "cluster", "init", directory, "--protocol", "pb-crash")[0] == 0
    config_path = Path(directory) / "cluster.json"
    try:
        assert _cli(capsys, "cluster", "up", "--dir", directory)[0] == 0
        assert _cli(capsys, "kv", "--cluster", directory, "put", "x", "1")[0] == 0
        assert _cli(capsys, "cluster", "down", directory)[1] == "stopped: p1, p2, p3\n"
        code, out, err = _cli(capsys, "cluster", "up", directory)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert "crash-stop" in err and "empty store" in err and "--fresh" in err
        code, out, err = _cli(capsys, "cluster", "up", directory, "--fresh")
        assert code == 0 and out.startswith("serving: p1 (pid "), err
        assert _cli(capsys, "kv", "--cluster", directory, "get", "x")[1] == "null\n"
    finally:
        assert _cli(capsys, "cluster", "down", "--dir", directory)[0] == 0
    for argv in (["partition", "p1"], ["heal"], ["omit", "p1->p2"]):
        code, out, err = _cli(capsys, "nemesis", "--cluster", directory, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, (argv, out, err)
        assert "nothing was done" in err and "cluster up" in err
    code, _, err = _cli(capsys, "cluster", "up", directory, "--dir", str(tmp_path))
    assert code == 2 and "two cluster directories" in err
    assert json.loads(config_path.read_text())["protocol"] == "pb-crash"


def test_down_stops_supervisors_that_are_waiting_to_restart(tmp_path: Path) -> None:
    """A supervisor in its back-off after a kill is a process too: 'down' stops it."""
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        nemesis.kill(config, "p3")
        supervisor = supervisor_pid(config, "p3")
        assert supervisor is not None
        assert down_cluster(config) == ["p1", "p2", "p3"]
        assert supervisor_pid(config, "p3") is None
        with pytest.raises(ProcessLookupError):
            os.kill(supervisor, 0)
