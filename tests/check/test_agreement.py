"""Seed 002's specifications as checkers (``smrkit.check.agreement``): each property
holds on a run that keeps it and goes red, naming processes, rounds and values, on a
run that breaks it. (Real runs of the round protocols are judged in
``tests/protocols/test_rounds_protocols.py``.)"""

from __future__ import annotations

from typing import Any

from smrkit.check.agreement import (
    NU,
    SF,
    consensus_checks,
    correct_processes,
    reliable_broadcast_checks,
    trb_checks,
)
from smrkit.sim.kernel.records import CRASH, DECIDED, DELIVERED, PROPOSED, Record


def proposed(node: str, value: Any) -> Record:
    return Record(0.0, PROPOSED, node, None, 0, value)


def decided(node: str, r: int, value: Any) -> Record:
    return Record(float(r), DECIDED, node, None, r, value)


def delivered(node: str, sender: str, r: int, value: Any) -> Record:
    return Record(float(r), DELIVERED, node, sender, r, value)


def crash(node: str) -> Record:
    return Record(1.0, CRASH, node, None, None, f"crash:{node}@r1")


def ok(checks: dict[str, Any]) -> dict[str, bool]:
    return {name: check.ok for name, check in checks.items()}


def test_a_consensus_run_that_keeps_the_specification() -> None:
    run = [proposed("p1", 0), proposed("p2", 1), proposed("p3", 1)]
    run += [decided(p, 2, 0) for p in ("p1", "p2", "p3")]
    checks = consensus_checks(run, ["p1", "p2", "p3"])
    assert ok(checks) == dict.fromkeys(("termination", "validity", "agreement", "integrity"), True)
    assert checks["termination"].detail == "all 3 correct processes decided (the last in round 2)"
    assert checks["agreement"].to_json()["ok"] is True


def test_disagreement_names_processes_rounds_and_values() -> None:
    run = [proposed("p1", 0), proposed("p2", 1), proposed("p3", 1), crash("p1")]
    run += [decided("p2", 1, 0), decided("p3", 1, 1)]
    correct = correct_processes(run, ["p1", "p2", "p3"])
    assert correct == ["p2", "p3"]
    agreement = consensus_checks(run, correct)["agreement"]
    assert not agreement.ok
    assert (
        agreement.detail == "processes decided differently: 0 by p2 in round 1; 1 by p3 in round 1"
    )
    assert agreement.processes == ("p2", "p3")
    assert agreement.rounds == (1, 1)
    assert agreement.values == ("0", "1")


def test_termination_validity_and_integrity_go_red() -> None:
    run = [proposed(p, 5) for p in ("p1", "p2", "p3")]
    run += [decided("p1", 2, 5), decided("p2", 2, 7), decided("p2", 3, 5)]
    checks = consensus_checks(run, ["p1", "p2", "p3"])
    assert not checks["termination"].ok and checks["termination"].processes == ("p3",)
    assert "p3" in checks["termination"].detail
    assert not checks["validity"].ok
    assert checks["validity"].detail == (
        "every process proposed 5, but p2 decided 7 in round 2; p3 never decided"
    )
    assert not checks["integrity"].ok and "p2 decided 7 in round 2 and again 5 in round 3" in (
        checks["integrity"].detail
    )
    invented = consensus_checks([proposed("p1", 1), decided("p1", 1, 9)], ["p1"])["integrity"]
    assert not invented.ok and invented.detail.endswith("p1 decided 9 in round 1")


def test_nu_needs_no_proposal_and_nobody_correct_cannot_terminate() -> None:
    run = [proposed("p1", 1), proposed("p2", 2), decided("p1", 1, NU), decided("p2", 1, NU)]
    checks = consensus_checks(run, ["p1", "p2"])
    assert checks["integrity"].ok and checks["agreement"].ok
    assert not consensus_checks(run, [])["termination"].ok


def test_byzantine_version_binds_only_the_honest_and_ignores_their_proposals() -> None:
    run = [proposed("p1", 1), proposed("p2", 1), proposed("p3", 9)]
    run += [decided("p1", 2, 1), decided("p2", 2, 1), decided("p3", 2, 4)]
    assert not consensus_checks(run, ["p1", "p2", "p3"])["agreement"].ok
    honest = consensus_checks(run, ["p1", "p2"], byzantine=["p3"])
    assert ok(honest) == dict.fromkeys(("termination", "validity", "agreement", "integrity"), True)
    assert "every process proposed 1" in honest["validity"].detail
    given = consensus_checks(run[3:], ["p1", "p2"], values={"p1": 2, "p2": 2})
    assert not given["validity"].ok and not given["integrity"].ok
    anonymous = consensus_checks(run[3:5], ["p1", "p2"], values=[1])
    assert anonymous["validity"].ok and anonymous["integrity"].ok
    assert not consensus_checks(run[3:5], ["p1", "p2"], values=[2])["validity"].ok


def test_reliable_broadcast_and_its_uniform_variant() -> None:
    run = [proposed("p1", "m"), delivered("p1", "p1", 1, "m"), crash("p1")]
    run += [delivered("p2", "p1", 2, "m")]
    correct = ["p2", "p3"]
    plain = reliable_broadcast_checks(run, correct, "p1")
    assert not plain["agreement"].ok
    assert plain["agreement"].detail == ("p2 delivered 'm' from p1 in round 2, but p3 never did")
    assert plain["validity"].ok  # the sender crashed: validity does not bind it
    run_ok = [proposed("p1", "m"), delivered("p1", "p1", 1, "m"), crash("p1")]
    assert reliable_broadcast_checks(run_ok, correct, "p1")["agreement"].ok
    uniform = reliable_broadcast_checks(run_ok, correct, "p1", uniform=True)["agreement"]
    assert not uniform.ok and uniform.processes == ("p1", "p2", "p3")


def test_reliable_broadcast_validity_and_integrity_go_red() -> None:
    run = [proposed("p1", "m"), delivered("p1", "p1", 1, "m"), delivered("p2", "p1", 1, "x")]
    run += [delivered("p2", "p1", 2, "m")]
    checks = reliable_broadcast_checks(run, ["p1", "p2", "p3"], "p1")
    assert not checks["validity"].ok and "p3 never delivered it" in checks["validity"].detail
    assert not checks["integrity"].ok and "a second time" in checks["integrity"].detail
    forged = reliable_broadcast_checks(
        [proposed("p1", "m"), delivered("p2", "p1", 1, "x")], ["p2"], "p1"
    )["integrity"]
    assert not forged.ok and "never broadcast: p2 delivered 'x' in round 1" in forged.detail


def test_trb_allows_sf_and_requires_every_correct_process_to_deliver() -> None:
    run = [
        proposed("p1", 3),
        crash("p1"),
        delivered("p2", "p1", 2, SF),
        delivered("p3", "p1", 2, SF),
    ]
    checks = trb_checks(run, ["p2", "p3"], "p1")
    assert ok(checks) == dict.fromkeys(("termination", "validity", "agreement", "integrity"), True)
    silent = trb_checks(run[:3], ["p2", "p3"], "p1")
    assert not silent["termination"].ok and silent["termination"].processes == ("p3",)
    split = trb_checks([*run[:3], delivered("p3", "p1", 2, 3)], ["p2", "p3"], "p1")
    assert not split["agreement"].ok
    assert not reliable_broadcast_checks(run, ["p2", "p3"], "p1")["integrity"].ok  # no SF there
