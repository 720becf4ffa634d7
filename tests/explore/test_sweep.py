"""Seed sweeps: the same outcomes in one process or many, and replayable from a hint."""

from __future__ import annotations

import shlex

import pytest

from smrkit.cli.main import main
from smrkit.explore.sweep import random_plans, sweep
from smrkit.sim.world import SimConfig, run_simulation

BASE = SimConfig(protocol="pb-crash", replicas=3, ops=150, clients=3)


def test_outcomes_do_not_depend_on_the_number_of_workers() -> None:
    plans = random_plans(BASE, horizon_s=0.3)
    alone = sweep(BASE, range(12), plans, workers=1)
    pooled = sweep(BASE, range(12), plans, workers=2)
    assert alone == pooled
    assert [o.seed for o in pooled] == list(range(12))
    assert any(o.faults for o in pooled)


def test_random_plans_are_a_function_of_the_seed() -> None:
    plans = random_plans(BASE, horizon_s=0.3)
    assert [plans(s) for s in range(20)] == [plans(s) for s in range(20)]
    assert len({plans(s) for s in range(20)}) > 5


def test_the_replay_hint_replays_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    (outcome,) = sweep(BASE, [3], lambda seed: ("crash:p1@0.1/1",))
    argv = shlex.split(outcome.replay_hint(BASE))
    assert argv[0] == "smrkit"
    with pytest.raises(SystemExit) as exit_info:
        main([*argv[1:], "--json"])
    assert exit_info.value.code == 0
    assert '"ok": true' in capsys.readouterr().out


def test_a_world_without_clients_stops_once_the_faults_settle() -> None:
    run = run_simulation(SimConfig(clients=0, faults=("crash:p1@0.5",)))
    assert 0.5 < run.trace.end_time < 1.0


def test_a_protocol_that_raises_is_a_failed_outcome_not_a_crash_of_the_sweep() -> None:
    from dataclasses import replace as replace_spec

    from smrkit.core.ids import NodeId
    from smrkit.core.messages import Message
    from smrkit.core.node import Out, Replica
    from smrkit.explore.sweep import judge_all
    from smrkit.protocols import registry
    from smrkit.protocols.primary_backup.crash import CrashReplica
    from smrkit.protocols.registry import ProtocolConfig, get_protocol, protocol_names, register
    from smrkit.sim.world import SimConfig

    class Raiser(CrashReplica):
        def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
            raise RuntimeError("boom")

    def build(config: ProtocolConfig) -> list[Replica]:
        return [Raiser(server, config) for server in config.servers]

    if "test-raiser" not in protocol_names():
        register(replace_spec(get_protocol("pb-crash"), name="test-raiser", build=build))
    try:
        outcomes = judge_all([SimConfig(protocol="test-raiser", replicas=2, ops=10)])
    finally:  # other tests in this process walk the registry
        registry._PROTOCOLS.pop("test-raiser")
    assert [(o.ok, o.failed) for o in outcomes] == [(False, ("raised",))]
    assert outcomes[0].error is not None and "boom" in outcomes[0].error


def test_run_sweep_tallies_the_same_whatever_the_workers() -> None:
    from smrkit.explore.sweep import run_sweep

    plans = random_plans(BASE, horizon_s=0.3)
    seen: list[int] = []
    alone = run_sweep(BASE, range(10), plans, workers=1, progress=lambda t: seen.append(t.runs))
    pooled = run_sweep(BASE, range(10), plans, workers=2)
    assert alone == pooled
    assert seen == list(range(1, 11))
    assert alone.runs == 10 and sum(alone.plan_sizes.values()) == 10
    assert alone.ops_ok == alone.ops_invoked == 10 * BASE.ops


def test_the_tally_keeps_the_first_failures_in_seed_order_and_counts_every_check() -> None:
    import sys
    from dataclasses import replace
    from pathlib import Path

    from smrkit.explore.sweep import Outcome, Tally

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "protocols"))
    from broken_variants import BROKEN, register_broken

    register_broken()
    tally = Tally(keep=2)
    for seed, failed in [(1, ()), (2, ("pb4", "linearizable")), (3, ("failover",)), (4, ("pb1",))]:
        tally.add(
            Outcome(
                seed=seed,
                faults=("crash:p1@0.1",) if failed else (),
                ok=not failed,
                failed=failed,
                measured={"failover_s_max": seed / 100, "blocking_s_max": 0.0},
                ops={"ok": 5, "invoked": 6},
                events=10,
            )
        )
    assert (tally.runs, tally.violations) == (4, 3)
    assert [o.seed for o in tally.failed] == [2, 3]
    assert tally.broken == {"pb4": 1, "linearizable": 1, "failover": 1, "pb1": 1}
    assert tally.failover_s_max == 0.04 and tally.plan_sizes == {0: 1, 1: 3}
    assert (tally.ops_ok, tally.ops_invoked) == (20, 24)
    broken = replace(BASE, protocol=BROKEN, replicas=3, clients=4, ops=300)
    from smrkit.explore.sweep import run_sweep

    found = run_sweep(broken, range(60, 65), random_plans(broken, 0.8), workers=1)
    assert [o.seed for o in found.failed] == [62] and found.broken["linearizable"] == 1
