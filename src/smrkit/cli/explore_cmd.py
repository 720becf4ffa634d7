"""``smrkit explore``: model-check a protocol's world, in Stateright's terms."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from smrkit.cli.errors import UserError, file_error
from smrkit.cli.options import finite_seconds, output_path
from smrkit.explore.byzantine_models import BYZANTINE_MODELS, byzantine_model
from smrkit.explore.crash_models import CRASH_MODELS, crash_model
from smrkit.explore.models import MODELS, Model, ModelError, build_model
from smrkit.explore.raft_model import (
    BOUNDS,
    ELECTIONS_DEFAULT,
    FIFO,
    LINKS,
    RAFT_MODELS,
    raft_model,
)
from smrkit.explore.replay import ReplayError, replay
from smrkit.explore.search import SearchResult, search
from smrkit.explore.symmetry import Symmetry
from smrkit.report.explore import (
    ROUND_MODELS,
    describe_move,
    explore_json,
    is_fault_move,
    path_section_html,
    print_explore,
    round_path_page,
)
from smrkit.report.summary import make_console

EXIT_INCOMPLETE = 3

EPILOG = """\b
Models: paxos (Stateright's examples/paxos.rs: --servers 3 --clients 2 by default),
2pc (examples/2pc.rs: its resource managers are the --servers), and pb-crash or any
primary-backup protocol, registered or module.path:ClassName (n = 2 by default, one
client doing put x 1 then get x, delays in {δ_min, δ}, any crash within --crashes at
any step, up to --horizon). Byzantine agreement in lock-step rounds: dolev-strong
(n = 4, f = 2: the sender p1 and p2 send any chain they can make valid, to anyone)
and eig (n = 4, f = 1: p4 sends anything); --f and --byzantine p1,p3 change them.
Crash failures in lock-step rounds (seed 002): consensus-naive, floodset,
floodset-early and trb (n = 4, f = 1, p_i proposing i - 1, the TRB sender p1): up to f
processes crash, each in any round with any of its messages of the round leaving
(the crash patterns of 'smrkit rounds'); --rounds R makes them decide after round R
[default: f + 1]; judged by termination, validity, agreement, integrity and
decides_by_round over every finished run.
Raft (seed 003): raft and its broken variant raft-unsafe-commit (n = 3, two clients
putting A and B, each sent to every server): any message delivered next, FIFO per
link (--links), election time-outs fired at any time up to --elections
candidacies in all, no heartbeats unless --heartbeats, --crashes servers crashing at
any step [default: 0], --bound elections-in-turn|requests-once|stale-lost to narrow
the adversary toward Figure 8; judged by election safety, log matching, leader completeness
and state machine safety in every state.

\b
Output, as Stateright's: states (generated, repeats included), unique (distinct),
max_depth (longest path, the initial state counting 1), sec, states_per_s (unique
per second), and each property's verdict with its path (BFS: a shortest one).
A progress line goes to stderr every second.

\b
Exit status: 0 every property as expected (invariants hold, examples found),
1 a property violated or an example not found, 2 bad usage, 3 a bound
(--max-depth, --max-states) stopped the search before a verdict.
"""


@click.command("explore", epilog=EPILOG)
@click.option(
    "--model",
    "model_name",
    default="paxos",
    show_default=True,
    metavar="NAME",
    help=f"{', '.join((*MODELS, *RAFT_MODELS, *CRASH_MODELS, *BYZANTINE_MODELS))}, or a "
    "registered "
    "primary-backup protocol.",
)
@click.option("--servers", type=click.IntRange(min=1), help="Servers [default: the model's].")
@click.option("--clients", type=click.IntRange(min=0), help="Clients [default: the model's].")
@click.option(
    "--crashes",
    type=click.IntRange(min=0),
    help="Primary-backup models: servers that may crash [default: the protocol's f].",
)
@click.option(
    "--horizon",
    type=finite_seconds(),
    help="Primary-backup models: explore up to this virtual time, seconds.",
)
@click.option(
    "--f",
    "f",
    type=click.IntRange(min=0),
    help="Agreement models: the f the protocol is built for (crash models: the crashes "
    "explored) [default: the model's].",
)
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    help="Crash models: the processes decide after round R [default: f + 1].",
)
@click.option(
    "--byzantine",
    metavar="P1,P2",
    help="Byzantine models: the processes the adversary controls [default: the model's].",
)
@click.option(
    "--elections",
    type=click.IntRange(min=1),
    help=f"Raft models: election time-outs that may fire in all [default: {ELECTIONS_DEFAULT}].",
)
@click.option(
    "--heartbeats", is_flag=True, help="Raft models: leaders' heartbeats fire too (a bigger space)."
)
@click.option(
    "--links",
    type=click.Choice(LINKS),
    help="Raft models: links deliver in the order sent (fifo), in any order, or hold only "
    "the newest message [default: fifo].",
)
@click.option(
    "--bound",
    "bounds",
    type=click.Choice(BOUNDS),
    multiple=True,
    help="Raft models: a bound on the adversary aimed at Figure 8 (repeat for more): "
    "elections one at a time, each for the next term; a client's request taken once; "
    "messages of an older term than their destination's lost.",
)
@click.option("--bfs/--dfs", "bfs", default=True, show_default=True, help="Search order.")
@click.option("--max-depth", type=click.IntRange(min=1), help="Expand no path beyond D states.")
@click.option("--max-states", type=click.IntRange(min=1), help="Stop after S unique states.")
@click.option("--symmetry", is_flag=True, help="Reduce by renaming interchangeable servers.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--trace",
    "trace_path",
    type=output_path(),
    help="Write the first counterexample (or example) as a trace 'smrkit replay' re-runs.",
)
@click.option(
    "--html",
    "html_path",
    type=output_path(),
    help="Draw that path as an HTML report.",
)
def explore(
    model_name: str,
    servers: int | None,
    clients: int | None,
    crashes: int | None,
    horizon: float | None,
    f: int | None,
    rounds: int | None,
    byzantine: str | None,
    elections: int | None,
    heartbeats: bool,
    links: str | None,
    bounds: tuple[str, ...],
    bfs: bool,
    max_depth: int | None,
    max_states: int | None,
    symmetry: bool,
    as_json: bool,
    trace_path: Path | None,
    html_path: Path | None,
) -> None:
    """Search every state of a model's world (BFS or DFS) and check its properties.

    Example: smrkit explore --model paxos --clients 2 --servers 3 --json
    """
    try:
        if model_name in RAFT_MODELS:
            others = [
                flag
                for flag, value in (
                    ("--horizon", horizon),
                    ("--f", f),
                    ("--rounds", rounds),
                    ("--byzantine", byzantine),
                )
                if value is not None
            ]
            if others:
                raise ModelError(
                    f"{' and '.join(others)} {'does' if len(others) == 1 else 'do'} not apply "
                    f"to {model_name}: use --servers, "
                    "--clients, --crashes, --elections, --heartbeats, --links and --bound"
                )
            model = raft_model(
                model_name,
                servers=3 if servers is None else servers,
                clients=2 if clients is None else clients,
                elections=ELECTIONS_DEFAULT if elections is None else elections,
                crashes=0 if crashes is None else crashes,
                heartbeats=heartbeats,
                links=FIFO if links is None else links,
                bounds=bounds,
            )
        else:
            raft_only = [
                flag
                for flag, given in (
                    ("--elections", elections is not None),
                    ("--heartbeats", heartbeats),
                    ("--links", links is not None),
                    ("--bound", bool(bounds)),
                )
                if given
            ]
            if raft_only:
                verb = "applies" if len(raft_only) == 1 else "apply"
                raise ModelError(
                    f"{' and '.join(raft_only)} {verb} to {', '.join(RAFT_MODELS)} only"
                )
            model = _model(model_name, servers, clients, crashes, horizon, f, rounds, byzantine)
    except ModelError as error:
        raise UserError(str(error), "see 'smrkit explore --help' for the models") from None
    space = model.build_space()
    reduce = None
    if symmetry:
        if not model.symmetric:
            raise UserError(f"{model.name} declares no interchangeable servers", "drop --symmetry")
        try:
            reduce = Symmetry(space, model.symmetric)
        except ValueError as error:
            raise UserError(str(error), "drop --symmetry") from None
    result = search(
        space,
        model.properties,
        bfs=bfs,
        max_depth=max_depth,
        max_states=max_states,
        symmetry=reduce,
        progress=_progress,
    )
    data = explore_json(model, space, result, bfs=bfs, symmetry=symmetry)
    written = _write_outputs(model, data, trace_path, html_path)
    if as_json:
        click.echo(json.dumps(data))
    else:
        console = make_console()
        print_explore(console, data)
        for what, path in written:
            console.print(f"{what} written to {path}")
    click.get_current_context().exit(exit_code(result))


def exit_code(result: SearchResult) -> int:
    """1 a counterexample, or an example that a finished search did not find; 3 a bound
    stopped the search first; 0 otherwise."""
    if any(d.is_failure for d in result.discoveries.values()):
        return 1
    if result.stopped_by in ("max-depth", "max-states"):
        return EXIT_INCOMPLETE
    return 0 if result.ok else 1


def _model(
    name: str,
    servers: int | None,
    clients: int | None,
    crashes: int | None,
    horizon: float | None,
    f: int | None,
    rounds: int | None,
    byzantine: str | None,
) -> Model:
    timed = [
        flag
        for flag, value in (("--clients", clients), ("--crashes", crashes), ("--horizon", horizon))
        if value is not None
    ]
    if name in CRASH_MODELS:
        if timed or byzantine is not None:
            flags = " and ".join([*timed, *(["--byzantine"] if byzantine is not None else [])])
            raise ModelError(
                f"{flags} do not apply to {name}: use --servers, --f and --rounds "
                "(--f is both the protocol's f and the crashes explored)"
            )
        return crash_model(name, servers, f, rounds)
    if rounds is not None:
        raise ModelError(f"--rounds applies to {', '.join(CRASH_MODELS)} only")
    if name in BYZANTINE_MODELS:
        if timed:
            raise ModelError(
                f"--clients, --crashes and --horizon do not apply to {name}: use --servers, "
                "--f and --byzantine"
            )
        chosen = None if byzantine is None else [p.strip() for p in byzantine.split(",")]
        return byzantine_model(name, servers, f, chosen)
    if f is not None:
        raise ModelError(f"--f applies to {', '.join((*CRASH_MODELS, *BYZANTINE_MODELS))} only")
    if byzantine is not None:
        raise ModelError(f"--byzantine applies to {', '.join(BYZANTINE_MODELS)} only")
    return build_model(name, servers=servers, clients=clients, crashes=crashes, horizon_s=horizon)


def _progress(states: int, unique: int, depth: int, sec: float) -> None:
    print(
        f"explore: checking. states={states:,} unique={unique:,} depth={depth} sec={sec:.0f}",
        file=sys.stderr,
        flush=True,
    )


def _write_outputs(
    model: Model, data: dict[str, Any], trace_path: Path | None, html_path: Path | None
) -> list[tuple[str, Path]]:
    if trace_path is None and html_path is None:
        return []
    chosen = _chosen_path(data)
    if chosen is None:
        click.echo("explore: no counterexample or example, so no trace or report written", err=True)
        return []
    name, moves = chosen
    try:
        replayed = replay(model, moves)
    except ReplayError as error:
        raise UserError(f"the path of {name!r} did not replay: {error}") from None
    written: list[tuple[str, Path]] = []
    path: Path | None = trace_path
    try:
        if trace_path is not None:
            replayed.trace.write(trace_path)
            written.append((f"trace of {name!r}", trace_path))
        path = html_path
        if html_path is not None and model.name in ROUND_MODELS:
            prop = next(p for p in data["properties"] if p["name"] == name)
            verdicts = ", ".join(f"{p['name']} {p['verdict']}" for p in data["properties"])
            search = (
                f"{data['search'].upper()}: states={data['states']:,} "
                f"unique={data['unique']:,} max_depth={data['max_depth']} sec={data['sec']:.2f}"
                f"{'' if data['complete'] else ' (stopped early)'}; {verdicts}"
            )
            page = round_path_page(model, name, prop["expectation"], moves, replayed.trace, search)
            html_path.write_text(page, encoding="utf-8")
            written.append((f"report of {name!r}", html_path))
        elif html_path is not None:
            from smrkit.report.html import write_report

            title = f"smrkit explore: {model.name}, path of {name!r}"
            summary = html_summary(model.name, data, moves)
            summary["trace_hash"] = replayed.trace.trace_hash()
            section = path_section_html(data, name)
            write_report(
                html_path,
                summary,
                replayed.trace,
                [],
                title=title,
                sections=[section],
                bounds=False,
                latency=False,
            )
            written.append((f"report of {name!r}", html_path))
    except OSError as error:
        raise UserError(file_error("write", path, error)) from None
    return written


def _chosen_path(data: dict[str, Any]) -> tuple[str, list[dict[str, Any]]] | None:
    """The first counterexample, else the first example."""
    ordered = sorted(data["properties"], key=lambda p: p["expectation"] == "sometimes")
    for prop in ordered:
        if prop["path"] is not None:
            return prop["name"], prop["path"]
    return None


def html_summary(
    model: str, data: dict[str, Any], moves: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the HTML page shows above the diagram: the model, the verdicts, and as its
    fault plan the crashes the search chose on the drawn path."""
    checks = {}
    for prop in data["properties"]:
        ok = prop["verdict"] in ("holds", "found", "holds so far")
        checks[prop["name"]] = {"ok": ok, "summary": f"{prop['expectation']}: {prop['verdict']}"}
    parameters = data["parameters"]
    summary: dict[str, Any] = {
        "protocol": model,
        "replicas": parameters.get("servers"),
        "clients": parameters.get("clients", 1 if "ops" in parameters else None),
        "checks": checks,
    }
    for name in ("delta_s", "tau_s", "delta_min_s"):
        if name in parameters:
            summary[name] = parameters[name]
    if "crashes" in parameters:
        summary["f"] = parameters["crashes"]
    summary["seed"] = "none: the search tries every choice"
    summary["faults"] = [
        f"move {number}: {line}"
        for number, move in enumerate(moves or [], start=1)
        for line in [describe_move(move)]
        if is_fault_move(move)
    ]
    summary["failure_model"] = _failure_model(model)
    return summary


def _failure_model(model: str) -> str | None:
    """The failure model a primary-backup model's protocol is built for, if it has one."""
    from smrkit.explore.protocol_ref import ProtocolRefError, resolve_protocol

    try:
        return resolve_protocol(model).spec.failure_model.value
    except ProtocolRefError:
        return None
