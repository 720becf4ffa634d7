"""``smrkit cluster`` without a running cluster: its help, its defaults, how it takes
the directory, what it refuses; the HTML report of ``smrkit test`` states the cluster's
configuration. (Running clusters: ``tests/net``.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run_cli

from smrkit.net.config import DEFAULT_PROTOCOL, ConfigError, load_config
from smrkit.net.jepsen import safety_rests_on_timing
from smrkit.net.supervisor import exit_reason
from smrkit.protocols.registry import get_protocol
from smrkit.report.cluster_html import render_test_report


def test_cluster_without_a_subcommand_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["cluster"], capsys)
    assert code == 0 and err == ""
    assert out.startswith("Usage: smrkit cluster") and "status" in out and "supervisor" in out


def test_init_defaults_to_a_protocol_safe_under_kill_9(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default answers only once a majority holds a write, and comes back from its
    disk (pb-crash, the first default, does neither); and it is Raft, whose safety does
    not rest on timing (that of pb-general-omission, the second default, does)."""
    assert DEFAULT_PROTOCOL == "raft" and get_protocol(DEFAULT_PROTOCOL).restartable
    assert not safety_rests_on_timing(DEFAULT_PROTOCOL)
    assert safety_rests_on_timing("pb-general-omission")
    code, out, _ = run_cli(["cluster", "init", str(tmp_path / "c")], capsys)
    assert code == 0 and out.startswith(f"cluster {DEFAULT_PROTOCOL} (kv) in ")
    config = load_config(tmp_path / "c")
    assert config.protocol == DEFAULT_PROTOCOL
    help_text = run_cli(["cluster", "init", "--help"], capsys)[1]
    assert "[default: raft]" in help_text


@pytest.mark.parametrize(
    ("options", "timing"),
    [
        ([], (0.1, 0.2)),  # raft: δ bounds only how soon a silent leader is replaced
        (["--protocol", "pb-general-omission"], (0.25, 0.5)),  # its safety needs δ
        (["--delta", "0.3"], (0.3, 0.2)),
        (["--protocol", "pb-general-omission", "--tau", "0.6"], (0.25, 0.6)),
    ],
)
def test_init_takes_the_protocols_own_delta_and_tau_unless_told(
    options: list[str],
    timing: tuple[float, float],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(["cluster", "init", str(tmp_path / "c"), *options], capsys)[0] == 0
    config = load_config(tmp_path / "c")
    assert (config.delta_s, config.tau_s) == timing


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_init_refuses_a_delta_that_is_not_a_finite_positive_number(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--delta nan`` made all three replicas primary."""
    code, out, err = run_cli(["cluster", "init", str(tmp_path / "c"), f"--delta={value}"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--delta" in err
    assert not (tmp_path / "c").exists()


def test_every_cluster_command_takes_the_directory_as_dir_or_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``init``, ``up``, ``status``, ``down``: DIR or ``--dir DIR`` (``init`` had only the
    option, the others only the argument). A cluster.json with NaN (JSON allows it) is
    refused, however the directory is given."""
    first, second = tmp_path / "a", tmp_path / "b"
    assert run_cli(["cluster", "init", "--dir", str(first)], capsys)[0] == 0
    assert run_cli(["cluster", "init", str(second)], capsys)[0] == 0
    for directory in (first, second):
        data = json.loads((directory / "cluster.json").read_text())
        data["delta_s"] = float("nan")
        (directory / "cluster.json").write_text(json.dumps(data))
        with pytest.raises(ConfigError, match="finite"):
            load_config(directory)
    for command in ("status", "down"):
        for args in ([str(first)], ["--dir", str(first)]):
            code, _, err = run_cli(["cluster", command, *args], capsys)
            assert code == 2 and "finite" in err, err  # read the file either way
    code, out, err = run_cli(["cluster", "up"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "no cluster directory" in err


def test_why_an_incarnation_ended() -> None:
    assert exit_reason(-9, None) == "killed by SIGKILL"
    assert exit_reason(3, "no quorum for 4 τ") == "halted: no quorum for 4 τ"
    assert exit_reason(1, None) == "exited with code 1"


def test_the_test_report_states_the_cluster_configuration(tmp_path: Path) -> None:
    from smrkit.net.cluster import init_cluster

    config = init_cluster(tmp_path / "c", protocol="pb-general-omission", replicas=5, delta_s=0.3)
    summary = {
        "verdict": "linearizable",
        "valid": True,
        "replicas": {"p1": {"is_primary": True, "applied": 7, "incarnation": 2,
                            "timing": {"late_messages": 12, "late_timers": 3}}, "p2": None},
    }  # fmt: skip
    page = render_test_report(summary, [], title="t", cluster=config)
    assert "pb-general-omission (kv), n = 5, δ = 0.3 s, τ = 0.5 s, fsync batch" in page
    assert '<td>p2</td><td colspan="5">not answering</td>' in page
    assert '<td class="num">12</td><td class="num">3</td>' in page
