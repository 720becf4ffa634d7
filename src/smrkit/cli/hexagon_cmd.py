"""``smrkit hexagon``: the n <= 3f impossibility of Byzantine agreement, run for a protocol."""

from __future__ import annotations

import json

import click

from smrkit.cli.errors import UserError
from smrkit.explore.hexagon import HexagonError, builtin_protocols, demonstrate
from smrkit.report.hexagon import hexagon_json, print_hexagon
from smrkit.report.summary import make_console

EPILOG = """\b
The ring: six copies of the processes, 1, 2, 3 proposing 0 and 1', 2', 3'
proposing 1, each talking to its ring neighbours. Scenarios: A - 2 and 3
correct (0), 1 Byzantine; B - 1' and 2' correct (1), 3 Byzantine; C - 3 and 1'
correct, 2 Byzantine. With n <= 3f the processes split into three groups of at
most f that play 1, 2 and 3; with n > 3f the construction does not apply.

\b
Exit status: 0 the run demonstrates the theorem (the views the proof calls
identical are, and a property is lost); 1 it does not (the output says why,
e.g. n > 3f); 2 bad usage.
"""


@click.command("hexagon", epilog=EPILOG)
@click.option(
    "--protocol",
    default="eig",
    show_default=True,
    metavar="NAME|module.path:ClassName",
    help=(
        f"A built-in Byzantine consensus protocol ({', '.join(builtin_protocols())}), or "
        "your own ConsensusProcess built as ClassName(node_id, processes, f, value)."
    ),
)
@click.option("--replicas", type=int, default=3, show_default=True, help="Processes n.")
@click.option("--f", "f", type=int, default=1, show_default=True, help="Byzantine processes f.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
def hexagon(protocol: str, replicas: int, f: int, as_json: bool) -> None:
    """Run the covering ("hexagon") construction of the proof that Byzantine agreement
    needs n > 3f without signatures against a protocol: a ring of six copies and three
    scenarios each indistinguishable to two correct processes from part of the ring;
    compare their views and say which property the protocol loses.

    Example: smrkit hexagon --protocol eig
    """
    if replicas < 1 or f < 0:
        raise UserError(
            f"--replicas {replicas} --f {f}: need n >= 1 and f >= 0",
            "e.g. --replicas 3 --f 1",
        )
    try:
        result = demonstrate(protocol, replicas, f)
    except HexagonError as error:
        raise UserError(str(error)) from None
    if as_json:
        click.echo(json.dumps(hexagon_json(result)))
    else:
        print_hexagon(make_console(), result)
    click.get_current_context().exit(0 if result.demonstrates else 1)
