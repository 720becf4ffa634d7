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
