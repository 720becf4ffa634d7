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
from smrkit.explore.majority_bounds import majority_lines, majority_rows
from smrkit.explore.protocol_ref import ProtocolRefError, ensure_registered
from smrkit.protocols.claims import PartialSyncClaims
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


MAJORITY_PROTOCOL = "raft"
"""The protocol of the majority rows when ``--protocol`` names none."""


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
@click.option(
    "--majority/--no-majority",
    default=True,
    show_default=True,
    help="Also measure majority replication (raft) with n = 2f + 1 and n = 2f.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"rows": [...], "majority": [...]} instead of tables.',
)
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
    majority: bool,
    as_json: bool,
    quiet: bool,
    html_path: Path | None,
) -> None:
    """Reproduce Table 1 of seed 001: for each failure model and f, the lower bounds, our
    protocol's measured worst blocking and failover times, and a counterexample run with
    one server fewer than the bound (saved as a trace; see 'smrkit replay'). Beside
    them, majority replication (seed 003: n > 2f) measured with n = 2f + 1 and n = 2f
    servers under f crashes and under a partition: which side commits. A --protocol
    of the partially synchronous family (raft) is measured on those rows only.

    \b
    Exit status: 0 every protocol within its targets, every counterexample found and
    every majority row as the bound predicts, 1 otherwise, 2 bad usage.
    """
    fs = _fs(f_text)
    majority_protocol = MAJORITY_PROTOCOL if majority else None
    if protocol is not None:
        _check_protocol(protocol)
        if _partially_synchronous(protocol):
            majority_protocol, protocol = protocol, None
            table = False
        else:
            majority_protocol = None
            table = True
    else:
        table = True
    try:
        trace_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(file_error("create", trace_dir, error), "pick another --traces") from None
    with ProgressBar("bounds", None, show=wanted(quiet)) as bar:
        try:
            rows = (
                reproduce_table(
                    fs,
                    seeds=seeds,
                    workers=workers or os.cpu_count() or 1,
                    trace_dir=trace_dir,
                    delta_s=delta,
                    tau_s=tau,
                    progress=lambda what, done, total: bar.update(done, total, description=what),
                    protocol=protocol,
                )
                if table
                else []
            )
            measured = (
                []
                if majority_protocol is None
                else majority_rows(majority_protocol, fs, delta_s=delta)
            )
        except (ValueError, ConfigError) as error:
            raise UserError(f"cannot measure {protocol or majority_protocol}: {error}") from None
    data = [row.to_json() for row in rows]
    majority_data = [row.to_json() for row in measured]
    if html_path is not None:
        try:
            html_path.write_text(
                render_html(data, delta_s=delta, tau_s=tau, majority=majority_data),
                encoding="utf-8",
            )
        except OSError as error:
            raise UserError(file_error("write", html_path, error)) from None
    if as_json:
        click.echo(json.dumps({"rows": data, "majority": majority_data}))
    else:
        for line in table_lines(data, delta_s=delta, tau_s=tau) if data else []:
            click.echo(line)
        if majority_data:
            if data:
                click.echo("")
            for line in majority_lines(majority_data):
                click.echo(line)
        for row in rows:
            for outcome in row.runs_failed[:3]:
                assert row.replay_base is not None
                hint = outcome.replay_hint(row.replay_base)
                click.echo(f"failed: {', '.join(outcome.failed)} — {hint}")
        if html_path is not None:
            click.echo(f"report written to {html_path}")
    ok = all(row.ok for row in rows) and all(row.ok for row in measured)
    click.get_current_context().exit(0 if ok else 1)


def _partially_synchronous(ref: str) -> bool:
    """Whether the protocol claims seed 003's majority replication (n > 2f)."""
    claims = ensure_registered(ref).spec.claims(1, 0.01, 0.05)
    return isinstance(claims, PartialSyncClaims)
