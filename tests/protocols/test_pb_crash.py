"""pb-crash: n = f + 1 servers, 0 blocking, failover ≤ f·δ + τ, under every admissible
crash plan — and a protocol that breaks the update-before-reply rule is caught."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from broken_variants import BROKEN, register_broken
from pb_helpers import request_arrival

from smrkit.check.evaluate import evaluate_run
from smrkit.check.logs import applied_logs
from smrkit.core import Command, Op
from smrkit.explore.sweep import Outcome, random_plans, sweep
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.protocols.primary_backup.crash import CrashReplica
from smrkit.sim.world import SimConfig, run_simulation

DELTA, TAU = 0.01, 0.05
SWEEP_SEEDS = range(200)
BASE = SimConfig(protocol="pb-crash", replicas=3, clients=4, ops=300, delta_s=DELTA, tau_s=TAU)
PLANS = random_plans(BASE, horizon_s=0.8)


@pytest.fixture(scope="module")
def sweep_outcomes() -> list[Outcome]:
    return sweep(BASE, SWEEP_SEEDS, PLANS, workers=2)


def test_two_hundred_random_crash_plans_keep_every_check(sweep_outcomes: list[Outcome]) -> None:
    failing = [(o.failed, o.replay_hint(BASE)) for o in sweep_outcomes if not o.ok]
    assert not failing, failing
    crashes = Counter(len(o.faults) for o in sweep_outcomes)
    assert crashes[1] > 30 and crashes[2] > 30  # the sweep really exercises 1 and 2 crashes
    f = 2
    for outcome in sweep_outcomes:
        assert outcome.measured["failover_s_max"] <= f * DELTA + TAU + 1e-9
        assert outcome.measured["blocking_s_max"] == 0.0
        assert outcome.ops["ok"] == BASE.ops


def test_the_broken_variant_is_caught_within_the_sweep(sweep_outcomes: list[Outcome]) -> None:
    register_broken()
    broken = replace(BASE, protocol=BROKEN)
    outcomes = sweep(broken, SWEEP_SEEDS, PLANS, workers=1)
    caught = [o for o in outcomes if not o.ok]
    assert caught, "replying before the update went unnoticed in 200 seeds"
    for outcome in caught:
        assert "linearizable" in outcome.failed
        assert sweep_outcomes[outcome.seed].ok  # the same plan is fine for pb-crash


def test_pinned_counterexample_for_the_broken_variant() -> None:
    register_broken()
    faults = ("crash:p1@0.001294/1",)  # found by the sweep (seed 62)
    good = evaluate_run(run_simulation(replace(BASE, seed=62, faults=faults)))
    bad = evaluate_run(run_simulation(replace(BASE, protocol=BROKEN, seed=62, faults=faults)))
    assert good.ok
    assert set(bad.failed) == {"linearizable", "pb4"}
    witness = bad.linearizability.witness
    assert witness is not None and witness.stuck


@pytest.mark.parametrize("n", [3, 4, 5])
def test_cascading_crashes_cost_delta_each_so_failover_reaches_f_delta_plus_tau(n: int) -> None:
    """p1 crashes just after the heartbeat round at 0.5. Each next server sends its
    round-0.55 heartbeat and crashes just before its turn to take over (p2 before 0.56,
    p3 before 0.57, …): every survivor waits δ more for each. The last server takes over
    at 0.55 + f·δ. Every message takes exactly δ."""
    f = n - 1
    faults = ["crash:p1@0.500001"]
    faults += [f"crash:p{i}@{0.555 + DELTA * (i - 2):.3f}" for i in range(2, n)]
    config = SimConfig(
        protocol="pb-crash",
        replicas=n,
        ops=800,
        delta_s=DELTA,
        delta_min_s=DELTA,
        tau_s=TAU,
        faults=tuple(faults),
        seed=2,
    )
    evaluation = evaluate_run(run_simulation(config))
    assert evaluation.ok, evaluation.failed
    failover = evaluation.analysis.failover_s_max
    assert f * DELTA + TAU - 1e-5 <= failover <= f * DELTA + TAU + 1e-9
    assert [s for s, _, _ in evaluation.analysis.intervals] == ["p1", f"p{n}"]


@pytest.mark.parametrize("after_sends", [0, 1, 2])
def test_a_crash_in_the_middle_of_an_update_broadcast(after_sends: int) -> None:
    """p1 crashes after 0, 1 or 2 of [update→p2, update→p3, reply]: whatever reached
    the backups, the new primary brings the others to its log and nothing acknowledged
    is lost; a command that reached both backups but not its client is applied once."""
    base = SimConfig(protocol="pb-crash", replicas=3, ops=400, seed=9)
    at = request_arrival(base, "p1", after=0.3)
    run = run_simulation(replace(base, faults=(f"crash:p1@{at}/{after_sends}",)))
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    logs = applied_logs(run.trace)
    assert logs["p2"] == logs["p3"]
    commands = [(c.client, c.seq) for c in logs["p2"]]
    assert len(commands) == len(set(commands))  # exactly once, retries included
    assert evaluation.history.counts()["ok"] == 400


def test_a_crash_in_the_middle_of_a_heartbeat_round() -> None:
    config = SimConfig(protocol="pb-crash", replicas=4, ops=400, faults=("crash:p1@0.5/1",), seed=5)
    evaluation = evaluate_run(run_simulation(config))
    assert evaluation.ok, evaluation.failed


def test_a_correct_primary_stays_primary_and_backups_agree() -> None:
    run = run_simulation(SimConfig(protocol="pb-crash", replicas=5, ops=2000, seed=3))
    evaluation = evaluate_run(run)
    assert evaluation.ok
    assert [s for s, _, _ in evaluation.analysis.intervals] == ["p1"]
    replicas = [node for node in run.nodes.values() if isinstance(node, CrashReplica)]
    assert {len(r.applied) for r in replicas} == {len(replicas[0].applied)}
    assert all(not r.anomalies for r in replicas)
    assert len(evaluation.analysis.blocking) == 2000
    assert evaluation.analysis.blocking_s_max == 0.0


def test_more_crashes_than_f_are_flagged_not_hidden() -> None:
    config = SimConfig(
        protocol="pb-crash", replicas=2, ops=300, faults=("crash:p1@0.2", "crash:p2@0.3")
    )
    run = run_simulation(config)
    assert run.admissibility and "more than f = 1" in run.admissibility[0]
    evaluation = evaluate_run(run)
    assert not evaluation.checks["failover"].ok
    assert evaluation.analysis.open_gap


def test_unexpected_messages_are_counted_and_dropped() -> None:
    """A stranger sends garbage and forged protocol messages; the service keeps serving."""
    from dataclasses import dataclass

    from smrkit.core import Message, Node, Out, Timer
    from smrkit.protocols.primary_backup.crash import Heartbeat, Takeover, Update

    @dataclass(frozen=True, slots=True)
    class Junk(Message):
        payload: str

    class Stranger(Node):
        def on_start(self, out: Out) -> None:
            out.set_timer("again", 0.01)

        def on_timer(self, timer: Timer, out: Out) -> None:
            for server in ("p1", "p2", "p3"):
                out.send(server, Junk("x" * 10))
            out.send("p2", Update(10_000, Command("c9", 1, Op("put", "k0", "forged"))))
            out.send("p3", Heartbeat(-5, 0))
            out.send("p1", Takeover(0, 0, 0.0))  # a higher-ranked server claiming primacy
            out.set_timer("again", 0.05)

    config = SimConfig(protocol="pb-crash", replicas=3, ops=400, seed=4)
    run = run_simulation(config, extra_nodes=[Stranger("x1")])
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    replicas = [run.nodes[s] for s in ("p1", "p2", "p3")]
    assert all(isinstance(r, CrashReplica) for r in replicas)
    counts: Counter[str] = Counter()
    for replica in replicas:
        assert isinstance(replica, CrashReplica)
        counts.update(replica.anomalies)
    assert counts["Junk from a stranger"] > 0
    assert counts["Update from a stranger"] > 0
    assert counts["Takeover from a stranger"] > 0
    assert counts["Heartbeat from a stranger"] > 0


def test_the_aimed_plans_catch_the_broken_variant() -> None:
    """Random plans catch the reply-before-update bug in 2 seeds of 200; the plan aimed
    between the update and the reply catches it every time."""
    from smrkit.core.failure_models import FailureModel
    from smrkit.explore.bounds import aimed_plans
    from smrkit.explore.sweep import judge_all, with_plan

    register_broken()
    base = SimConfig(protocol=BROKEN, replicas=2, clients=3, ops=300)
    plans = aimed_plans(base, FailureModel.CRASH, 1)
    outcomes = judge_all([with_plan(base, i, plan) for i, plan in enumerate(plans)])
    caught = [o for o in outcomes if "linearizable" in o.failed]
    assert caught, [o.faults for o in outcomes]
    assert all(o.faults[0].endswith("/1") for o in caught)


# --- issue 8: found by 10,000-seed sweeps (4 clients, 300 ops, δ = 0.01, τ = 0.05) ------

ISSUE_8 = SimConfig(protocol="pb-crash", replicas=3, clients=4, ops=300, delta_s=DELTA, tau_s=TAU)


def test_seed_102535_the_sync_of_a_new_primary_is_not_dropped() -> None:
    """p1 crashes after its update 60 reached p2 only; p2 takes over and sent its Sync
    before its Takeover, so p3 — whose primary was still p1 — dropped the Sync, then the
    update 61 p2 acknowledged; after p2 crashed p3 took over with 59 entries and the
    acknowledged append was lost. Takeover goes first now, and p3 holds entry 61."""
    faults = ("crash:p1@0.175358/1", "crash:p2@0.221245/2")
    run = run_simulation(replace(ISSUE_8, seed=102535, faults=faults))
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    p3 = run.nodes["p3"]
    assert isinstance(p3, CrashReplica)
    assert "sync from a non-primary" not in p3.anomalies
    assert "gap in updates" not in p3.anomalies


@pytest.mark.parametrize(
    ("seed", "faults"),
    [
        (100248, ("crash:p2@0.154768/1", "crash:p1@0.114087")),
        (104457, ("crash:p1@0.33666/2", "crash:p2@0.359813/2")),
        (106072, ("crash:p1@0.231968/0", "crash:p2@0.258039/1")),
    ],
)
def test_sweep_seeds_where_a_candidate_crashed_in_its_takeover_step(
    seed: int, faults: tuple[str, ...]
) -> None:
    """p2 takes over and crashes in the same step, after its Takeover reached p3: p3
    followed a primary that was primary for no time and noticed only at the next round
    (failover up to 0.0959 s). Its missing confirmation gives it away within x + δ."""
    evaluation = evaluate_run(run_simulation(replace(ISSUE_8, seed=seed, faults=faults)))
    assert evaluation.ok, evaluation.failed
    assert evaluation.analysis.failover_s_max <= 2 * DELTA + TAU + 1e-9


@pytest.mark.parametrize("n", [3, 4, 5])
def test_candidates_crashing_in_their_takeover_steps_cost_delta_plus_x_each(n: int) -> None:
    """The worst case of the confirmation: p1 crashes right after its heartbeat at 0.5
    (found out at 0.56), and each next candidate crashes in its takeover step after its
    Takeover reached everyone, so each is found out only by its missing confirmation,
    x + δ later. The failover reaches its target τ + δ + (f − 1)·(δ + x) exactly."""
    from smrkit.protocols.primary_backup.crash import confirm_delay

    f = n - 1
    step = DELTA + confirm_delay(DELTA)
    faults = [f"crash:p1@0.5/{n - 1}"]
    faults += [f"crash:p{i}@{0.56 + (i - 2) * step:.6f}/{n - i}" for i in range(2, n)]
    config = replace(ISSUE_8, replicas=n, ops=800, faults=tuple(faults), seed=1)
    run = run_simulation(config)
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    claims = run.claims
    assert isinstance(claims, PrimaryBackupClaims)
    assert claims.failover_s == pytest.approx(TAU + DELTA + (f - 1) * step)
    assert evaluation.analysis.failover_s_max == pytest.approx(claims.failover_s)
    primaries = [s for s, start, end in evaluation.analysis.intervals if end > start]
    assert primaries == ["p1", f"p{n}"]
