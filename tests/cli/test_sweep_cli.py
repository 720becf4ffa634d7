"""``smrkit sweep``: many seeds of random admissible plans, every run judged; a broken
protocol is caught and each failure's printed command replays it exactly."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import assert_usage_error, run_cli

REPO = Path(__file__).resolve().parents[2]
BROKEN = "tests.protocols.broken_variants:SPEC"
BOASTFUL = "tests.protocols.broken_variants:BOASTFUL"


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # where tests.protocols.broken_variants is importable


def sweep_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli(["sweep", *args, "--json"], capsys)
    assert err == "", err  # no progress bar when stderr is not a terminal
    return code, json.loads(out)


def test_a_clean_sweep_exits_0_with_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = sweep_json(
        ["--protocol", "pb-crash", "--replicas", "3", "--seeds", "0..11", "--workers", "2"], capsys
    )
    assert code == 0
    assert (data["runs"], data["violations"], data["ok"]) == (12, 0, True)
    assert data["failed_examples"] == [] and data["beyond_targets"] == []
    assert (data["replicas"], data["f"], data["faults_max"]) == (3, 2, 2)
    assert data["seeds"] == {"first": 0, "last": 11}
    assert sum(data["plan_sizes"].values()) == 12 and data["plan_sizes"].get("2", 0) > 0
    assert data["ops"] == {"invoked": 12 * 300, "ok": 12 * 300}
    assert 0 < data["failover_s_max"] <= data["target"]["failover_s"]
    assert data["blocking_s_max"] == 0.0
    assert data["outage_periods_max"] <= data["target"]["outage_count"]
    assert set(data["checks_broken"].values()) == {0}
    assert data["bound"]["failover_s"] == pytest.approx(0.02)


def test_the_text_report_names_every_check_and_figure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        ["sweep", "--protocol", "pb-general-omission", "--seeds", "3..5", "--workers", "1"],
        capsys,
    )
    assert code == 0 and err == ""
    for needle in ("pb1", "linearizable", "log_agreement", "failover", "blocking", "periods of Δ"):
        assert needle in out
    assert "seeds 3..5" in out
    assert out.rstrip().endswith("0 violations")


def test_untrusted_clients_are_swept_against_their_own_claims(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--untrusted-clients``: backups relay, every plan has a server omit towards a
    client, and the targets are the untrusted claims (k = f·(C + 1)); a failure's replay
    command runs the same mode."""
    from smrkit.explore.sweep import Outcome
    from smrkit.sim.world import SimConfig

    args = ["--protocol", "pb-general-omission", "--seeds", "0..5", "--workers", "1"]
    code, data = sweep_json([*args, "--untrusted-clients"], capsys)
    assert (code, data["violations"], data["clients_trusted"]) == (0, 0, False)
    assert data["target"]["outage_count"] == 1 * (4 + 1)
    assert data["plan_sizes"].get("0", 0) == 0  # every plan: at least the client omission
    code, trusted = sweep_json(args, capsys)
    assert (code, trusted["clients_trusted"], trusted["target"]["outage_count"]) == (0, True, 1)
    base = SimConfig(protocol="pb-general-omission", replicas=3, clients_trusted=False)
    outcome = Outcome(7, ("crash:p1@0.5",), False, ("pb4",), {}, {}, 0)
    assert "--untrusted-clients --seed 7" in outcome.replay_hint(base)


def test_a_broken_protocol_is_caught_and_its_replay_command_replays_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pb-crash replying before its update: seed 62's plan crashes p1 between the reply
    and the update (tests/protocols/test_pb_crash.py). The printed command must give the
    same run — the same trace hash — and the same verdict."""
    args = ["--protocol", BROKEN, "--replicas", "3", "--seeds", "60..64", "--horizon", "0.8"]
    code, data = sweep_json([*args, "--workers", "2"], capsys)
    assert code == 1
    assert data["violations"] >= 1 and not data["ok"]
    assert data["checks_broken"]["linearizable"] >= 1
    example = data["failed_examples"][0]
    assert example["seed"] == 62 and "linearizable" in example["failed"]
    argv = shlex.split(example["replay"])
    assert argv[:2] == ["smrkit", "sim"] and f"--protocol {BROKEN}" in example["replay"]
    replay_code, out, _ = run_cli([*argv[1:], "--json"], capsys)
    replayed = json.loads(out)
    assert replay_code == 1
    assert replayed["trace_hash"] == example["trace_hash"]
    assert [name for name, check in replayed["checks"].items() if not check["ok"]] == example[
        "failed"
    ]
    code, out, _ = run_cli(["sweep", *args, "--workers", "1"], capsys)
    assert code == 1
    assert "seed 62: pb4, linearizable" in out and example["replay"] in out


def test_a_figure_beyond_its_target_is_a_violation(capsys: pytest.CaptureFixture[str]) -> None:
    """Correct runs of pb-crash, judged against targets it does not claim (Table 1's
    bound f·δ, without τ, and no outage): both figures go red and the sweep fails."""
    code, data = sweep_json(["--protocol", BOASTFUL, "--seeds", "0..7", "--workers", "1"], capsys)
    assert code == 1
    assert data["beyond_targets"] == ["failover", "outages"]
    assert data["failover_s_max"] > data["target"]["failover_s"]
    assert data["outage_periods_max"] > data["target"]["outage_count"] == 0
    assert data["checks_broken"]["failover"] > 0 and data["checks_broken"]["pb4"] > 0
    assert data["checks_broken"]["linearizable"] == 0
    code, out, _ = run_cli(["sweep", "--protocol", BOASTFUL, "--seeds", "0..7"], capsys)
    figures = out[out.index("Largest figures") :].splitlines()
    assert any(line.startswith(" failover") and "VIOLATED" in line for line in figures)
    assert any(line.startswith(" outages") and "VIOLATED" in line for line in figures)
    assert any(line.startswith(" blocking") and " ok" in line for line in figures)


def test_fewer_faults_than_tolerated_and_a_failure_free_sweep(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, data = sweep_json(["--replicas", "4", "--f", "0", "--seeds", "0..3"], capsys)
    assert code == 0 and data["plan_sizes"] == {"0": 4} and data["faults_max"] == 0
    code, data = sweep_json(["--replicas", "4", "--f", "1", "--seeds", "0..9"], capsys)
    assert code == 0 and set(data["plan_sizes"]) <= {"0", "1"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--seeds", "5..1"], "1 is below 5"),
        (["--seeds", "x"], "bad --seeds"),
        (["--seeds", "-3..4"], "bad --seeds"),
        (["--seeds", "0..1e9"], "bad --seeds"),
        (["--seeds", "0..100000000"], "at most 100,000,000"),
        (["--seeds", "0..3", "--f", "3"], "give --f 0..2"),
        (["--seeds", "0..3", "--horizon", "nan"], "--horizon"),
        (["--seeds", "0..3", "--horizon", "inf"], "--horizon"),
        (["--seeds", "0..3", "--horizon", "0"], "--horizon"),
        (["--seeds", "0..3", "--delta", "-1"], "--delta"),
        (["--seeds", "0..3", "--time-limit", "inf"], "--time-limit"),
        (["--seeds", "0..3", "--clients", "0"], "--clients"),
        (["--seeds", "0..3", "--ops", "0"], "--ops"),
        (["--seeds", "0..3", "--workers", "0"], "--workers"),
        (["--seeds", "0..3", "--protocol", "nope"], "unknown protocol 'nope'"),
        (["--seeds", "0..3", "--protocol", "no.such.module:X"], "no module named"),
        (["--seeds", "0..3", "--protocol", "pb-simple", "--replicas", "3"], "exactly 2"),
        ([], "--seeds"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_usage_error("sweep", args, needle, capsys)
