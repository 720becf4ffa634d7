"""Dolev-Strong under its adversaries: agreement and validity hold, and break when the
protocol is cut short of f + 1 rounds."""

from __future__ import annotations

import json

import pytest

from smrkit.cli.main import main
from smrkit.core.ids import server_ids
from smrkit.explore.agreement_runs import run_rounds
from smrkit.protocols.byzantine.dolev_strong import ADVERSARIES, SF, DolevStrong


def _nodes(n: int, f: int, value: int = 7) -> list[DolevStrong]:
    ids = server_ids(n)
    return [DolevStrong(p, ids, "p1", f, value if p == "p1" else None) for p in ids]


def test_a_correct_sender_is_heard_by_everyone() -> None:
    run = run_rounds(_nodes(4, 2), sender="p1", sf=SF)
    assert run.ok, run.checks
    assert run.decisions() == {p: 7 for p in server_ids(4)}
    assert {r.num for r in run.records if r.kind == "decided"} == {3}  # f + 1


@pytest.mark.parametrize(
    ("faults", "decided"),
    [
        (["byzantine:p1=equivocate"], SF),
        (["byzantine:p1=silent"], SF),
        (["byzantine:p2=" + ADVERSARIES["late-relay"]], 7),
        (["byzantine:p1=equivocate", "byzantine:p2=" + ADVERSARIES["late-relay"]], SF),
        (["byzantine:p1=silent", "byzantine:p2=" + ADVERSARIES["late-relay"]], SF),
    ],
)
def test_every_adversary_keeps_agreement_and_validity(faults: list[str], decided: object) -> None:
    run = run_rounds(_nodes(4, 2), faults, sender="p1", sf=SF)
    assert run.ok, {name: c.detail for name, c in run.checks.items() if not c.ok}
    assert set(run.decisions().values()) == {decided}


def test_more_faults_than_f_break_agreement_through_a_dangerous_chain() -> None:
    """Built for f = 1 (two rounds), with two faulty processes: the sender whispers to
    p2, which releases the chain in round 2 to p3 only; p3 decides 7, p4 SF."""
    faults = ["byzantine:p1=" + ADVERSARIES["whisper"], "byzantine:p2=" + ADVERSARIES["late-relay"]]
    run = run_rounds(_nodes(4, 1), faults, sender="p1", sf=SF)
    assert not run.checks["agreement"].ok
    assert run.decisions() == {"p3": 7, "p4": SF}
    assert "p4" in run.checks["agreement"].detail


@pytest.mark.parametrize(
    "faults",
    [
        [],
        ["byzantine:p1=equivocate"],
        ["byzantine:p1=replay"],  # a faulty sender that sends one value: it broadcast it
        ["byzantine:p1=" + ADVERSARIES["whisper"], "byzantine:p2=" + ADVERSARIES["late-relay"]],
    ],
)
def test_smrkit_sim_judges_dolev_strong_as_trb(
    faults: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sim", "--protocol", "dolev-strong", "--timing", "lock-step", "--replicas", "4"]
    for fault in faults:
        argv += ["--fault", fault]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert exit_info.value.code == 0, data["checks"]
    assert set(data["checks"]) >= {"termination", "validity", "agreement", "integrity"}
