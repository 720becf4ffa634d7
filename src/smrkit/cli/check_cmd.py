"""``smrkit check-history``: is a recorded history linearizable?

Thin on purpose: it reads the file (or standard input, for ``-``) with
:mod:`smrkit.check.parsers`, runs
:func:`smrkit.check.linearizability.check_linearizability`, prints the verdict and, with
``--html``, writes the picture (:mod:`smrkit.report.history_page`). Exit codes are a
contract for scripts: 0 linearizable, 1 violation, 3 unknown (the timeout ran out), 2
bad usage or an unreadable file. Only what checking needs is imported, so the command
starts in a few tens of milliseconds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from smrkit.apps import SPECS
from smrkit.check.history import History
from smrkit.check.linearizability import LinearizabilityResult, check_linearizability
from smrkit.check.parsers import FORMATS, HistoryFormatError, load_history, read_history
from smrkit.cli.errors import UserError, file_error
from smrkit.cli.options import finite_seconds, output_path

EXIT_CODES = {"linearizable": 0, "violation": 1, "unknown": 3}
_FORMAT_NAMES = ", ".join(name for name in FORMATS if name != "auto")
STDIN = "-"


@click.command("check-history")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str, allow_dash=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="History format; auto tells it from the first event.",
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
    type=finite_seconds(),
    default=None,
    metavar="S",
    help="Give up after S seconds (wall clock) and answer unknown (exit 3); e.g. --timeout 30.",
)
@click.option(
    "--html",
    "html_path",
    type=output_path(),
    default=None,
    metavar="OUT",
    help="Also write the history as an HTML page: every op on a time axis, the "
    "linearization or the longest linearizable prefix, where it got stuck.",
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
    html_path: Path | None,
) -> None:
    """Check the history in FILE (- for standard input) for linearizability.

    Formats: smrkit's JSON Lines, Jepsen's etcd logs, EDN kv logs and EDN histories
    (Jepsen's and Maelstrom's history.edn: read, write and cas on registers, with
    jepsen.independent [key value] tuples). Prints linearizable (exit 0), violation with
    a witness (exit 1) or unknown (exit 3); 2 is bad usage or an unreadable file.

    \b
    Examples:
      smrkit check-history history.jsonl
      smrkit check-history jepsen/history.edn --timeout 30 --html picture.html
      smrkit sim --ops 500 --history run.jsonl && smrkit check-history - < run.jsonl
    """
    history = _read(file, fmt, model)
    try:
        result = check_linearizability(history, timeout_s=timeout)
    except ValueError as error:
        raise UserError(f"{file}: {error}", "pass the right --model") from None
    if html_path is not None:
        _write_html(history, result, html_path)
    if as_json:
        data = result.to_json()
        if html_path is not None:
            data["html"] = str(html_path)
        click.echo(json.dumps(data))
    else:
        click.echo(_text(history, result))
        if html_path is not None:
            click.echo(f"picture written to {html_path}")
    ctx.exit(EXIT_CODES[result.verdict])


def _read(file: str, fmt: str, model: str | None) -> History:
    fix = f"check the file or pass --format ({_FORMAT_NAMES})"
    try:
        if file == STDIN:
            return read_history(sys.stdin.read(), "<stdin>", fmt, model=model)
        return load_history(file, fmt, model=model)
    except FileNotFoundError:
        raise UserError(f"no such file: {file}", "check the path") from None
    except OSError as error:
        raise UserError(f"cannot read {file}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise UserError(f"{file}: not UTF-8 text ({error.reason})", fix) from None
    except HistoryFormatError as error:
        raise UserError(str(error), fix) from None


def _write_html(history: History, result: LinearizabilityResult, path: Path) -> None:
    from smrkit.report.history_page import render_history_page  # only when asked for

    unit = str(history.meta.get("time_unit", "time"))
    page = render_history_page(history, result, time_unit=unit)
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(page)
    except OSError as error:
        raise UserError(file_error("write", path, error)) from None


def _text(history: History, result: LinearizabilityResult) -> str:
    parts = "partition" if result.partitions == 1 else "partitions"
    lines = [
        result.verdict,
        f"{result.ops} ops, {result.partitions} {parts}, {result.seconds:.3f} s",
    ]
    if not any(op.status.value == "ok" for op in history.ops):
        lines.append(
            "note: no op completed ok, so this verdict says nothing about the system "
            "that produced the history"
        )
    if result.verdict == "unknown":
        undecided = [p for p in result.details if p.verdict == "unknown"]
        keys = ", ".join(repr(p.key) for p in undecided[:5])
        more = f" and {len(undecided) - 5} more" if len(undecided) > 5 else ""
        lines.append(
            f"the timeout ran out before the search finished on {len(undecided)} of "
            f"{len(result.details)} partitions ({keys}{more}); try a larger --timeout"
        )
    if result.witness is not None:
        lines.append(result.witness.render())
    return "\n".join(lines)
