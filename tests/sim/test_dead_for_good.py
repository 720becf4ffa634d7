"""A run whose servers are all down for good stops a bounded horizon later (issue 9, §3:
one counterexample of ``smrkit bounds`` was 92.8 MB of retries to a dead server until the
3,600 s time limit) — and still says the service stopped."""

from __future__ import annotations

from smrkit.check.evaluate import evaluate_run
from smrkit.sim.world import SimConfig, run_simulation


def test_a_dead_service_stops_soon_and_is_still_judged_dead() -> None:
    run = run_simulation(SimConfig(replicas=1, faults=("crash:p1@0.5",), ops=300, clients=3))
    settle = 2 * (run.config.tau_s + 3 * run.config.delta_s) + run.client_timeout_s
    assert 0.5 < run.trace.end_time <= 0.5 + settle + 1e-9
    evaluation = evaluate_run(run)
    assert not evaluation.checks["pb4"].ok
    assert evaluation.checks["pb4"].details["unanswered"] > 0


def test_a_halt_before_the_plan_ends_is_dead_only_once_the_plan_has_nothing_left() -> None:
    """p1 halts inside an omission window (it detects its own omission); the run goes on
    to the window's end — a restart could still come until the plan's last change — and
    stops a horizon after that, not at the time limit."""
    config = SimConfig(
        protocol="pb-send-omission", replicas=1, faults=("send-omission:p1@0.5..1.2",), ops=300
    )
    run = run_simulation(config)
    assert any(kind == "halt" for _, kind, *_ in run.trace.events)
    assert 1.2 < run.trace.end_time < 2.0


def test_a_restart_to_come_keeps_the_run_going() -> None:
    plan = ("crash:p1@0.3", "crash:p2@0.3", "crash:p3@0.3", "restart:p1@1.5")
    config = SimConfig(protocol="pb-general-omission", faults=plan, ops=300)
    run = run_simulation(config)
    assert run.trace.end_time > 1.5
    assert any(
        kind == "start" and node == "p1" and t >= 1.5 for t, kind, node, *_ in run.trace.events
    )
