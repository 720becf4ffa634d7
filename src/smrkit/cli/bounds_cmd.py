"""``smrkit bounds``: Table 1 of seed 001, reproduced by running it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from smrkit.cli.errors import UserError, file_error
from smrkit.cli.options import output_path, seconds_option
from smrkit.cli.progress import ProgressBar, wanted
from smrkit.explore.bounds import reproduce_table
from smrkit.explore.protocol_ref import ProtocolRefError, ensure_registered
from smrkit.report.bounds import render_html, table_lines
from smrkit.sim.world import ConfigError


def _fs(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"bad --f {text!r}", "give numbers of failures, e.g. --f 1,2") from None
    if not values or any(v < 1 or v > 4 for v in values):
        raise UserError(f"bad --f {text!r}", "each f must lie in 1..4, e.g. --f 1,2")
    return values


def _check_protocol(ref: str) -> None:
    """``--protocol``: resolvable, and stating the failure model a row of Table 1 needs."""
    try:
        resolved = ensure_registered(ref)
    except ProtocolRefError as error:
        raise UserError(str(error)) from None
    if not resolved.declared:
        raise UserError(
            f"{ref} is a Replica class: it states no failure model and no f, so Table 1 has "
            "no row to measure it on",
            "name a ProtocolSpec of yours (module.path:SPEC) that states them; "
            "'smrkit sim --protocol' runs a bare class",
        )


@click.command("bounds")
@click.option(
    "--protocol",
    metavar="NAME|module.path:Name",
    help="Measure this protocol instead, on the rows of its failure model: a registered "
    "name, or your own ProtocolSpec as module.path:NAME [default: smrkit's protocol for "
    "each row].",
)
@click.option(
    "--f", "f_text", default="1", show_default=True, help="Numbers of failures, e.g. 1,2."
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Random admissible fault plans per row (aimed plans come on top).",
)
@seconds_option("--delta", default=0.01, help_text="δ: the bound on message delay, seconds.")
@seconds_option("--tau", default=0.05, help_text="τ: the heartbeat period, seconds.")
@click.option(
    "--traces",
    "trace_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bounds-traces"),
    show_default=True,
    help="Where the counterexample traces go.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Processes [default: every core].")
@click.option(
    "--quiet", is_flag=True, help="No progress bar (there is none when stderr is no terminal)."
)
@click.option("--json", "as_json", is_flag=True, help='Print {"rows": [...]} instead of a table.')
@click.option(
    "--html",
    "html_path",
    type=output_path(),
    help="Write the table as a self-contained HTML page.",
)
def bounds(
    protocol: str | None,
    f_text: str,
    seeds: int,
    delta: float,
    tau: float,
    trace_dir: Path,
    workers: int | None,
    as_json: bool,
    quiet: bool,
    html_path: Path | None,
) -> None:
    """Reproduce Table 1 of seed 001: for each failure model and f, the lower bounds, our
    protocol's measured worst blocking and failover times, and a counterexample run with
    one server fewer than the bound (saved as a trace; see 'smrkit replay').

    \b
    Exit status: 0 every protocol within its targets and every counterexample found,
    1 otherwise, 2 bad usage.
    """
    fs = _fs(f_text)
    if protocol is not None:
        _check_protocol(protocol)
    try:
        trace_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(file_error("create", trace_dir, error), "pick another --traces") from None
    with ProgressBar("bounds", None, show=wanted(quiet)) as bar:
        try:
            rows = reproduce_table(
                fs,
                seeds=seeds,
                workers=workers or os.cpu_count() or 1,
                trace_dir=trace_dir,
                delta_s=delta,
                tau_s=tau,
                progress=lambda what, done, total: bar.update(done, total, description=what),
                protocol=protocol,
            )
        except (ValueError, ConfigError) as error:
            raise UserError(f"cannot measure {protocol}: {error}") from None
    data = [row.to_json() for row in rows]
    if html_path is not None:
        try:
            html_path.write_text(render_html(data, delta_s=delta, tau_s=tau), encoding="utf-8")
        except OSError as error:
            raise UserError(file_error("write", html_path, error)) from None
    if as_json:
        click.echo(json.dumps({"rows": data}))
    else:
        for line in table_lines(data, delta_s=delta, tau_s=tau):
            click.echo(line)
        for row in rows:
            for outcome in row.runs_failed[:3]:
                assert row.replay_base is not None
                hint = outcome.replay_hint(row.replay_base)
                click.echo(f"failed: {', '.join(outcome.failed)} — {hint}")
        if html_path is not None:
            click.echo(f"report written to {html_path}")
    click.get_current_context().exit(0 if all(row.ok for row in rows) else 1)
