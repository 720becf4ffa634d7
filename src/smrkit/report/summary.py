"""A judged run as JSON and as text tables.

The JSON object is a contract (scripts read it): ``protocol``, ``replicas``, ``f``,
``seed``, ``trace_hash``, ``events``, ``ops``, ``checks`` (each with ``ok``),
``measured``, ``bound`` (Table 1's lower bounds for the failure model, f and δ) and
``target`` (what the protocol itself promises).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table

from smrkit.check.evaluate import Evaluation
from smrkit.core.failure_models import FailureModel, lower_bounds
from smrkit.protocols.claims import Claims, PartialSyncClaims, PrimaryBackupClaims
from smrkit.sim.world import SimRun


def make_console() -> Console:
    """A console for tables: the terminal's width, or 110 columns when piped."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 110)


def target_json(claims: Claims) -> dict[str, Any]:
    """What the protocol claims, without the figures it promises nothing about."""
    return {name: value for name, value in asdict(claims).items() if value is not None}


def bound_json(run: SimRun) -> dict[str, Any]:
    return table1_json(run.protocol.failure_model, run.f, run.config.delta_s)


def table1_json(model: FailureModel, f: int, delta_s: float) -> dict[str, Any]:
    """Table 1's lower bounds for ``model``, ``f`` and δ."""
    bound = lower_bounds(model, f, delta_s)
    return {
        "failure_model": bound.model.value,
        "replicas_min": bound.replicas_min,
        "blocking_s": bound.blocking_s,
        "failover_s": bound.failover_s,
        "theorems": bound.theorems,
        "assumes_d_below_gamma": bound.assumes_d_below_gamma,
        "known_tight": bound.known_tight,
    }


def run_facts_json(run: SimRun, trace_hash: str) -> dict[str, Any]:
    """What every run's JSON opens with: the protocol, its n and f, the seed, the timing,
    the faults and whether they are admissible, the trace."""
    return {
        "protocol": run.protocol.name,
        "replicas": run.n,
        "f": run.f,
        "seed": run.config.seed,
        "failure_model": run.protocol.failure_model.value,
        "timing": run.config.timing,
        "faults": list(run.plan.specs),
        "admissible": not run.admissibility,
        "admissibility": run.admissibility,
        "trace_hash": trace_hash,
        "events": len(run.trace.events),
    }


def run_json(run: SimRun, evaluation: Evaluation, trace_hash: str) -> dict[str, Any]:
    config = run.config
    return {
        "protocol": run.protocol.name,
        "replicas": run.n,
        "f": run.f,
        "seed": config.seed,
        "failure_model": run.protocol.failure_model.value,
        "timing": config.timing,
        "delta_s": config.delta_s,
        "delta_min_s": run.delta_min_s,
        "tau_s": config.tau_s,
        "clients": config.clients,
        "clients_trusted": config.clients_trusted,
        "faults": list(run.plan.specs),
        "admissible": not run.admissibility,
        "admissibility": run.admissibility,
        "trace_hash": trace_hash,
        "events": len(run.trace.events),
        "virtual_s": run.trace.end_time,
        "wall_s": run.wall_s,
        "ops": evaluation.history.counts(),
        "ok": evaluation.ok,
        "checks": {name: check.to_json() for name, check in evaluation.checks.items()},
        "measured": evaluation.measured(),
        "bound": bound_json(run),
        "target": target_json(run.claims),
    }


def _timing(timing: str) -> str:
    return "" if timing == "synchronous" else f", {timing} timing"


def _untrusted(clients_trusted: bool) -> str:
    return "" if clients_trusted else " (untrusted: their requests relayed, their word ignored)"


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f} s"


class Judged(Protocol):
    """A verdict as the checks table shows it (a ``Verdict``, a ``PropertyCheck``)."""

    @property
    def ok(self) -> bool: ...

    @property
    def summary(self) -> str: ...


def print_checks(console: Console, title: str, checks: Mapping[str, Judged]) -> None:
    """The checks table: each check's name, verdict and one line of detail."""
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("check")
    table.add_column("verdict")
    table.add_column("detail", overflow="fold")
    for name, check in checks.items():
        mark = "[green]ok[/green]" if check.ok else "[red]VIOLATED[/red]"
        table.add_row(name, mark, check.summary)
    console.print(table)


def print_admissibility(console: Console, run: SimRun) -> None:
    """Why the run lies outside the protocol's timing or failure model, if it does."""
    for problem in run.admissibility:
        model = "timing" if problem == run.timing_problem else "failure"
        console.print(f"[yellow]outside the protocol's {model} model:[/yellow] {problem}")


def print_run(console: Console, run: SimRun, evaluation: Evaluation, trace_hash: str) -> None:
    config = run.config
    faults = ", ".join(run.plan.specs) or "none"
    console.print(
        f"[bold]{run.protocol.name}[/bold] — {run.protocol.title}\n"
        f"n = {run.n} servers (tolerates f = {run.f} {run.protocol.failure_model.value} "
        f"failures), {config.clients} clients{_untrusted(config.clients_trusted)}, "
        f"δ = {config.delta_s} s, τ = {config.tau_s} s, "
        f"seed {config.seed}{_timing(config.timing)}\nfaults: {faults}; trace {trace_hash[:16]}"
    )
    print_admissibility(console, run)
    counts = evaluation.history.counts()
    console.print(
        f"{len(run.trace.events)} events over {run.trace.end_time:.3f} virtual s "
        f"({run.wall_s:.2f} s wall); ops: {counts['invoked']} invoked, {counts['ok']} ok, "
        f"{counts['fail']} fail, {counts['info']} info"
    )
    print_checks(console, "Checks", evaluation.checks)
    targets = run.claims
    if isinstance(targets, PrimaryBackupClaims):
        _print_table_1(console, run, evaluation, targets)
    elif isinstance(targets, PartialSyncClaims):
        _print_elections(console, run, evaluation.measured())
    witness = evaluation.linearizability.witness
    if witness is not None:
        console.print("[bold]linearizability witness[/bold]")
        console.print(witness.render(), markup=False, highlight=False)
    verdict = (
        "[green]all checks hold[/green]"
        if evaluation.ok
        else ("[red]violated: " + ", ".join(evaluation.failed) + "[/red]")
    )
    console.print(verdict)


def _in_delta(seconds: float | None, delta_s: float) -> str:
    return "—" if seconds is None else f"{seconds:.4f} s ({seconds / delta_s:.1f} δ)"


def _print_elections(console: Console, run: SimRun, measured: Mapping[str, Any]) -> None:
    """The figures of a Raft run: elections, time to elect, commit latency."""
    delta = run.config.delta_s
    gst = run.config.gst_s or 0.0
    figures = Table(title="Measured (after GST)", title_justify="left", show_edge=False)
    figures.add_column("figure")
    figures.add_column("measured", justify="right")
    figures.add_row("elections (terms)", f"{measured['elections']} ({measured['terms']})")
    figures.add_row("entries committed", str(measured["committed"]))
    figures.add_row(
        f"leader in place after GST ({gst:g} s)", _in_delta(measured["elect_after_gst_s"], delta)
    )
    for crash in measured["leader_crashes"]:
        figures.add_row(
            f"elected after {crash['leader']}'s crash at {crash['crashed_at']:.3f} s",
            _in_delta(crash["elect_s"], delta),
        )
    latency = measured["commit_latency"]
    figures.add_row(
        f"commit latency, median / p99 of {latency['count']}",
        f"{_in_delta(latency['median_s'], delta)} / {_in_delta(latency['p99_s'], delta)}",
    )
    console.print(figures)


def _print_table_1(
    console: Console, run: SimRun, evaluation: Evaluation, targets: PrimaryBackupClaims
) -> None:
    """The figures of a primary-backup run against Table 1 of seed 001."""
    bound = lower_bounds(run.protocol.failure_model, run.f, run.config.delta_s)
    measured = evaluation.measured()
    figures = Table(
        title="Measured against bound (Table 1 of seed 001)", title_justify="left", show_edge=False
    )
    figures.add_column("figure")
    figures.add_column("measured", justify="right")
    figures.add_column(f"{run.protocol.name} target", justify="right")
    figures.add_column("lower bound", justify="right")
    figures.add_row("replicas", str(run.n), "—", f"≥ {bound.replicas_min}")
    figures.add_row(
        "failover", _s(measured["failover_s_max"]), _s(targets.failover_s), _s(bound.failover_s)
    )
    figures.add_row(
        "blocking", _s(measured["blocking_s_max"]), _s(targets.blocking_s), _s(bound.blocking_s)
    )
    k_target = "—" if targets.outage_count is None else str(targets.outage_count)
    figures.add_row(
        "outages (k, Δ)",
        f"({measured['outage_count']}, {measured['outage_s_max']:.4f} s)",
        f"({k_target}, {_s(targets.outage_s)})",
        "—",
    )
    console.print(figures)
