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
