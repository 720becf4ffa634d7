"""Seed sweeps: run one configuration under many seeds and fault plans, judge every run.

A sweep is how smrkit turns "the protocol tolerates any admissible fault plan" into
evidence: for each seed it draws a random admissible plan for the protocol's failure
model (or takes the plans given), runs the simulation and evaluates it. Every outcome
carries its seed and plan, so a failing one is a bug report that replays with
``smrkit sim … --seed S --fault …``.

Runs are independent, so a sweep can use every core (``workers``). Work crosses the
process boundary as JSON (configurations in, outcome summaries out), never as pickled
objects; protocols must then be importable by name in the workers, which the built-in
ones are. Protocols registered at run time (tests) sweep with ``workers=1``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from smrkit.check.evaluate import evaluate_run
from smrkit.core.ids import server_ids
from smrkit.protocols.registry import get_protocol
from smrkit.sim.faults import random_plan
from smrkit.sim.simulator import SimulationError
from smrkit.sim.world import SimConfig, run_simulation

PlanMaker = Callable[[int], tuple[str, ...]]


@dataclass(frozen=True)
class Outcome:
    """The verdicts and figures of one run of a sweep."""

    seed: int
    faults: tuple[str, ...]
    ok: bool
    failed: tuple[str, ...]
    measured: dict[str, float]
    ops: dict[str, int]
    events: int
    error: str | None = None
    """Why the run stopped early: a handler raised (``failed`` is then ``("raised",)``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "faults": list(self.faults),
            "ok": self.ok,
            "failed": list(self.failed),
            "measured": self.measured,
            "ops": self.ops,
            "events": self.events,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(
            seed=data["seed"],
            faults=tuple(data["faults"]),
            ok=data["ok"],
            failed=tuple(data["failed"]),
            measured=dict(data["measured"]),
            ops=dict(data["ops"]),
            events=data["events"],
            error=data.get("error"),
        )

    def replay_hint(self, base: SimConfig) -> str:
        """The command line that replays this run."""
        n = (
            base.replicas
            if base.replicas is not None
            else get_protocol(base.protocol).replicas_default
        )
        faults = "".join(f" --fault {spec}" for spec in self.faults)
        return (
            f"smrkit sim --protocol {base.protocol} --replicas {n} --clients {base.clients} "
            f"--ops {base.ops} --delta {base.delta_s} --tau {base.tau_s} "
            f"--seed {self.seed}{faults}"
        )


def judge(config: SimConfig) -> Outcome:
    """Run one configuration and evaluate it."""
    try:
        run = run_simulation(config)
    except SimulationError as error:
        # A handler raised: a bug in the protocol, which is a finding like any other.
        return Outcome(
            seed=config.seed,
            faults=config.faults,
            ok=False,
            failed=("raised",),
            measured={"failover_s_max": 0.0, "blocking_s_max": 0.0},
            ops={},
            events=0,
            error=str(error),
        )
    evaluation = evaluate_run(run)
    return Outcome(
        seed=config.seed,
        faults=config.faults,
        ok=evaluation.ok,
        failed=tuple(evaluation.failed),
        measured=evaluation.measured(),
        ops=evaluation.history.counts(),
        events=len(run.trace.events),
    )


def _judge_json(config_json: str) -> str:
    config = SimConfig.from_json(json.loads(config_json))
    return json.dumps(judge(config).to_json())


def random_plans(base: SimConfig, horizon_s: float, *, faults_max: int | None = None) -> PlanMaker:
    """Admissible plans for the protocol's failure model: seed ``s`` → the plan drawn
    from ``random.Random(f"plan/{s}")``, with faults in ``[0, horizon_s)``."""
    spec = get_protocol(base.protocol)
    n = spec.replicas_default if base.replicas is None else base.replicas
    f = spec.tolerated(n)
    servers = server_ids(n)

    def make(seed: int) -> tuple[str, ...]:
        rng = random.Random(f"plan/{seed}")
        plan = random_plan(spec.failure_model, f, servers, horizon_s, rng, faults_max=faults_max)
        return plan.specs

    return make


def sweep(
    base: SimConfig,
    seeds: Iterable[int],
    plans: PlanMaker,
    *,
    workers: int = 1,
) -> list[Outcome]:
    """Judge ``base`` under each seed with the plan ``plans(seed)``; outcomes in seed order."""
    return judge_all([with_plan(base, seed, plans(seed)) for seed in seeds], workers=workers)


def judge_all(configs: Sequence[SimConfig], *, workers: int = 1) -> list[Outcome]:
    """Judge every configuration, on ``workers`` processes; outcomes in the same order."""
    if workers <= 1 or len(configs) < 2:
        return [judge(config) for config in configs]
    payloads = [json.dumps(config.to_json()) for config in configs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(
            pool.map(_judge_json, payloads, chunksize=max(1, len(payloads) // (4 * workers)))
        )
    return [Outcome.from_json(json.loads(result)) for result in results]


def with_plan(base: SimConfig, seed: int, faults: Sequence[str]) -> SimConfig:
    """``base`` with another seed and fault plan."""
    values = base.to_json()
    values["seed"] = seed
    values["faults"] = list(faults)
    return SimConfig.from_json(values)
