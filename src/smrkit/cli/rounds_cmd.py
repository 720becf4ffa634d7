"""``smrkit rounds``: seed 002's f + 1 round lower bound, as a search over crash patterns."""

from __future__ import annotations

import json
from pathlib import Path

import click

from smrkit.cli.errors import UserError
from smrkit.cli.options import output_path
from smrkit.explore.rounds import (
    STATES_MAX_DEFAULT,
    RoundsProtocolError,
    RoundsResult,
    RoundsSearch,
    resolve_round_protocol,
)
from smrkit.protocols.agreement import ROUND_PROTOCOLS

EPILOG = """\b
Exit status: 1 a crash pattern breaks the protocol (the violation and its chain are
printed), 0 every pattern was explored and none does, 3 --states-max stopped the search
first, 2 bad usage.
"""


@click.command("rounds", epilog=EPILOG)
@click.option(
    "--protocol",
    default="floodset",
    show_default=True,
    help=f"{', '.join(ROUND_PROTOCOLS)}, or your own as module.path:Class "
    "(a ConsensusProcess subclass built as Class(node_id, RoundConfig)).",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    help="R: the processes decide after round R [default: f, one too few].",
)
@click.option("--replicas", type=click.IntRange(min=2), default=4, show_default=True)
@click.option("--f", "f", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--states-max",
    type=click.IntRange(min=1),
    default=STATES_MAX_DEFAULT,
    show_default=True,
    help="Stop the exhaustive search after this many states (exit 3).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--html",
    "html_path",
    type=output_path(),
    help="Write the run's round diagram (the violation's, or the first chain's).",
)
def rounds(
    protocol: str,
    rounds: int | None,
    replicas: int,
    f: int,
    states_max: int,
    as_json: bool,
    html_path: Path | None,
) -> None:
    """Search the crash patterns of a lock-step consensus protocol made to decide after R
    rounds for a run that breaks consensus: dangerous chains first (seed 002), then every
    pattern. With R <= f it finds one and prints the chain; with floodset and R = f + 1 it
    explores the whole space and says so.

    Example: smrkit rounds --protocol floodset --replicas 4 --f 2 --rounds 2
    """
    if f >= replicas:
        raise UserError(
            f"--f {f} leaves no correct process among --replicas {replicas}",
            f"give --f at most {replicas - 1}",
        )
    r = f if rounds is None else rounds
    if protocol == "consensus-naive" and r != 1:
        raise UserError(
            "consensus-naive always decides after round 1", "give --rounds 1 (or leave it out)"
        )
    try:
        make, trb = resolve_round_protocol(protocol)
        search = RoundsSearch(
            protocol, make, replicas=replicas, f=f, rounds=r, trb=trb, states_max=states_max
        )
    except RoundsProtocolError as error:
        raise UserError(str(error)) from None
    try:
        result = search.search()
    except Exception as error:
        if ":" not in protocol:
            raise  # a bug in smrkit's own protocol: the traceback is the report
        raise UserError(
            f"{protocol} raised {type(error).__name__} during the search: {error}",
            "fix the protocol (every handler must run on any round's inbox)",
        ) from None
    if html_path is not None:
        _write_html(html_path, search, result)
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        for line in describe(result):
            click.echo(line)
        if html_path is not None:
            click.echo(f"report written to {html_path}")
    click.get_current_context().exit(result.exit_code)


def describe(result: RoundsResult) -> list[str]:
    """The search's outcome, for a person."""
    head = (
        f"{result.protocol}: n = {result.replicas}, f = {result.f}, deciding after round "
        f"R = {result.rounds} ({_relation(result)})"
    )
    lines = [head]
    v = result.violation
    plural = "" if result.patterns_explored == 1 else "s"
    chains = "" if result.chains_tried == 1 else "s"
    searched = (
        f"{result.patterns_explored:,} crash pattern{plural} explored "
        f"({result.chains_tried} dangerous chain{chains} tried, {result.states:,} states) "
        f"in {result.seconds:.2f} s"
    )
    if v is not None:
        first = v.checks[v.broken[0]]
        lines.append(f"VIOLATED {', '.join(v.broken)}: {first.detail}")
        lines.append(f"found by {v.found_by} after {searched}")
        lines.append("the chain — who hid what from whom, round by round:")
        lines += [f"  {crash.sentence()}" for crash in v.chain]
        lines.append("faults: " + " ".join(v.faults))
    elif result.exhausted:
        lines.append(f"no crash pattern breaks it: the whole space, {searched}")
    else:
        lines.append(f"no violation so far; stopped by {result.bound}: {searched}")
    return lines


def _relation(result: RoundsResult) -> str:
    if result.rounds <= result.f and result.replicas < result.f + 2:
        return (
            "R <= f, but n = f + 1: the f + 1 bound holds for n >= f + 2; "
            "min(f + 1, n - 1) rounds suffice"
        )
    if result.rounds <= result.f:
        return "R <= f: below the f + 1 bound"
    if result.rounds == result.f + 1:
        return "R = f + 1: the bound"
    return "R > f + 1"


def _write_html(path: Path, search: RoundsSearch, result: RoundsResult) -> None:
    from smrkit.report.round_page import round_page

    v = result.violation
    if v is not None:
        records, checks = v.records, {n: c.to_json() for n, c in v.checks.items()}
        notes = [crash.sentence() for crash in v.chain]
        title = f"smrkit rounds — {result.protocol} breaks {', '.join(v.broken)}"
    else:
        chains = search.chains()
        records = search.run(chains[0]) if chains else search.run(())
        checks = {}
        notes = [
            describe(result)[1],
            "Below: the first dangerous chain tried, which the protocol survives.",
        ]
        title = f"smrkit rounds — {result.protocol}"
    facts = [
        ("protocol", result.protocol),
        ("processes", f"n = {result.replicas}, f = {result.f}"),
        ("decides after", f"round R = {result.rounds}"),
        ("patterns explored", f"{result.patterns_explored:,}"),
        ("seconds", f"{result.seconds:.2f}"),
    ]
    heading = "The dangerous chain: who hid what from whom" if v is not None else "The search"
    page = round_page(
        title, facts, checks, records, result.processes, notes=notes, notes_title=heading
    )
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write {error.filename}: {error.strerror}") from None
