"""Availability is measured against the offered load: a cluster frozen (SIGSTOP) for
2 s of a 4 s run serves about half of what was offered, and the report says so — the
open-loop load keeps offering while nothing answers, retires the processes whose ops
went unanswered, and the timeline shows the outage."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from tests_net_support import cli, running_cluster

from smrkit.cli.test_cmd import summary_lines
from smrkit.net.admin import status_all
from smrkit.net.cluster import replica_pid
from smrkit.net.config import ClusterConfig
from smrkit.net.jepsen import JepsenPlan, run_test

FROZEN_FROM_S = 1.0
FROZEN_FOR_S = 2.0


def _wait_until_all_serve(config: ClusterConfig, limit_s: float = 30.0) -> None:
    """A replica that halted when the freeze broke its timing comes back as a new
    incarnation (its supervisor): wait for it, bounded."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        statuses = asyncio.run(status_all(config))
        if all(s.get("ok") and s.get("serving") for s in statuses.values()):
            return
        threading.Event().wait(0.2)


def test_a_frozen_cluster_counts_against_the_offered_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = JepsenPlan(time_s=4.0, rate=100, clients=4, op_timeout_s=1.0, final_read_s=20.0)
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        pids = [pid for r in config.servers if (pid := replica_pid(config, r)) is not None]

        def freeze() -> None:
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            threading.Event().wait(FROZEN_FOR_S)
            for pid in pids:
                os.kill(pid, signal.SIGCONT)

        freezer = threading.Timer(FROZEN_FROM_S, freeze)
        freezer.start()
        try:
            seen: list[tuple[str, float]] = []
            progress = lambda phase, done, counts: seen.append((phase, done))  # noqa: E731
            result = asyncio.run(run_test(config, plan, progress=progress))
        finally:
            freezer.join()
            for pid in pids:
                with contextlib.suppress(OSError):  # a halted one was replaced
                    os.kill(pid, signal.SIGCONT)
        # Two of three frozen: fewer live than pb-general-omission needs; refused.
        _wait_until_all_serve(config)
        pids = [pid for r in config.servers if (pid := replica_pid(config, r)) is not None]
        try:
            for pid in pids[1:]:
                os.kill(pid, signal.SIGSTOP)
            code, out, err = cli(capsys, "test", "--cluster", str(config.base), "--time", "30")
        finally:
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGCONT)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert "p2 not answering, p3 not answering)" in err
        assert "pb-general-omission needs 2 to serve" in err
    phases = [phase for phase, _ in seen]
    assert phases[0] == "load" and phases[-2:] == ["final reads", "checking"]
    assert [done for phase, done in seen if phase == "load"] == sorted(
        done for phase, done in seen if phase == "load"
    )
    summary = result.to_json()
    ops = summary["ops"]
    assert ops["offered"] == ops["invoked"] == 400  # issued on schedule, frozen or not
    assert ops["info"] > 0
    processes = {op.process for op in result.workload_ops}
    assert len(processes) > plan.clients  # the unanswered ones were retired and replaced
    # About 2 s of 4 served nothing: at most ~3/4 of the offered ops were acknowledged
    # (a closed-loop count over the ops issued said ~98 %).
    assert summary["availability"] == ops["ok"] / 400 < 0.8
    gap = summary["longest_gap"]
    assert gap["seconds"] >= FROZEN_FOR_S - 0.5
    assert FROZEN_FROM_S - 0.5 <= gap["start"] <= FROZEN_FROM_S + 0.5
    assert [o["start"] for o in summary["outages"]] == [gap["start"]]
    assert summary["acked_per_second"][2] == 0  # the second wholly inside the freeze
    assert summary["verdict"] == "linearizable", summary["witness_text"]
    text = "\n".join(summary_lines(summary))
    assert f"availability {summary['availability'] * 100:.2f} % of offered" in text
    assert "acked per s: |" in text and "longest stretch with no acknowledged op" in text
