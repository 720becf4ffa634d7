"""Seed sweeps: run one configuration under many seeds and fault plans, judge every run.

A sweep is how smrkit turns "the protocol tolerates any admissible fault plan" into
evidence: for each seed it draws a random admissible plan for the protocol's failure
model (or takes the plans given), runs the simulation and evaluates it. Every outcome
carries its seed and plan, so a failing one is a bug report that replays with
``smrkit sim … --seed S --fault …``.

Runs are independent, so a sweep can use every core (``workers``). Work crosses the
process boundary as JSON (configurations in, outcome summaries out), never as pickled
objects; protocols must then be importable by name in the workers, which the built-in
ones are, and so is a user's ``module.path:Name`` (each worker imports it again).
Protocols registered at run time under another name (tests) sweep with ``workers=1``.

:func:`run_sweep` is the whole search behind ``smrkit sweep`` and ``bench/sweep.py``: it
streams outcomes (for a progress bar) into a :class:`Tally` — the counts, the largest
figures and the first failures — so a sweep of millions of seeds holds only its summary.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from smrkit.check.evaluate import evaluate_run
from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, client_ids, server_ids
from smrkit.explore.protocol_ref import ensure_registered
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.protocols.registry import get_protocol
from smrkit.sim.faults import (
    Fault,
    FaultPlan,
    admissibility_problems,
    allowed_kinds,
    random_plan,
)
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
        """The command line that replays this run: ``smrkit sim`` with every setting of
        ``base`` that differs from the command's defaults."""
        n = (
            base.replicas
            if base.replicas is not None
            else get_protocol(base.protocol).replicas_default
        )
        words = [
            f"smrkit sim --protocol {base.protocol} --replicas {n} --clients {base.clients}",
            f"--ops {base.ops} --delta {base.delta_s} --tau {base.tau_s}",
        ]
        default = SimConfig()
        optional = [
            ("--delta-min", base.delta_min_s, default.delta_min_s),
            ("--app", base.app, default.app),
            ("--keys", base.keys, default.keys),
            ("--client-timeout", base.client_timeout_s, default.client_timeout_s),
            ("--think", base.think_s, default.think_s),
            ("--time-limit", base.time_limit_s, default.time_limit_s),
            ("--timing", base.timing, default.timing),
            ("--gst", base.gst_s, default.gst_s),
            ("--delay-cap", base.delay_cap_s, default.delay_cap_s),
        ]
        words += [f"{flag} {value}" for flag, value, usual in optional if value != usual]
        if base.mix is not None:
            words.append("--mix " + ",".join(f"{op}={weight}" for op, weight in base.mix))
        if not base.clients_trusted:
            words.append("--untrusted-clients")
        words.append(f"--seed {self.seed}")
        words += [
            f"--fault '{spec}'" if ">" in spec or "<" in spec else f"--fault {spec}"
            for spec in self.faults
        ]
        return " ".join(words)


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
    if ":" in config.protocol:
        ensure_registered(config.protocol)  # a user's module.path:Name, in this worker
    return json.dumps(judge(config).to_json())


def random_plans(
    base: SimConfig,
    horizon_s: float,
    *,
    faults_max: int | None = None,
    f: int | None = None,
) -> PlanMaker:
    """Admissible plans for the protocol's failure model: seed ``s`` → the plan drawn
    from ``random.Random(f"plan/{s}")``, with at most ``f`` faults (default: as many as
    the protocol tolerates with ``base``'s servers; fewer with ``faults_max``) in
    ``[0, horizon_s)``. Where ``base``'s clients are untrusted, a faulty server (or the
    first primary, if the plan has room for one more) also omits towards one client
    (:func:`towards_a_client`): the faults the relay of untrusted clients is for."""
    spec = get_protocol(base.protocol)
    n = spec.replicas_default if base.replicas is None else base.replicas
    if f is None:
        f = spec.tolerated(n)
    servers = server_ids(n)
    clients = client_ids(base.clients)
    model = spec.failure_model

    def make(seed: int) -> tuple[str, ...]:
        rng = random.Random(f"plan/{seed}")
        plan = random_plan(model, f, servers, horizon_s, rng, faults_max=faults_max)
        if base.clients_trusted:
            return plan.specs
        most = f if faults_max is None else min(f, faults_max)
        extra = random.Random(f"plan/{seed}/client")
        return towards_a_client(plan, model, most, servers, clients, horizon_s, extra).specs

    return make


def towards_a_client(
    plan: FaultPlan,
    model: FailureModel,
    f: int,
    servers: Sequence[NodeId],
    clients: Sequence[NodeId],
    horizon_s: float,
    rng: random.Random,
) -> FaultPlan:
    """``plan`` with one more fault, if the model has room for it: a send or receive
    omission of one of the plan's faulty servers (or of the first primary) towards one
    client, in a window or from some instant on, total or lossy — so a faulty primary
    may leave one client unanswered while the servers hear it fine."""
    kinds = [k for k in ("send-omission", "receive-omission") if k in allowed_kinds(model)]
    if not kinds or not clients:
        return plan
    faulty = plan.faulty_servers() or [servers[0]]
    node, client, kind = rng.choice(faulty), rng.choice(list(clients)), rng.choice(kinds)
    start = round(rng.uniform(0.0, horizon_s), 6)
    end = math.inf if rng.random() < 0.5 else round(start + rng.uniform(1e-6, horizon_s), 6)
    probability = 1.0 if rng.random() < 0.6 else round(rng.uniform(0.2, 0.9), 3)
    fault = Fault(kind, node, client, start, end, probability=probability)
    extended = FaultPlan((*plan.faults, fault))
    return plan if admissibility_problems(extended, model, f) else extended


def sweep(
    base: SimConfig,
    seeds: Iterable[int],
    plans: PlanMaker,
    *,
    workers: int = 1,
) -> list[Outcome]:
    """Judge ``base`` under each seed with the plan ``plans(seed)``; outcomes in seed order."""
    return judge_all([with_plan(base, seed, plans(seed)) for seed in seeds], workers=workers)


def judge_all(
    configs: Sequence[SimConfig],
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Judge every configuration, on ``workers`` processes; outcomes in the same order.
    ``progress`` is told how many are judged after each one."""
    if workers <= 1 or len(configs) < 2:
        stream: Iterable[Outcome] = (judge(config) for config in configs)
    else:
        chunk = max(1, len(configs) // (4 * workers))
        stream = judge_stream(configs, workers=workers, batch=len(configs), chunk=chunk)
    outcomes: list[Outcome] = []
    for outcome in stream:
        outcomes.append(outcome)
        if progress is not None:
            progress(len(outcomes))
    return outcomes


BATCH_PER_WORKER = 64
"""Runs handed out at a time per worker while streaming: enough to keep the workers
busy, few enough that a long sweep neither queues millions of tasks nor waits long for
its first outcomes."""


def judge_stream(
    configs: Iterable[SimConfig], *, workers: int = 1, batch: int = 0, chunk: int = 4
) -> Iterator[Outcome]:
    """Judge configurations as they come, on ``workers`` processes, yielding outcomes in
    the same order; at most ``batch`` runs (default ``64·workers``) are queued at once."""
    if workers <= 1:
        yield from (judge(config) for config in configs)
        return
    batch = batch or BATCH_PER_WORKER * workers
    pending = iter(configs)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        while payloads := [json.dumps(c.to_json()) for c in islice(pending, batch)]:
            for result in pool.map(_judge_json, payloads, chunksize=chunk):
                yield Outcome.from_json(json.loads(result))


def with_plan(base: SimConfig, seed: int, faults: Sequence[str]) -> SimConfig:
    """``base`` with another seed and fault plan."""
    values = base.to_json()
    values["seed"] = seed
    values["faults"] = list(faults)
    return SimConfig.from_json(values)


def failure_free_length(base: SimConfig) -> float:
    """How long ``base`` runs without faults (virtual seconds): the default horizon of a
    sweep, so that faults may land anywhere in the workload."""
    return run_simulation(with_plan(base, base.seed, ())).trace.end_time


EXAMPLES_KEPT = 20
"""Failed runs a :class:`Tally` keeps (the first ones, by seed order)."""


@dataclass
class Tally:
    """What a sweep found, outcome by outcome: how many runs broke each check, the
    largest figures, and the first failed runs (to replay)."""

    runs: int = 0
    violations: int = 0
    broken: Counter[str] = field(default_factory=Counter)
    """Check name → runs that broke it (``raised``: a handler raised)."""
    plan_sizes: Counter[int] = field(default_factory=Counter)
    """Faults in the plan → runs."""
    failover_s_max: float = 0.0
    blocking_s_max: float = 0.0
    outage_s_max: float = 0.0
    outage_count_max: int = 0
    outage_periods_max: int = 0
    """The most periods of the target Δ any run needed to cover its unanswered requests
    (Pb4 holds while this stays within the target k)."""
    ops_ok: int = 0
    ops_invoked: int = 0
    failed: list[Outcome] = field(default_factory=list)
    keep: int = EXAMPLES_KEPT

    def add(self, outcome: Outcome) -> None:
        self.runs += 1
        self.plan_sizes[len(outcome.faults)] += 1
        if not outcome.ok:
            self.violations += 1
            self.broken.update(outcome.failed)
            if len(self.failed) < self.keep:
                self.failed.append(outcome)
        measured = outcome.measured
        self.failover_s_max = max(self.failover_s_max, measured.get("failover_s_max", 0.0))
        self.blocking_s_max = max(self.blocking_s_max, measured.get("blocking_s_max", 0.0))
        self.outage_s_max = max(self.outage_s_max, measured.get("outage_s_max", 0.0))
        self.outage_count_max = max(self.outage_count_max, int(measured.get("outage_count", 0)))
        periods = measured.get("outage_periods")
        if periods is not None:
            self.outage_periods_max = max(self.outage_periods_max, int(periods))
        self.ops_ok += outcome.ops.get("ok", 0)
        self.ops_invoked += outcome.ops.get("invoked", 0)


def run_sweep(
    base: SimConfig,
    seeds: Iterable[int],
    plans: PlanMaker,
    *,
    workers: int = 1,
    examples: int = EXAMPLES_KEPT,
    progress: Callable[[Tally], None] | None = None,
) -> Tally:
    """Judge ``base`` under each seed with the plan ``plans(seed)``, on ``workers``
    processes, calling ``progress`` after each outcome; the :class:`Tally` of them all."""
    tally = Tally(keep=examples)
    configs = (with_plan(base, seed, plans(seed)) for seed in seeds)
    for outcome in judge_stream(configs, workers=workers):
        tally.add(outcome)
        if progress is not None:
            progress(tally)
    return tally


def beyond(measured: float, target: float | None) -> bool:
    """Whether a measured figure exceeds its target (within float noise)."""
    return target is not None and math.isfinite(target) and measured > target + 1e-9


@dataclass
class SweepResult:
    """A finished sweep: its configuration, what it found, and how long it took."""

    base: SimConfig
    title: str
    failure_model: str
    declared: bool
    """False for a bare Replica class: it states no failure model, so plans are crashes."""
    replicas: int
    f: int
    """What the protocol tolerates with ``replicas`` servers (its targets are for this f)."""
    faults_max: int
    """The most faulty components a plan has."""
    first_seed: int
    last_seed: int
    horizon_s: float
    workers: int
    targets: PrimaryBackupClaims
    tally: Tally
    seconds: float
    trace_hashes: dict[int, str] = field(default_factory=dict)
    """Trace hash of each kept failed run (seed → hash): what its replay must print."""

    @property
    def beyond_targets(self) -> list[str]:
        """The figures whose largest value exceeds the protocol's target. Outages count
        as Pb4 counts them — the periods of Δ that cover a run's unanswered requests,
        against k — not by their longest one: one outage longer than Δ is fine when it
        fits in two of the k periods."""
        t, tally = self.targets, self.tally
        figures = [
            ("failover", tally.failover_s_max, t.failover_s),
            ("blocking", tally.blocking_s_max, t.blocking_s),
        ]
        found = [name for name, measured, target in figures if beyond(measured, target)]
        if t.outage_count is not None and tally.outage_periods_max > t.outage_count:
            found.append("outages")
        return found

    @property
    def ok(self) -> bool:
        return self.tally.runs > 0 and self.tally.violations == 0 and not self.beyond_targets

    def replay(self, outcome: Outcome) -> str:
        return outcome.replay_hint(self.base)
