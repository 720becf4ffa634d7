"""``smrkit sim``: the command-line contract (flags, JSON keys, exit codes, errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import assert_usage_error, run_cli

from smrkit.sim.trace import read_trace

ISSUE_EXAMPLE = [
    "sim",
    "--protocol",
    "pb-crash",
    "--replicas",
    "3",
    "--delta",
    "0.01",
    "--tau",
    "0.05",
    "--clients",
    "4",
    "--ops",
    "2000",
    "--fault",
    "crash:p1@1.0",
    "--seed",
    "7",
]


def test_the_issue_example_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli([*ISSUE_EXAMPLE, "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    for key in (
        "protocol",
        "replicas",
        "f",
        "seed",
        "trace_hash",
        "events",
        "ops",
        "checks",
        "measured",
        "bound",
        "target",
    ):
        assert key in data
    assert (data["protocol"], data["replicas"], data["f"], data["seed"]) == ("pb-crash", 3, 2, 7)
    assert set(data["ops"]) >= {"invoked", "ok", "fail", "info"}
    assert data["ops"]["invoked"] == 2000
    for check in ("pb1", "pb2", "pb3", "pb4", "pb5", "linearizable", "log_agreement"):
        assert data["checks"][check]["ok"] is True
    assert set(data["measured"]) >= {
        "failover_s_max",
        "blocking_s_max",
        "outage_count",
        "outage_s_max",
    }
    assert data["bound"]["replicas_min"] == 3
    assert data["bound"]["blocking_s"] == 0.0
    assert data["bound"]["failover_s"] == pytest.approx(0.02)
    assert data["target"]["failover_s"] == pytest.approx(0.071)  # f·δ + τ + (f − 1)·δ/10
    assert data["target"]["blocking_s"] == 0.0
    assert 0 < data["measured"]["failover_s_max"] <= data["target"]["failover_s"]


def test_same_seed_same_hash_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    small = ["sim", "--ops", "200", "--fault", "crash:p1@0.2", "--json"]
    first = json.loads(run_cli([*small, "--seed", "1"], capsys)[1])["trace_hash"]
    again = json.loads(run_cli([*small, "--seed", "1"], capsys)[1])["trace_hash"]
    other = json.loads(run_cli([*small, "--seed", "2"], capsys)[1])["trace_hash"]
    assert first == again != other


def test_pb_simple_targets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["sim", "--protocol", "pb-simple", "--ops", "500", "--fault", "crash:p1@0.5", "--json"],
        capsys,
    )
    data = json.loads(out)
    assert code == 0
    assert data["target"]["failover_s"] == pytest.approx(0.07)
    assert data["target"]["outage_s"] == pytest.approx(0.09)


def test_text_output_has_the_checks_and_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(ISSUE_EXAMPLE, capsys)
    assert code == 0
    for word in (
        "pb1",
        "pb5",
        "linearizable",
        "log_agreement",
        "failover",
        "lower bound",
        "all checks hold",
    ):
        assert word in out


def test_a_violation_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["sim", "--ops", "500", "--fault", "link:p1-p2@0.5", "--json"], capsys)
    data = json.loads(out)
    assert code == 1
    assert data["checks"]["pb1"]["ok"] is False
    assert data["admissible"] is False


def test_outputs_are_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace, history = tmp_path / "t.jsonl", tmp_path / "h.jsonl"
    code, out, _ = run_cli(
        [
            "sim",
            "--ops",
            "300",
            "--fault",
            "crash:p1@0.3",
            "--trace",
            str(trace),
            "--history",
            str(history),
            "--json",
        ],
        capsys,
    )
    assert code == 0
    assert read_trace(trace).trace_hash() == json.loads(out)["trace_hash"]
    code, out, _ = run_cli(["check-history", str(history), "--json"], capsys)
    assert code == 0 and json.loads(out)["verdict"] == "linearizable"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--fault", "crash:p1"], "bad fault spec"),
        (["--fault", "crash:p9@1"], "names 'p9'"),
        (["--fault", "explode:p1@1"], "unknown fault kind"),
        (["--replicas", "x"], "--replicas"),
        (["--protocol", "nope"], "--protocol"),
        (["--protocol", "pb-simple", "--replicas", "3"], "exactly 2"),
        (["--mix", "get=1,drop=2"], "no op 'drop'"),
        (["--delta", "0"], "--delta"),
        (["--trace", "/nonexistent-dir/t.jsonl", "--ops", "10"], "cannot write"),
        (["--untrusted-clients"], "pb-crash never takes a client's word"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_usage_error("sim", args, needle, capsys)


def test_help_documents_the_fault_specs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["sim", "--help"], capsys)
    assert code == 0
    for spec in (
        "crash:p1@1.0",
        "link:p1-p2@0.5..0.9",
        "send-omission:p2->p3@0.2..0.9",
        "receive-omission:p3<-p1@0.2..0.9",
        "general-omission:p2@0.2..0.9",
        "send-omission:c1->p2@0",
    ):
        assert spec in out


def test_untrusted_clients_are_relayed_and_said_so(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["sim", "--protocol", "pb-general-omission", "--replicas", "3", "--clients", "3"]
    args += ["--ops", "300", "--fault", "send-omission:p1->c1@0.3"]
    code, out, _ = run_cli([*args, "--untrusted-clients"], capsys)
    assert code == 0
    out = " ".join(out.replace("│", " ").split())  # the terminal's line breaks apart
    assert "3 clients (untrusted: their requests relayed, their word ignored)" in out
    assert "replies relayed" in out
    code, out, _ = run_cli([*args, "--untrusted-clients", "--json"], capsys)
    data = json.loads(out)
    relayed = data["measured"]["relayed_replies"]
    assert data["clients_trusted"] is False and relayed > 10
    summary = data["checks"]["pb3"]["summary"]
    assert (
        summary == f"no request processed by a non-primary ({relayed} replies relayed by backups)"
    )
    assert data["target"]["outage_count"] == 4  # f·(C + 1)
    code, out, _ = run_cli([*args, "--json"], capsys)
    data = json.loads(out)  # trusted: p1 halts on c1's word, nothing is relayed
    assert data["clients_trusted"] is True and data["measured"]["relayed_replies"] == 0
