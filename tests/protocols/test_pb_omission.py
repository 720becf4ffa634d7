"""The omission protocols (the lease-and-quorum engine): a faulty server halts itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from broken_variants import (
    OLD_EPOCHS,
    RESTARTS_IN_SYNC,
    TRUNCATING,
    TRUSTING,
    register_old_epochs,
    register_restarts_in_sync,
    register_truncating,
    register_trusting,
)

from smrkit.check.evaluate import evaluate_run
from smrkit.explore.sweep import random_plans, sweep
from smrkit.protocols import registry
from smrkit.sim import trace as tr
from smrkit.sim.datadriven import parse
from smrkit.sim.scenario import run_script
from smrkit.sim.world import SimConfig, run_simulation

OMISSION = ["pb-send-omission", "pb-receive-omission", "pb-general-omission"]
TESTDATA = Path(__file__).parent / "testdata"


def _halts(run_events: list[tr.Event]) -> list[tuple[str, str]]:
    return [(e[2], e[5]) for e in run_events if e[1] == tr.HALT]


@pytest.mark.parametrize("protocol", OMISSION)
def test_f_2_with_five_servers_over_random_plans(protocol: str) -> None:
    base = SimConfig(protocol=protocol, replicas=5, clients=3, ops=200)
    outcomes = sweep(base, range(60), random_plans(base, 1.0))
    assert [(o.seed, o.faults, o.failed) for o in outcomes if not o.ok] == []


@pytest.mark.parametrize(
    ("protocol", "fault"),
    [
        ("pb-receive-omission", "receive-omission:p1@0.3"),
        ("pb-send-omission", "send-omission:p1@0.3"),
        ("pb-general-omission", "general-omission:p1@0.3"),
    ],
)
def test_a_primary_that_omits_everything_halts_before_anyone_takes_over(
    protocol: str, fault: str
) -> None:
    run = run_simulation(
        SimConfig(protocol=protocol, replicas=3, clients=3, ops=300, faults=(fault,))
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    halts = _halts(run.trace.events)
    assert [node for node, _ in halts] == ["p1"]
    took_over = [e for e in run.trace.events if e[1] == tr.PRIMARY and e[5] and e[2] != "p1"]
    assert took_over and took_over[0][0] >= next(e[0] for e in run.trace.events if e[1] == tr.HALT)


def test_a_primary_whose_replies_to_a_client_are_lost_halts() -> None:
    """Only the replies to c1 are lost: the servers hear p1 fine, so only the client's
    resend can tell p1 it omits messages."""
    run = run_simulation(
        SimConfig(
            protocol="pb-send-omission",
            replicas=3,
            clients=3,
            ops=300,
            faults=("send-omission:p1->c1@0.3",),
        )
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    halts = _halts(run.trace.events)
    assert halts and halts[0][0] == "p1" and "never arrived" in halts[0][1]


def test_a_primary_that_drops_a_clients_requests_halts() -> None:
    run = run_simulation(
        SimConfig(
            protocol="pb-receive-omission",
            replicas=3,
            clients=3,
            ops=300,
            faults=("receive-omission:p1<-c2@0.3",),
        )
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    halts = _halts(run.trace.events)
    assert halts and halts[0][0] == "p1" and "never received" in halts[0][1]


def test_a_backup_that_cannot_hear_does_not_disturb_a_correct_primary() -> None:
    run = run_simulation(
        SimConfig(
            protocol="pb-general-omission",
            replicas=3,
            clients=3,
            ops=300,
            faults=("receive-omission:p3@0.2",),
        )
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    changes = [(e[2], e[5]) for e in run.trace.events if e[1] == tr.PRIMARY]
    assert changes == [("p1", True)]


def test_with_two_servers_two_halves_each_elect_a_primary() -> None:
    """n = 2f (below Theorem 4's bound): the quorum is one server, each side elects."""
    run = run_simulation(
        SimConfig(
            protocol="pb-general-omission",
            replicas=2,
            clients=2,
            ops=200,
            faults=("send-omission:p1->p2@0.3", "receive-omission:p1<-p2@0.3"),
        )
    )
    assert "pb1" in evaluate_run(run).failed


def test_the_missed_takeover_script_fails_on_the_bug_it_pins() -> None:
    """The fix of a follower joining a newer primary without its takeover is pinned by
    ``testdata/quorum_missed_takeover.txt`` (run with every scenario script by
    ``tests/test_scenarios.py``). Run on the engine before the fix, the same script
    shows p5 applying its stale b where the new primary committed c."""
    text = (TESTDATA / "quorum_missed_takeover.txt").read_text(encoding="utf-8")
    script = parse(text.replace("protocol=pb-general-omission", f"protocol={TRUSTING}"))
    register_trusting()
    try:
        outputs = run_script(case.directive for case in script.cases)
    finally:  # other tests in this process walk the registry
        registry._PROTOCOLS.pop(TRUSTING)
    after_heartbeat = next(
        i for i, case in enumerate(script.cases) if "type=Heartbeat" in case.directive.text
    )
    fixed, broken = script.cases[after_heartbeat + 1].expected, outputs[after_heartbeat + 1]
    assert "applied: [c1#1 append k 'a']" in fixed
    assert "applied: [c1#1 append k 'a', c1#2 append k 'b']" in broken


def _run_on(name: str, register: Callable[[], object], script_name: str) -> list[str]:
    """The outputs of a scenario script of pb-general-omission run on a broken variant."""
    text = (TESTDATA / script_name).read_text(encoding="utf-8")
    script = parse(text.replace("protocol=pb-general-omission", f"protocol={name}"))
    register()
    try:
        return run_script(case.directive for case in script.cases)
    finally:  # other tests in this process walk the registry
        registry._PROTOCOLS.pop(name)


def test_the_figure_8_script_fails_on_the_bug_it_pins() -> None:
    """Raft's Figure 8 in the quorum engine is pinned by ``testdata/quorum_figure8.txt``
    (run with every scenario script by ``tests/test_scenarios.py``): c1's append of b is
    acknowledged, and a read at a later primary returns ``ab``. Run on the engine before
    the fix (logs ranked by their last entry's epoch), the same script shows p2, whose
    uncommitted c is of epoch 129, outranking p3's committed b of epoch 0: the read
    returns ``ac``, the acknowledged b is lost."""
    script = parse((TESTDATA / "quorum_figure8.txt").read_text(encoding="utf-8"))
    outputs = _run_on(OLD_EPOCHS, register_old_epochs, "quorum_figure8.txt")
    resent = next(i for i, case in enumerate(script.cases) if case.directive.command == "resend")
    acknowledged = "ClientReply(client=c1, seq=2, result=none, error=none)"
    for output in (script.cases[resent + 1].expected, outputs[resent + 1]):
        assert acknowledged in output  # b is acknowledged in both
    assert "ClientReply(client=c1, seq=3, result=ab, error=none)" in script.cases[-1].expected
    assert "ClientReply(client=c1, seq=3, result=ac, error=none)" in outputs[-1]


def test_the_takeover_in_parts_script_fails_on_the_bug_it_pins() -> None:
    """``testdata/quorum_takeover_parts.txt`` pins that a takeover's first part does not
    cut a follower's log short: c2's acknowledged d survives p1's crash and p2's
    omissions (a read returns ``abd``). Run on the engine that splices every part as it
    comes, the followers drop d and the read returns ``ab``."""
    script = parse((TESTDATA / "quorum_takeover_parts.txt").read_text(encoding="utf-8"))
    outputs = _run_on(TRUNCATING, register_truncating, "quorum_takeover_parts.txt")
    acked = next(
        i for i, case in enumerate(script.cases) if case.directive.text == "deliver type=Ack"
    )
    acknowledged = "ClientReply(client=c2, seq=1, result=none, error=none)"
    assert all(acknowledged in text for text in (script.cases[acked].expected, outputs[acked]))
    assert "ClientReply(client=c1, seq=3, result=abd, error=none)" in script.cases[-1].expected
    assert "ClientReply(client=c1, seq=3, result=ab, error=none)" in outputs[-1]


def test_the_restart_out_of_sync_script_fails_on_the_bug_it_pins() -> None:
    """``testdata/quorum_restart_out_of_sync.txt`` pins that a follower restarted with a
    newer epoch it learned from a heartbeat, its stale tail never replaced, asks for the
    primary's log instead of applying the primary's commit point to that tail. Run on
    the engine that takes every restarted log for its primary's prefix, p5 applies its
    stale b where the primary committed c."""
    script = parse((TESTDATA / "quorum_restart_out_of_sync.txt").read_text(encoding="utf-8"))
    outputs = _run_on(RESTARTS_IN_SYNC, register_restarts_in_sync, "quorum_restart_out_of_sync.txt")
    assert "applied: [c1#1 append k 'a', c1#3 append k 'c']" in script.cases[-1].expected
    assert "applied: [c1#1 append k 'a', c1#2 append k 'b']" in outputs[-1]


@pytest.mark.parametrize(
    ("protocol", "fault"),
    [
        ("pb-general-omission", "general-omission:p1@0.225341..0.785989"),
        ("pb-send-omission", "crash:p1@0.225341/0"),
        ("pb-receive-omission", "crash:p1@0.225341/0"),
    ],
)
def test_a_random_plan_with_small_messages_that_lost_linearizability_to_truncation(
    protocol: str, fault: str
) -> None:
    """``bench/sweep_small_messages.py`` (random admissible plans, every message at most
    400 bytes: one entry a part) found seed 581 with n = 5: p1 crashes, or omits messages
    for 0.56 s — one faulty server of f = 2 — and the engine on main before this fix
    (each takeover part spliced as it came, cutting a follower's log short) answered a
    history that is not linearizable. The engine holds such parts back; the broken
    variant still fails."""
    config = SimConfig(protocol=protocol, replicas=5, clients=4, ops=300, seed=581, faults=(fault,))
    evaluation = evaluate_run(run_simulation(config, message_bytes_max=400))
    assert evaluation.failed == []
    assert evaluation.history.counts()["ok"] == 300
    register_truncating()
    try:
        broken = run_simulation(replace(config, protocol=TRUNCATING), message_bytes_max=400)
    finally:
        registry._PROTOCOLS.pop(TRUNCATING)
    assert "linearizable" in evaluate_run(broken).failed


@pytest.mark.parametrize(
    ("seed", "faults"),
    [
        (105565, ("general-omission:p2@0.434871..1.116224~0.532", "crash:p1@0.583702")),
        (109687, ("general-omission:p2@0.603808~0.458", "general-omission:p1@0.689692..0.894016")),
        (200130, ("general-omission:p2@0.370658~0.58", "crash:p1@0.72793/0")),
        (201092, ("general-omission:p1@0.410939..0.557535", "general-omission:p2@0.406274~0.433")),
    ],
)
def test_sweep_seeds_where_a_lossy_server_split_the_vote(
    seed: int, faults: tuple[str, ...]
) -> None:
    """Issue 8 (10,000-seed sweeps, n = 5, f = 2): p1 is gone and p2 loses some of its
    heartbeats, so some voters heard p2 and others did not. Each voted in sub-round m for
    the m-th server *it* had heard, and the lists were shifted by one: no candidate got
    f + 1 votes, round after round (failover up to 0.27 s against 0.09 s). In sub-round
    m every voter now votes for the first server it heard from rank m on, so once the
    server at rank m is correct every correct voter names it."""
    config = SimConfig(
        protocol="pb-general-omission",
        replicas=5,
        clients=4,
        ops=300,
        delta_s=0.01,
        tau_s=0.05,
        seed=seed,
        faults=faults,
    )
    evaluation = evaluate_run(run_simulation(config))
    assert evaluation.ok, evaluation.failed
    assert evaluation.analysis.failover_s_max <= 4 * 0.01 + 0.05 + 1e-9
