"""Table 1 of seed 001, reproduced by running it.

For each failure model and number of failures f, :func:`table_row`:

1. takes smrkit's protocol for the model with the fewest servers that tolerate f;
2. measures its blocking time over failure-free runs, and its failover time over a
   sweep of admissible fault plans — random ones and plans *aimed* at the moments that
   matter, read off a failure-free reference run (:func:`aimed_plans`): just before and
   just after each heartbeat, in the middle of the broadcast of an update, between the
   update and the reply, cascades in which the next candidate fails every δ/2 while
   it takes over, and cascades in which each new primary crashes in its takeover step;
3. runs the same protocol with one server fewer than the lower bound, under plans of the
   model with f failures, until a run breaks Pb1, log agreement, linearizability or Pb4
   (:func:`below_bound`), and keeps that run's trace as the counterexample.

Every run is a pure function of its configuration, so the table is reproducible, and each
counterexample replays with ``smrkit replay``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeAlias

from smrkit.core.failure_models import FailureModel, LowerBounds, lower_bounds
from smrkit.core.ids import server_ids
from smrkit.core.messages import ClientRequest
from smrkit.explore.sweep import Outcome, judge_all, with_plan
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.protocols.registry import ProtocolSpec, get_protocol
from smrkit.sim import trace as tr
from smrkit.sim.faults import random_plan
from smrkit.sim.world import SimConfig, run_simulation

PROTOCOL_FOR: dict[FailureModel, str] = {
    FailureModel.CRASH: "pb-crash",
    FailureModel.CRASH_LINK: "pb-link",
    FailureModel.RECEIVE_OMISSION: "pb-receive-omission",
    FailureModel.SEND_OMISSION: "pb-send-omission",
    FailureModel.GENERAL_OMISSION: "pb-general-omission",
}
"""smrkit's protocol for each row of Table 1 (in the table's order)."""

Progress: TypeAlias = Callable[[str, int, int], None]
"""Told ``(what, done, total)`` as a row's runs are judged: a progress bar's feed."""

VIOLATIONS = ("pb1", "log_agreement", "linearizable", "pb4")
"""What a counterexample must break, most telling first."""

FAULT_AT_S = 0.5
"""Aimed faults hit in the round that starts here: well after start-up, mid-workload."""

RANDOM_HORIZON_S = 1.0
FAILURE_FREE_RUNS = 4
BELOW_BOUND_TRIES_MAX = 200

_KILLS: dict[FailureModel, tuple[str, ...]] = {
    FailureModel.CRASH: ("crash",),
    FailureModel.CRASH_LINK: ("crash",),
    FailureModel.SEND_OMISSION: ("crash", "send-omission"),
    FailureModel.RECEIVE_OMISSION: ("crash", "receive-omission"),
    FailureModel.GENERAL_OMISSION: ("crash", "general-omission", "receive-omission"),
}
"""Ways to take a server out under each model (omissions total, from an instant on)."""


@dataclass
class BelowBound:
    replicas: int
    violation: str | None
    trace: str | None
    faults: tuple[str, ...] = ()
    seed: int | None = None
    tries: int = 0
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "replicas": self.replicas,
            "violation": self.violation,
            "trace": self.trace,
            "faults": list(self.faults),
            "seed": self.seed,
            "tries": self.tries,
            "note": self.note,
        }


@dataclass
class Row:
    model: FailureModel
    f: int
    protocol: str
    replicas: int
    bounds: LowerBounds
    blocking_s_target: float | None
    failover_s_target: float | None
    blocking_s_max: float
    failover_s_max: float
    seeds: int
    aimed: int
    runs_failed: list[Outcome] = field(default_factory=list)
    below_bound: BelowBound | None = None
    replay_base: SimConfig | None = None

    @property
    def within_targets(self) -> bool:
        eps = 1e-9
        return (
            not self.runs_failed
            and (
                self.blocking_s_target is None
                or self.blocking_s_max <= self.blocking_s_target + eps
            )
            and (
                self.failover_s_target is None
                or self.failover_s_max <= self.failover_s_target + eps
            )
        )

    @property
    def ok(self) -> bool:
        found = self.below_bound is None or self.below_bound.violation is not None
        return self.within_targets and found

    def to_json(self) -> dict[str, Any]:
        failed = [
            {
                "seed": o.seed,
                "faults": list(o.faults),
                "failed": list(o.failed),
                "error": o.error,
                "replay": None if self.replay_base is None else o.replay_hint(self.replay_base),
            }
            for o in self.runs_failed[:20]
        ]
        return {
            "model": self.model.value,
            "f": self.f,
            "protocol": self.protocol,
            "replicas": self.replicas,
            "replicas_min": self.bounds.replicas_min,
            "blocking_s_lower": self.bounds.blocking_s,
            "failover_s_lower": self.bounds.failover_s,
            "blocking_s_target": self.blocking_s_target,
            "failover_s_target": self.failover_s_target,
            "blocking_s_max": self.blocking_s_max,
            "failover_s_max": self.failover_s_max,
            "seeds": self.seeds,
            "aimed_plans": self.aimed,
            "runs_failed": len(self.runs_failed),
            "failed_examples": failed,
            "assumes_d_below_gamma": self.bounds.assumes_d_below_gamma,
            "known_tight": self.bounds.known_tight,
            "theorems": self.bounds.theorems,
            "within_targets": self.within_targets,
            "below_bound": None if self.below_bound is None else self.below_bound.to_json(),
        }


def replicas_for(spec: ProtocolSpec, f: int) -> int:
    """The fewest servers with which ``spec`` tolerates ``f`` failures."""
    n = 1
    while spec.tolerated(n) < f or spec.replicas_problem(n) is not None:
        n += 1
        if n > 64:
            raise ValueError(f"{spec.name} does not tolerate f = {f} with up to 64 servers")
    return n


def _message_name(msg: object) -> str:
    payload = getattr(msg, "payload", None)
    return type(payload if payload is not None else msg).__name__


def aimed_plans(config: SimConfig, model: FailureModel, f: int) -> list[tuple[str, ...]]:
    """Fault plans aimed at the primary's critical moments, read off the failure-free run
    of ``config``: see the module docstring. All are admissible for ``model`` and ``f``."""
    reference = run_simulation(replace(config, faults=()))
    tau, delta = config.tau_s, config.delta_s
    window = (FAULT_AT_S, FAULT_AT_S + tau)
    beats: list[float] = []
    requests: list[tuple[float, int]] = []
    sends_at: dict[float, int] = {}
    for t, kind, node, _, _, data in reference.trace.events:
        if node != "p1" or not window[0] <= t < window[1]:
            continue
        if kind == tr.SEND:
            sends_at[t] = sends_at.get(t, 0) + 1
            if _message_name(data) == "Heartbeat" and (not beats or beats[-1] != t):
                beats.append(t)
        elif (
            kind == tr.DELIVER
            and isinstance(data, ClientRequest)
            and data.op.f != "get"
            and len(requests) < 2
        ):
            requests.append((t, 0))
    requests = [(t, sends_at.get(t, 0)) for t, _ in requests]
    servers = server_ids(config.replicas or 1)
    kills = _KILLS[model]
    plans: list[tuple[str, ...]] = []

    def kill(kind: str, node: str, at: float, after: int | None = None) -> str:
        at = round(at, 9)
        if kind == "crash":
            return f"crash:{node}@{at}" + ("" if after is None else f"/{after}")
        return f"{kind}:{node}@{at}"

    for beat in beats:
        for kind in kills:
            plans.append((kill(kind, "p1", beat + 1e-6),))
        plans.append((kill("crash", "p1", beat),))
        plans.append((kill("crash", "p1", beat, after=1),))
    for at, sent in requests:
        plans.extend((kill("crash", "p1", at, after=k),) for k in range(sent + 1))
    first = (beats[0] if beats else FAULT_AT_S) + 1e-6
    if model is FailureModel.CRASH_LINK and len(servers) >= 3:
        plans.append((f"link:p1-p2@{round(first, 9)}",))
        if f >= 2:
            plans.append((f"link:p1-p2@{round(first, 9)}", kill("crash", "p1", first + tau)))
    plans.extend(takeover_crashes(config, (kill("crash", "p1", first),), f - 1))
    chain = servers[: min(f, len(servers) - 1)]
    if len(chain) >= 2:
        steps = math.ceil((tau + 2 * f * delta) / (delta / 2))
        for j in range(1, steps + 1):
            gap = j * delta / 2
            for kind in kills:
                plans.append(
                    tuple(kill(kind, node, first + i * gap) for i, node in enumerate(chain))
                )
    return plans


def takeover_crashes(config: SimConfig, plan: tuple[str, ...], depth: int) -> list[tuple[str, ...]]:
    """Plans that extend ``plan`` with up to ``depth`` new primaries, each crashing in its
    takeover step after every message of that step to a server left: primary for no time
    at all, yet announced to every server. Each takeover is read off the run of the plan
    so far."""
    plans: list[tuple[str, ...]] = []
    crashed = {spec.split(":", 1)[1].split("@", 1)[0] for spec in plan}
    for _ in range(depth):
        events = run_simulation(replace(config, faults=plan)).trace.events
        takeover = next(
            (
                (t, node)
                for t, kind, node, _, _, data in events
                if kind == tr.PRIMARY and data and node not in crashed and t > 0
            ),
            None,
        )
        if takeover is None:
            break
        at, node = takeover
        servers = set(server_ids(config.replicas or 1))
        sent = sum(
            1
            for t, kind, src, dst, _, _ in events
            if kind == tr.SEND and src == node and t == at and dst in servers
        )
        plan = (*plan, f"crash:{node}@{at!r}/{sent}")
        crashed.add(node)
        plans.append(plan)
    return plans


def _random_plans(
    model: FailureModel, f: int, servers: Sequence[str], count: int, start: int = 0
) -> list[tuple[str, ...]]:
    return [
        random_plan(model, f, servers, RANDOM_HORIZON_S, random.Random(f"plan/{seed}")).specs
        for seed in range(start, start + count)
    ]


def split_plans(model: FailureModel, f: int, n: int) -> list[tuple[str, ...]]:
    """Plans that cut the servers into a low half and a high half with at most f faulty
    components: the shape of every replication lower bound's proof."""
    servers = server_ids(n)
    low, high = servers[: (n + 1) // 2], servers[(n + 1) // 2 :]
    if not high:
        return []
    plans: list[tuple[str, ...]] = []
    at = FAULT_AT_S
    if model is FailureModel.CRASH_LINK and len(low) * len(high) <= f:
        plans.append(tuple(f"link:{a}-{b}@{at}" for a in low for b in high))
    if model is FailureModel.CRASH_LINK and n - 1 <= f:
        plans.append(tuple(f"link:p1-{b}@{at}" for b in servers[1:]))
    for side in (low, high):
        if len(side) > f:
            continue
        other = high if side is low else low
        if model in (FailureModel.GENERAL_OMISSION,):
            plans.append(
                tuple(f"send-omission:{a}->{b}@{at}" for a in side for b in other)
                + tuple(f"receive-omission:{a}<-{b}@{at}" for a in side for b in other)
            )
        if model in (FailureModel.SEND_OMISSION, FailureModel.GENERAL_OMISSION):
            plans.append(tuple(f"send-omission:{a}->{b}@{at}" for a in side for b in other))
        if model in (FailureModel.RECEIVE_OMISSION, FailureModel.GENERAL_OMISSION):
            plans.append(tuple(f"receive-omission:{a}<-{b}@{at}" for a in side for b in other))
    plans.append(tuple(f"crash:{s}@{at}" for s in servers[:f]))
    return plans


def below_bound(
    base: SimConfig,
    model: FailureModel,
    f: int,
    bounds: LowerBounds,
    *,
    workers: int,
    trace_dir: Path | None,
    progress: Progress | None = None,
) -> BelowBound | None:
    """Search for a run of the protocol with one server fewer than the bound that breaks
    one of :data:`VIOLATIONS`; ``None`` if the bound leaves no smaller system to try."""
    n = bounds.replicas_min - 1
    if n < 1:
        return None
    spec = get_protocol(base.protocol)
    problem = spec.replicas_problem(n)
    result = BelowBound(replicas=n, violation=None, trace=None)
    if problem is not None:
        result.note = f"{spec.name} cannot run with {n} servers: {problem}"
        return result
    small = replace(base, replicas=n)
    candidates = split_plans(model, f, n)
    candidates.extend(_random_plans(model, f, server_ids(n), BELOW_BOUND_TRIES_MAX))
    batch = max(2, 4 * workers)
    label = f"{model.value}, f={f}: one server fewer, n={n}"
    for start in range(0, len(candidates), batch):
        chunk = candidates[start : start + batch]
        configs = [with_plan(small, start + i, plan) for i, plan in enumerate(chunk)]
        if progress is not None:
            progress(label, start, len(candidates))
        outcomes = judge_all(configs, workers=workers)
        for i, outcome in enumerate(outcomes):
            broken = next((v for v in VIOLATIONS if v in outcome.failed), None)
            if broken is None:
                continue
            result.violation = broken
            result.faults = outcome.faults
            result.seed = outcome.seed
            result.tries = start + i + 1
            if trace_dir is not None:
                result.trace = str(_save_trace(configs[i], model, f, n, trace_dir))
            return result
    result.tries = len(candidates)
    result.note = f"no violation in {len(candidates)} plans"
    return result


def _save_trace(config: SimConfig, model: FailureModel, f: int, n: int, trace_dir: Path) -> Path:
    trace_dir.mkdir(parents=True, exist_ok=True)
    path = trace_dir / f"{model.value.replace('+', '-')}-f{f}-n{n}.jsonl.gz"
    run_simulation(config).trace.write(path)
    return path


def table_row(
    model: FailureModel,
    f: int,
    *,
    seeds: int,
    delta_s: float = 0.01,
    tau_s: float = 0.05,
    clients: int = 3,
    ops: int = 300,
    workers: int = 1,
    trace_dir: Path | None = None,
    progress: Progress | None = None,
    protocol: str | None = None,
) -> Row:
    """Measure one row of Table 1 (see the module docstring) with smrkit's protocol for
    the row, or ``protocol`` (a registered name, the user's ``module:Name`` included);
    ``progress`` follows its runs."""
    name = PROTOCOL_FOR[model] if protocol is None else protocol
    spec = get_protocol(name)
    n = replicas_for(spec, f)
    bounds = lower_bounds(model, f, delta_s)
    targets = spec.claims(f, delta_s, tau_s)
    if not isinstance(targets, PrimaryBackupClaims):
        raise ValueError(f"{spec.name} is not primary-backup: Table 1 rows are")
    base = SimConfig(
        protocol=name, replicas=n, clients=clients, ops=ops, delta_s=delta_s, tau_s=tau_s
    )
    label = f"{model.value}, f={f}: n={n}"
    aimed = aimed_plans(base, model, f)
    plans = _random_plans(model, f, server_ids(n), seeds) + aimed
    total = FAILURE_FREE_RUNS + len(plans)

    def told(offset: int) -> Callable[[int], None] | None:
        if progress is None:
            return None
        return lambda done: progress(label, offset + done, total)

    quiet = judge_all(
        [with_plan(base, seed, ()) for seed in range(FAILURE_FREE_RUNS)],
        workers=workers,
        progress=told(0),
    )
    outcomes = judge_all(
        [with_plan(base, seed, plan) for seed, plan in enumerate(plans)],
        workers=workers,
        progress=told(FAILURE_FREE_RUNS),
    )
    row = Row(
        model=model,
        f=f,
        protocol=name,
        replicas=n,
        bounds=bounds,
        blocking_s_target=targets.blocking_s,
        failover_s_target=targets.failover_s,
        blocking_s_max=max(o.measured["blocking_s_max"] for o in quiet),
        failover_s_max=max(o.measured["failover_s_max"] for o in outcomes),
        seeds=seeds,
        aimed=len(aimed),
        runs_failed=[o for o in [*quiet, *outcomes] if not o.ok],
        replay_base=base,
    )
    row.below_bound = below_bound(
        base, model, f, bounds, workers=workers, trace_dir=trace_dir, progress=progress
    )
    return row


def reproduce_table(
    fs: Sequence[int],
    *,
    seeds: int,
    workers: int,
    trace_dir: Path | None,
    delta_s: float = 0.01,
    tau_s: float = 0.05,
    progress: Progress | None = None,
    protocol: str | None = None,
) -> list[Row]:
    """Every row of Table 1 for each f in ``fs`` — or, for ``protocol``, the rows of its
    failure model, measured on it; ``progress`` hears which row (``2/5 crash+link, f=1:
    n=3``) and how far its runs are."""
    models = list(PROTOCOL_FOR) if protocol is None else [get_protocol(protocol).failure_model]
    cells = [(f, model) for f in fs for model in models]
    rows: list[Row] = []
    for number, (f, model) in enumerate(cells, start=1):

        def told(what: str, done: int, total: int, number: int = number) -> None:
            if progress is not None:
                progress(f"{number}/{len(cells)} {what}", done, total)

        rows.append(
            table_row(
                model,
                f,
                seeds=seeds,
                workers=workers,
                trace_dir=trace_dir,
                delta_s=delta_s,
                tau_s=tau_s,
                progress=told,
                protocol=protocol,
            )
        )
    return rows
