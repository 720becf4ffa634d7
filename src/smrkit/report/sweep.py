"""A finished seed sweep as JSON and as text.

The JSON object is a contract (scripts and ``bench/sweep.py`` read it): ``runs``,
``violations``, ``ok``, ``checks_broken`` (check → runs that broke it),
``failed_examples`` (the first failed runs, each with ``seed``, ``faults``, ``failed``,
``error``, ``replay`` — a ``smrkit sim`` command line — and ``trace_hash``, which that
command prints), ``failover_s_max``, ``blocking_s_max``, ``outage_s_max``,
``outage_count_max``, ``outage_periods_max`` (what Pb4 judges: periods of the target Δ
needed to cover a run's unanswered requests), ``target``, ``bound`` (Table 1's, or
``null`` for a protocol that states no failure model), ``beyond_targets`` and the
sweep's configuration.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from smrkit.check.evaluate import CHECK_ORDER
from smrkit.core.failure_models import FailureModel
from smrkit.explore.sweep import SweepResult, beyond
from smrkit.report.summary import table1_json, target_json


def _bound(result: SweepResult) -> dict[str, Any] | None:
    if not result.declared:
        return None
    return table1_json(FailureModel(result.failure_model), result.f, result.base.delta_s)


def sweep_json(result: SweepResult) -> dict[str, Any]:
    tally, base = result.tally, result.base
    examples = [
        {
            "seed": o.seed,
            "faults": list(o.faults),
            "failed": list(o.failed),
            "error": o.error,
            "replay": result.replay(o),
            "trace_hash": result.trace_hashes.get(o.seed),
        }
        for o in tally.failed
    ]
    return {
        "protocol": base.protocol,
        "title": result.title,
        "failure_model": result.failure_model,
        "declared": result.declared,
        "replicas": result.replicas,
        "f": result.f,
        "faults_max": result.faults_max,
        "seeds": {"first": result.first_seed, "last": result.last_seed},
        "horizon_s": result.horizon_s,
        "clients": base.clients,
        "clients_trusted": base.clients_trusted,
        "ops_per_run": base.ops,
        "delta_s": base.delta_s,
        "tau_s": base.tau_s,
        "time_limit_s": base.time_limit_s,
        "workers": result.workers,
        "runs": tally.runs,
        "violations": tally.violations,
        "ok": result.ok,
        "checks_broken": {name: tally.broken[name] for name in _check_names(result)},
        "plan_sizes": {str(size): count for size, count in sorted(tally.plan_sizes.items())},
        "ops": {"invoked": tally.ops_invoked, "ok": tally.ops_ok},
        "failover_s_max": tally.failover_s_max,
        "blocking_s_max": tally.blocking_s_max,
        "outage_s_max": tally.outage_s_max,
        "outage_count_max": tally.outage_count_max,
        "outage_periods_max": tally.outage_periods_max,
        "target": target_json(result.targets),
        "bound": _bound(result),
        "beyond_targets": result.beyond_targets,
        "failed_examples": examples,
        "seconds": result.seconds,
        "runs_per_s": tally.runs / result.seconds if result.seconds > 0 else None,
    }


def _check_names(result: SweepResult) -> list[str]:
    extra = sorted(set(result.tally.broken) - set(CHECK_ORDER))
    return [*CHECK_ORDER, *extra]


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f} s"


def _verdict(bad: bool) -> str:
    return "[red]VIOLATED[/red]" if bad else "[green]ok[/green]"


def print_sweep(console: Console, result: SweepResult, *, examples: int) -> None:
    """The sweep as text: what ran, which checks broke, the figures against the targets,
    the first failures with the command that replays each, and the verdict."""
    tally, base, targets = result.tally, result.base, result.targets
    model = (
        f"{result.failure_model} failures"
        if result.declared
        else "crashes (the protocol states no failure model)"
    )
    console.print(
        f"[bold]{base.protocol}[/bold] — {result.title}\n"
        f"n = {result.replicas} servers (tolerates f = {result.f}), plans of up to "
        f"{result.faults_max} {model}, {base.clients} clients × {base.ops} ops"
        f"{'' if base.clients_trusted else ' (clients untrusted)'}, "
        f"δ = {base.delta_s} s, τ = {base.tau_s} s\n"
        f"seeds {result.first_seed}..{result.last_seed}, faults in "
        f"[0, {result.horizon_s:.3f} s), {result.workers} worker(s)"
    )
    checks = Table(title="Checks", title_justify="left", show_edge=False)
    checks.add_column("check")
    checks.add_column("runs broken", justify="right")
    checks.add_column("verdict")
    for name in _check_names(result):
        broken = tally.broken[name]
        checks.add_row(name, f"{broken:,}", _verdict(broken > 0))
    console.print(checks)
    bound = _bound(result)
    figures = Table(
        title="Largest figures over all runs, against the target",
        title_justify="left",
        show_edge=False,
    )
    figures.add_column("figure")
    figures.add_column("measured", justify="right")
    figures.add_column("target", justify="right")
    figures.add_column("lower bound", justify="right")
    figures.add_column("verdict")
    for name, measured, target in (
        ("failover", tally.failover_s_max, targets.failover_s),
        ("blocking", tally.blocking_s_max, targets.blocking_s),
    ):
        lower = None if bound is None else bound[f"{name}_s"]
        bad = beyond(measured, target) or tally.broken[name] > 0
        figures.add_row(name, _s(measured), _s(target), _s(lower), _verdict(bad))
    if targets.outage_s is not None and targets.outage_count is not None:
        figures.add_row(
            f"outages: periods of Δ = {targets.outage_s:.4f} s",
            str(tally.outage_periods_max),
            str(targets.outage_count),
            "—",
            _verdict(tally.outage_periods_max > targets.outage_count),
        )
    console.print(figures)
    sizes = ", ".join(
        f"{size} fault{'s' if size != 1 else ''}: {count:,}"
        for size, count in sorted(tally.plan_sizes.items())
    )
    console.print(
        f"plans: {sizes or 'none'}; ops: {tally.ops_invoked:,} invoked, {tally.ops_ok:,} ok"
    )
    shown = tally.failed[:examples]
    if shown:
        console.print("[bold]First failures[/bold] (each command replays its run):")
        for outcome in shown:
            what = ", ".join(outcome.failed)
            if outcome.error:
                what += f" ({outcome.error})"
            trace = result.trace_hashes.get(outcome.seed)
            console.print(
                f"  seed {outcome.seed}: {what}", markup=False, highlight=False, soft_wrap=True
            )
            console.print(
                f"    {result.replay(outcome)}", markup=False, highlight=False, soft_wrap=True
            )
            if trace is not None:
                console.print(f"    (prints trace {trace[:16]})", markup=False, highlight=False)
        more = tally.violations - len(shown)
        if more > 0:
            console.print(f"  … and {more:,} more (--json lists up to {tally.keep})")
    rate = tally.runs / result.seconds if result.seconds > 0 else 0.0
    summary = (
        f"{tally.runs:,} runs in {result.seconds:.1f} s ({rate:.0f} runs/s): "
        f"{tally.violations:,} violation{'s' if tally.violations != 1 else ''}"
    )
    if result.beyond_targets:
        summary += "; beyond target: " + ", ".join(result.beyond_targets)
    console.print(
        ("[green]" if result.ok else "[red]") + summary + ("[/green]" if result.ok else "[/red]")
    )
