"""``smrkit test``'s limits are options, and each changes what it should, on a real
cluster: a checker time-out too small for the history gives ``unknown`` (exit 3); an op
time-out shorter than a round trip is warned about and retires processes as ``info``;
a final-read window too short leaves keys unread, named in the verdict. Every limit is
in ``--json`` and in the workload line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests_net_support import cli, running_cluster


def test_each_limit_changes_what_it_should(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load = ["--time", "1", "--rate", "40", "--nemesis", "none", "--clients", "2", "--quiet"]
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        cluster = ["test", "--cluster", str(config.base), *load]
        code, out, err = cli(capsys, *cluster, "--check-timeout", "0.000001", "--json")
        summary = json.loads(out)
        assert code == 3 and summary["verdict"] == "unknown", summary["unknown_reasons"]
        assert summary["linearizability"] == "unknown"
        assert summary["unknown_reasons"] == ["the checker ran out of time (1e-06 s)"]
        assert summary["ops"]["ok"] > 0 and summary["unread_keys"] == []
        assert (summary["op_timeout_s"], summary["final_read_timeout_s"]) == (5.0, 30.0)
        assert summary["check_timeout_s"] == 0.000001

        short = ["--op-timeout", "0.0001", "--final-read-timeout", "0.5"]
        code, out, err = cli(capsys, *cluster, *short)
        assert "warning: --op-timeout 0.0001 s is shorter than a round trip" in err
        assert f"use at least {2 * config.delta_s:g}" in err
        lines = out.splitlines()
        assert lines[0] == "verdict: unknown" and code == 3
        info = int(next(x for x in lines if x.startswith("ops:")).split("info ")[1].split(";")[0])
        assert info > 0  # unanswered in 0.1 ms: retired, a fresh process took each place
        assert any("was never answered in 0.5 s" in line for line in lines)
        workload = next(line for line in lines if line.startswith("workload:"))
        assert workload == (
            "workload: 40 ops/s for 1 s, 2 clients, 5 keys; time-outs: op 0.0001 s, "
            "final reads 0.5 s, checker 120 s"
        )
