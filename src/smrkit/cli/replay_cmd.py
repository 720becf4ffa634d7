"""``smrkit replay``: re-run the simulation a trace file records and judge it again.

A trace's header holds the configuration, seed and fault plan of its run, and runs are a
pure function of those: re-running gives the same events, which the trace hash confirms.
The replayed run is judged by the same checks as ``smrkit sim``, so a counterexample
saved by ``smrkit bounds`` shows its violation again, and ``--html`` draws it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from smrkit.check.evaluate import evaluate_run
from smrkit.cli.errors import UserError, file_error
from smrkit.cli.options import output_path
from smrkit.explore.protocol_ref import ProtocolRefError, ensure_registered
from smrkit.protocols import ConsensusClaims
from smrkit.report.summary import make_console, print_run, run_json
from smrkit.sim.trace import Trace, TraceFormatError, read_trace
from smrkit.sim.world import ConfigError, SimConfig, SimRun, run_simulation

if TYPE_CHECKING:
    from smrkit.explore.models import Model
    from smrkit.explore.replay import PathVerdict

EXIT_DIVERGED = 3


@click.command("replay")
@click.argument("trace_path", metavar="TRACE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--html",
    "html_path",
    type=output_path(),
    help="Write a self-contained HTML report of the replayed run.",
)
def replay(trace_path: Path, as_json: bool, html_path: Path | None) -> None:
    """Replay the run recorded in TRACE (written by 'smrkit sim --trace' or 'smrkit
    bounds') and check it again.

    \b
    Exit status: 0 every check holds, 1 a check is violated, 2 bad usage,
    3 the replay differs from the trace (another smrkit version?).
    """
    if not trace_path.is_file():
        raise UserError(
            f"no such trace file: {trace_path}", "give the path of a .jsonl or .jsonl.gz trace"
        )
    try:
        recorded = read_trace(trace_path)
    except (OSError, TraceFormatError, ValueError) as error:
        raise UserError(str(error), "give a trace written by 'smrkit sim --trace'") from None
    if isinstance(recorded.header.get("explore"), dict):
        _replay_path(trace_path, recorded, as_json, html_path)
        return
    config_data = recorded.header.get("config")
    if not isinstance(config_data, dict):
        raise UserError(
            f"{trace_path} records no simulation configuration",
            "replay traces written by 'smrkit sim --trace' or 'smrkit bounds'",
        )
    try:
        config = SimConfig.from_json(config_data)
        if ":" in config.protocol:
            ensure_registered(config.protocol)  # the user's own module.path:Name
        run = run_simulation(config)
    except (ConfigError, ProtocolRefError, TypeError) as error:
        raise UserError(f"cannot replay {trace_path}: {error}") from None
    trace_hash = run.trace.trace_hash()
    identical = trace_hash == recorded.trace_hash()
    agreement = isinstance(run.claims, ConsensusClaims)
    judge = _agreement if agreement else _service
    ok, summary, show, write_html = judge(run, trace_hash)
    summary["replay"] = {"trace": str(trace_path), "identical": identical}
    if html_path is not None:
        try:
            write_html(html_path, summary)
        except OSError as error:
            raise UserError(file_error("write", html_path, error)) from None
    if as_json:
        click.echo(json.dumps(summary))
    else:
        console = make_console()
        show(console)
        if identical:
            console.print(f"replay identical to {trace_path} (trace hash {trace_hash[:16]}…)")
        else:
            console.print(f"replay DIFFERS from {trace_path}: another smrkit version wrote it?")
        if html_path is not None:
            console.print(f"report written to {html_path}")
    code = EXIT_DIVERGED if not identical else (0 if ok else 1)
    click.get_current_context().exit(code)


Judged = tuple[
    bool, dict[str, Any], Callable[[Console], None], Callable[[Path, dict[str, Any]], object]
]
"""A replayed run's verdict, its JSON, how to print it and how to write its HTML."""


def _service(run: SimRun, trace_hash: str) -> Judged:
    """A replicated service's run: the primary-backup checks and linearizability."""
    from smrkit.report.html import write_report

    evaluation = evaluate_run(run)
    summary = run_json(run, evaluation, trace_hash)
    return (
        evaluation.ok,
        summary,
        lambda console: print_run(console, run, evaluation, trace_hash),
        lambda path, page: write_report(path, page, run.trace, evaluation.analysis.gaps),
    )


def _agreement(run: SimRun, trace_hash: str) -> Judged:
    """An agreement protocol's run (seed 002): judged by its specification."""
    from smrkit.check.agreement_run import evaluate_agreement
    from smrkit.report.agreement import agreement_json, print_agreement_run
    from smrkit.report.round_page import write_round_report

    assert isinstance(run.claims, ConsensusClaims)
    evaluation = evaluate_agreement(run.trace, run.claims)
    summary = agreement_json(run, evaluation, trace_hash)
    return (
        evaluation.ok,
        summary,
        lambda console: print_agreement_run(console, run, evaluation, trace_hash),
        lambda path, page: write_round_report(path, page, run.trace),
    )


def _replay_path(trace_path: Path, recorded: Trace, as_json: bool, html_path: Path | None) -> None:
    """A model checker's path (``smrkit explore --trace``): re-run it on a kernel world,
    compare the events, and judge the model's properties along it."""
    from smrkit.explore.models import ModelError, model_from_parameters
    from smrkit.explore.replay import ReplayError, path_verdicts, replay

    header = dict(recorded.header["explore"])
    moves = header.pop("path", [])
    header.pop("format", None)
    try:
        model = model_from_parameters(header)
        replayed = replay(model, moves)
        verdicts = path_verdicts(model, moves)
    except (ModelError, ReplayError) as error:
        raise UserError(f"cannot replay {trace_path}: {error}") from None
    trace_hash = replayed.trace.trace_hash()
    identical = trace_hash == recorded.trace_hash()
    summary = {
        "model": model.name,
        "parameters": model.parameters,
        "moves": len(moves),
        "trace_hash": trace_hash,
        "properties": [
            {"name": v.name, "expectation": v.expectation, "at_move": v.step, "ok": v.ok}
            for v in verdicts
        ],
        "replay": {"trace": str(trace_path), "identical": identical},
    }
    if html_path is not None:
        try:
            _path_html(html_path, model, verdicts, moves, replayed.trace)
        except OSError as error:
            raise UserError(file_error("write", html_path, error)) from None
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"model {model.name}: a path of {len(moves)} moves")
        width = max([18, *(len(v.name) for v in verdicts)])
        for v in verdicts:
            where = "nowhere" if v.step is None else f"at move {v.step}"
            state = "ok" if v.ok else "VIOLATED"
            click.echo(f"  {v.expectation:<10} {v.name:<{width}} {state} ({where})")
        same = "identical to" if identical else "DIFFERS from"
        click.echo(f"replay {same} {trace_path} (trace hash {trace_hash[:16]}…)")
    failed = any(not v.ok and v.expectation != "sometimes" for v in verdicts)
    code = EXIT_DIVERGED if not identical else (1 if failed else 0)
    click.get_current_context().exit(code)


def _path_html(
    path: Path, model: Model, verdicts: list[PathVerdict], moves: list[Any], trace: Trace
) -> None:
    """A lock-step model's path (crash or Byzantine) as a round diagram; any other
    model's as a space-time one."""
    from smrkit.report.explore import ROUND_MODELS, round_path_page
    from smrkit.report.html import write_report

    if model.name in ROUND_MODELS:
        failed = [v for v in verdicts if not v.ok]
        shown = failed[0] if failed else verdicts[0]
        page = round_path_page(model, shown.name, shown.expectation, moves, trace)
        path.write_text(page, encoding="utf-8")
        return
    checks = {
        v.name: {
            "ok": v.ok,
            "summary": f"{v.expectation}: "
            + ("holds in every state of the path" if v.step is None else f"at move {v.step}"),
        }
        for v in verdicts
    }
    summary = {"protocol": model.name, "checks": checks, "trace_hash": trace.trace_hash()}
    write_report(
        path,
        summary,
        trace,
        [],
        title=f"smrkit replay: {model.name}",
        bounds=False,
        latency=False,
    )
