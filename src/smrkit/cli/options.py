"""Command-line options several commands share, spelled once — and the one place where
every number a user types is checked.

Every float option of every command goes through :class:`FiniteNumber`: ``nan`` and
``inf`` are refused (``float()`` accepts both, and ``click.FloatRange`` lets them through,
since every comparison with NaN is false), and so is a value outside the option's range.
Output paths go through :func:`output_path`: a file whose directory does not exist, or
that names a directory, is refused when the arguments are parsed, before a long run.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class FiniteNumber(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2
    """A finite float in a range: ``low``/``high`` (``None``: unbounded), each end open
    or closed; ``unit`` names what it counts in the error (``seconds``)."""

    def __init__(
        self,
        low: float | None = None,
        high: float | None = None,
        *,
        low_open: bool = False,
        high_open: bool = False,
        unit: str = "",
    ) -> None:
        self.low, self.high = low, high
        self.low_open, self.high_open = low_open, high_open
        self.unit = unit
        self.name = unit or "number"

    def describe(self) -> str:
        """What the option takes: ``a positive, finite number of seconds``."""
        base = f"finite number of {self.unit}" if self.unit else "finite number"
        low, high = self.low, self.high
        if low == 0 and high is None:
            return f"a {'positive' if self.low_open else 'non-negative'}, {base}"
        if low is not None and high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"a {base} in {left}{low:g}, {high:g}{right}"
        if low is not None:
            return f"a {base} {'>' if self.low_open else '>='} {low:g}"
        if high is not None:
            return f"a {base} {'<' if self.high_open else '<='} {high:g}"
        return f"a {base}"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not {self.describe()}", param, ctx)
        low, high = self.low, self.high
        below = low is not None and (number <= low if self.low_open else number < low)
        above = high is not None and (number >= high if self.high_open else number > high)
        if not math.isfinite(number) or below or above:
            self.fail(f"{value!r} is not {self.describe()}", param, ctx)
        return number


def finite_seconds(*, zero_ok: bool = False) -> FiniteNumber:
    """A positive (``zero_ok``: non-negative), finite number of seconds."""
    return FiniteNumber(0.0, low_open=not zero_ok, unit="seconds")


def seconds_option(
    *decls: str, default: float | None, help_text: str, zero_ok: bool = False
) -> Callable[[F], F]:
    """A duration in (virtual) seconds, e.g. ``--delta`` or ``--tau``: positive (or, with
    ``zero_ok``, non-negative) and finite."""
    return click.option(
        *decls,
        type=finite_seconds(zero_ok=zero_ok),
        default=default,
        show_default=default is not None,
        help=help_text,
    )


class OutputPath(click.Path):
    """A file the command will write: refused at parse time when its directory does not
    exist or is not writable, or when it names a directory — not after the work."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, writable=True, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = Path(os.fsdecode(super().convert(value, param, ctx)))
        parent = path.parent
        if not parent.is_dir():
            self.fail(f"cannot write {value}: no directory {str(parent)!r}", param, ctx)
        if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
            self.fail(f"cannot write {value}: directory {str(parent)!r} is read-only", param, ctx)
        return path


def output_path() -> OutputPath:
    return OutputPath()


untrusted_clients_option = click.option(
    "--untrusted-clients",
    is_flag=True,
    help="Servers take no client's word that a server left it unanswered: backups relay "
    "such a client's requests to the primary (as on TCP). Default: clients are correct, "
    "as seed 001 assumes.",
)
"""``smrkit sim`` and ``smrkit sweep``: ``SimConfig.clients_trusted`` off."""
