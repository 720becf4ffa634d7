"""Command-line options several commands share, spelled once."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class FiniteSeconds(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2
    """A positive, finite number of seconds (``nan`` and ``inf`` are refused)."""

    name = "seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds <= 0:
            self.fail(f"{value!r} is not a positive, finite number of seconds", param, ctx)
        return seconds


def finite_seconds() -> FiniteSeconds:
    return FiniteSeconds()


def seconds_option(*decls: str, default: float, help_text: str) -> Callable[[F], F]:
    """A positive duration in (virtual) seconds, e.g. ``--delta`` or ``--tau``."""
    return click.option(
        *decls,
        type=finite_seconds(),
        default=default,
        show_default=True,
        help=help_text,
    )


untrusted_clients_option = click.option(
    "--untrusted-clients",
    is_flag=True,
    help="Servers take no client's word that a server left it unanswered: backups relay "
    "such a client's requests to the primary (as on TCP). Default: clients are correct, "
    "as seed 001 assumes.",
)
"""``smrkit sim`` and ``smrkit sweep``: ``SimConfig.clients_trusted`` off."""
