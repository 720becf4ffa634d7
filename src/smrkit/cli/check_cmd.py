"""``smrkit check-history``: is a recorded history linearizable?

Thin on purpose: it reads the file with :mod:`smrkit.check.parsers`, runs
:func:`smrkit.check.linearizability.check_linearizability` and prints the verdict.
Exit codes are a contract for scripts: 0 linearizable, 1 violation, 3 unknown (the
timeout ran out), 2 bad usage or an unreadable file.
"""

from __future__ import annotations

import json

import click

from smrkit.apps import SPECS
from smrkit.check.linearizability import LinearizabilityResult, check_linearizability
from smrkit.check.parsers import FORMATS, HistoryFormatError, load_history
from smrkit.cli.errors import UserError

EXIT_CODES = {"linearizable": 0, "violation": 1, "unknown": 3}
_FORMAT_NAMES = ", ".join(name for name in FORMATS if name != "auto")


@click.command("check-history")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="History format; auto guesses it from the first line.",
)
@click.option(
    "--model",
    type=click.Choice(sorted(SPECS)),
    default=None,
    help="Sequential spec to check against (JSON Lines only; overrides the header).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="S",
    help="Give up after S seconds and answer unknown (exit 3).",
)
@click.pass_context
def check_history(
    ctx: click.Context,
    *,
    file: str,
    fmt: str,
    model: str | None,
    as_json: bool,
    timeout: float | None,
) -> None:
    """Check the history in FILE for linearizability.

    Prints linearizable (exit 0), violation with a witness (exit 1) or unknown (exit 3).
    """
    try:
        history = load_history(file, fmt, model=model)
    except FileNotFoundError:
        raise UserError(f"no such file: {file}", "check the path") from None
    except OSError as error:
        raise UserError(f"cannot read {file}: {error.strerror or error}") from None
    except HistoryFormatError as error:
        raise UserError(str(error), f"check the file or pass --format ({_FORMAT_NAMES})") from None
    try:
        result = check_linearizability(history, timeout_s=timeout)
    except ValueError as error:
        raise UserError(f"{file}: {error}", "pass the right --model") from None
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        click.echo(_text(result))
    ctx.exit(EXIT_CODES[result.verdict])


def _text(result: LinearizabilityResult) -> str:
    parts = "partition" if result.partitions == 1 else "partitions"
    lines = [
        result.verdict,
        f"{result.ops} ops, {result.partitions} {parts}, {result.seconds:.3f} s",
    ]
    if result.verdict == "unknown":
        lines.append("the timeout ran out before the search finished; try a larger --timeout")
    if result.witness is not None:
        lines.append(result.witness.render())
    return "\n".join(lines)
