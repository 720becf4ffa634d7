"""What ``smrkit sim`` prints for a run of an agreement protocol (seed 002): the
specification's checks, the round claim, and each process's decision round."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from smrkit.check.agreement_run import AgreementEvaluation
from smrkit.report.summary import (
    print_admissibility,
    print_checks,
    run_facts_json,
    target_json,
)
from smrkit.sim.kernel.records import DECIDED
from smrkit.sim.world import SimRun


def agreement_json(run: SimRun, evaluation: AgreementEvaluation, trace_hash: str) -> dict[str, Any]:
    return {
        **run_facts_json(run, trace_hash),
        "rounds": _rounds(run),
        "wall_s": run.wall_s,
        "ok": evaluation.ok,
        "checks": {name: check.to_json() for name, check in evaluation.checks.items()},
        "decided_round_max": evaluation.decided_round_max,
        "decisions": _decisions(run),
        "correct": evaluation.correct,
        "measured": evaluation.measured(),
        "target": target_json(run.claims),
    }


def _rounds(run: SimRun) -> int:
    return max((r.num for r in run.trace.events if r.kind == "round"), default=0)


def _when(found: dict[str, Any], in_rounds: bool) -> str:
    return str(found["round"]) if in_rounds else f"{found['at']:g}"


def _clock(run: SimRun) -> str:
    return "steps" if run.config.timing == "async" else "virtual s"


def _inputs(run: SimRun) -> str:
    inputs = run.trace.header.get("inputs")
    return "" if inputs is None else f", inputs {' '.join(str(v) for v in inputs)}"


def _decisions(run: SimRun) -> dict[str, dict[str, Any]]:
    """Each process's first decision: its round and value."""
    found: dict[str, dict[str, Any]] = {}
    for record in run.trace.events:
        if record.kind == DECIDED and record.node not in found:
            found[record.node] = {"round": record.num, "at": record.t, "value": repr(record.data)}
    return found


def print_agreement_run(
    console: Console, run: SimRun, evaluation: AgreementEvaluation, trace_hash: str
) -> None:
    config = run.config
    faults = ", ".join(run.plan.specs) or "none"
    console.print(
        f"[bold]{run.protocol.name}[/bold] — {run.protocol.title}\n"
        f"n = {run.n} processes (tolerates f = {run.f} {run.protocol.failure_model.value} "
        f"failures), {config.timing} timing, seed {config.seed}{_inputs(run)}\n"
        f"faults: {faults}; trace {trace_hash[:16]}"
    )
    print_admissibility(console, run)
    in_rounds = config.timing == "lock-step"
    span = f"{_rounds(run)} rounds" if in_rounds else f"{run.trace.end_time:g} {_clock(run)}"
    console.print(f"{len(run.trace.events)} events over {span} ({run.wall_s:.3f} s wall)")
    decisions = _decisions(run)
    table = Table(title="Decisions", title_justify="left", show_edge=False)
    table.add_column("process")
    table.add_column("status")
    table.add_column("decided", justify="right")
    table.add_column("round" if in_rounds else f"at ({_clock(run)})", justify="right")
    for process in evaluation.processes:
        status = "correct" if process in evaluation.correct else "faulty"
        found = decisions.get(process)
        table.add_row(
            process,
            status,
            "—" if found is None else found["value"],
            "—" if found is None else _when(found, in_rounds),
        )
    console.print(table)
    print_checks(console, "Checks (seed 002)", evaluation.checks)
    verdict = (
        "[green]all checks hold[/green]"
        if evaluation.ok
        else ("[red]violated: " + ", ".join(evaluation.failed) + "[/red]")
    )
    console.print(verdict)
