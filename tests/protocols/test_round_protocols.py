"""Seed 002's lock-step crash protocols run under ``smrkit sim`` and judged by the
specification checkers (``smrkit.check.agreement``): each holds where the theory says
it does, and each verdict goes red where the theory says it must."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smrkit.check.agreement import SF, consensus_checks, correct_processes, trb_checks
from smrkit.check.agreement_run import evaluate_agreement
from smrkit.cli.main import main
from smrkit.protocols import ConsensusClaims
from smrkit.report.round_diagram import grid, render
from smrkit.sim.world import SimConfig, SimRun, run_simulation


def sim(protocol: str, *faults: str, n: int = 4) -> SimRun:
    return run_simulation(
        SimConfig(protocol=protocol, replicas=n, timing="lock-step", faults=faults)
    )


def decided(run: SimRun) -> dict[str, tuple[int, object]]:
    return {r.node: (r.num, r.data) for r in run.trace.events if r.kind == "decided"}


@pytest.mark.parametrize(
    ("protocol", "rounds"),
    [("consensus-naive", 1), ("floodset", 4), ("floodset-early", 2), ("trb", 1)],
)
def test_without_failures_every_protocol_keeps_its_specification(
    protocol: str, rounds: int
) -> None:
    run = sim(protocol)
    assert isinstance(run.claims, ConsensusClaims)
    evaluation = evaluate_agreement(run.trace, run.claims)
    assert evaluation.ok, evaluation.failed
    assert evaluation.decided_round_max == rounds
    assert {value for _, value in decided(run).values()} == {0}


def test_one_crash_breaks_naive_consensus() -> None:
    run = sim("consensus-naive", "crash:p1@r1/p2", n=3)
    correct = correct_processes(run.trace.events, run.trace.servers)
    agreement = consensus_checks(run.trace.events, correct)["agreement"]
    assert not agreement.ok
    assert (
        agreement.detail == "processes decided differently: 0 by p2 in round 1; 1 by p3 in round 1"
    )
    assert run.admissibility == ["1 faulty servers, more than f = 0"]


def test_floodset_survives_a_dangerous_chain_of_n_minus_2_crashes() -> None:
    run = sim("floodset", "crash:p1@r1/p2", "crash:p2@r2/p3")
    assert isinstance(run.claims, ConsensusClaims)
    evaluation = evaluate_agreement(run.trace, run.claims)
    assert evaluation.ok and evaluation.decided_round_max == 4
    assert decided(run) == {"p3": (4, 0), "p4": (4, 0)}


def test_early_stopping_claim_goes_red_when_a_run_decides_late() -> None:
    """floodset decides in round f + 1 = 4 without a crash: judged by the early-stopping
    claim (by round min(f' + 2, f + 1) = 2) it is late, and the verdict says so."""
    run = sim("floodset")
    late = evaluate_agreement(run.trace, ConsensusClaims(decides_by_round=4, early_stopping=True))
    check = late.checks["decides_by_round"]
    assert not check.ok
    assert check.detail.startswith("the claim is round 2 = min(f' + 2, f + 1), f' = 0, but p1")
    early = sim("floodset-early", "crash:p1@r1/p2")
    assert isinstance(early.claims, ConsensusClaims)
    assert evaluate_agreement(early.trace, early.claims).decided_round_max == 3  # f' + 2


def test_trb_delivers_the_senders_value_or_sf_in_agreement() -> None:
    quiet = sim("trb", "crash:p1@r1/0")
    assert {d for p, (_, d) in decided(quiet).items() if p != "p1"} == {SF}
    correct = correct_processes(quiet.trace.events, quiet.trace.servers)
    assert all(c.ok for c in trb_checks(quiet.trace.events, correct, "p1").values())
    relayed = sim("trb", "crash:p1@r1/p2")
    assert {d for p, (_, d) in decided(relayed).items()} == {0}
    assert decided(relayed)["p3"] == (2, 0)  # p2 relays the sender's Decided in round 2


def test_sim_json_reports_the_checks_and_the_last_decision_round(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["sim", "--protocol", "floodset", "--timing", "lock-step", "--replicas", "4"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--fault", "crash:p1@r1/p2", "--json"])
    assert exit_info.value.code == 0
    summary = json.loads(capsys.readouterr().out)
    assert {name: c["ok"] for name, c in summary["checks"].items()} == {
        "termination": True,
        "validity": True,
        "agreement": True,
        "integrity": True,
        "decides_by_round": True,
    }
    assert summary["decided_round_max"] == 4 and summary["correct"] == ["p2", "p3", "p4"]
    with pytest.raises(SystemExit) as exit_info:
        main(["sim", "--protocol", "consensus-naive", "--timing", "lock-step", "--replicas", "3",
              "--fault", "crash:p1@r1/p2", "--json"])  # fmt: skip
    assert exit_info.value.code == 1
    assert not json.loads(capsys.readouterr().out)["checks"]["agreement"]["ok"]


def test_sim_html_draws_the_rounds_and_history_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    page = tmp_path / "run.html"
    argv = ["sim", "--protocol", "floodset", "--timing", "lock-step", "--replicas", "3"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--fault", "crash:p1@r1/p2", "--html", str(page)])
    assert exit_info.value.code == 0
    text = page.read_text()
    assert "round 3" in text and "hidden from p3" in text and "decides 0" in text
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--history", str(tmp_path / "h.jsonl")])
    assert exit_info.value.code == 2
    assert "serves no clients" in capsys.readouterr().err


def test_a_trace_replays_and_is_judged_again(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for protocol, n, code in (("floodset", 3, 0), ("consensus-naive", 3, 1)):
        trace = tmp_path / f"{protocol}.jsonl"
        argv = ["sim", "--protocol", protocol, "--timing", "lock-step", "--replicas", str(n)]
        with pytest.raises(SystemExit):
            main([*argv, "--fault", "crash:p1@r1/p2", "--trace", str(trace)])
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(["replay", str(trace), "--json"])
        assert exit_info.value.code == code
        summary = json.loads(capsys.readouterr().out)
        assert summary["replay"]["identical"] and summary["checks"]["agreement"]["ok"] == (
            code == 0
        )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["worlds", "--protocol", "floodset"], "floodset serves no clients"),
        (["explore", "--model", "ben-or"], "ben-or serves no clients"),
    ],
)
def test_the_service_commands_refuse_an_agreement_protocol(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_the_round_diagram_marks_byzantine_processes_and_chains() -> None:
    run = sim("floodset", "byzantine:p3=silent", "crash:p1@r1/p2")
    assert isinstance(run.claims, ConsensusClaims)
    evaluation = evaluate_agreement(run.trace, run.claims)
    assert evaluation.correct == ["p2", "p4"] and evaluation.ok
    g = grid(run.trace.events, run.trace.servers, sorted(run.trace.byzantine))
    assert g.byzantine == {"p3"} and g.crashed == {"p1": 1}
    crash = g.cells[("p1", 1)]
    assert crash.chain and crash.hidden_from == ["p3", "p4"]
    assert g.cells[("p2", 1)].chain_from == ["p1"]
    page = render(g)
    assert "Byzantine" in page and "hidden from p3, p4" in page
