"""``smrkit worlds``: the impossibility proof of seed 000, run for one protocol."""

from __future__ import annotations

import json
from pathlib import Path

import click

from smrkit.cli.errors import UserError, file_error
from smrkit.cli.options import seconds_option
from smrkit.explore.protocol_ref import ProtocolRefError, resolve_protocol
from smrkit.explore.worlds import WorldsError, WorldsResult, demonstrate
from smrkit.protocols import service_protocols
from smrkit.report.summary import make_console
from smrkit.report.worlds import print_worlds, worlds_json

EPILOG = """\b
The worlds (seed 000): A - c1 writes C1, server 2 omits everything;
B - c2 writes C2, server 1 omits everything; C - both write, c1 omits with
server 2, c2 with server 1, server 2 with server 1. With --replicas n and
--f f (n <= 2f) the servers split into two halves that play servers 1 and 2.

\b
Exit status: 0 the run demonstrates the theorem (the views the proof calls
identical are, and the protocol lost safety or liveness); 1 it does not
(the output says why); 2 bad usage.
"""


@click.command("worlds", epilog=EPILOG)
@click.option(
    "--protocol",
    default="pb-crash",
    show_default=True,
    metavar="NAME|module.path:ClassName",
    help=(
        f"A registered protocol ({', '.join(service_protocols())}), or your own: a Replica "
        "subclass built as ClassName(node_id, config), or a ProtocolSpec."
    ),
)
@click.option("--replicas", type=int, default=2, show_default=True, help="Servers, n <= 2f.")
@click.option("--f", "f", type=int, default=1, show_default=True, help="The adversary's f.")
@seconds_option(
    "--delta", default=0.01, help_text="δ: every message takes exactly this long, seconds."
)
@seconds_option("--tau", default=0.05, help_text="τ: the heartbeat period, seconds.")
@seconds_option(
    "--horizon",
    default=1.0,
    help_text="Virtual seconds each world runs; a client not answered by then never learns.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--trace-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the three traces there as A.jsonl, B.jsonl and C.jsonl.",
)
def worlds(
    protocol: str,
    replicas: int,
    f: int,
    delta: float,
    tau: float,
    horizon: float,
    as_json: bool,
    trace_dir: Path | None,
) -> None:
    """Run worlds A, B and C of seed 000's proof that two servers cannot replicate a
    write-once register against one omission failure; compare the views of server 1 and
    client 1 (A vs C) and of server 2 and client 2 (B vs C); say whether the protocol
    gives up safety or liveness.

    Example: smrkit worlds --protocol pb-crash
    """
    try:
        resolved = resolve_protocol(protocol)
        if not resolved.spec.serves_clients:
            raise UserError(
                f"{protocol} serves no clients: seed 000's worlds are about a replicated "
                "service and its clients",
                f"'smrkit rounds --protocol {protocol}' runs seed 002's bound on it",
            )
        result = demonstrate(
            resolved.spec,
            declared=resolved.declared,
            n=replicas,
            f=f,
            delta_s=delta,
            tau_s=tau,
            horizon_s=horizon,
        )
    except (ProtocolRefError, WorldsError) as error:
        raise UserError(str(error)) from None
    written = _write_traces(result, trace_dir)
    if as_json:
        click.echo(json.dumps(worlds_json(result)))
    else:
        console = make_console()
        print_worlds(console, result)
        if written:
            console.print(f"traces written to {', '.join(str(p) for p in written)}")
    click.get_current_context().exit(0 if result.demonstrates else 1)


def _write_traces(result: WorldsResult, trace_dir: Path | None) -> list[Path]:
    if trace_dir is None:
        return []
    written: list[Path] = []
    try:
        trace_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            file_error("create", trace_dir, error), "pick another --trace-dir"
        ) from None
    for name, run in result.runs.items():
        path = trace_dir / f"{name}.jsonl"
        try:
            run.trace.write(path)
        except OSError as error:
            raise UserError(file_error("write", path, error)) from None
        written.append(path)
    return written
