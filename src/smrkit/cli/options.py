"""Command-line options several commands share, spelled once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def seconds_option(*decls: str, default: float, help_text: str) -> Callable[[F], F]:
    """A positive duration in (virtual) seconds, e.g. ``--delta`` or ``--tau``."""
    return click.option(
        *decls,
        type=click.FloatRange(min=0, min_open=True),
        default=default,
        show_default=True,
        help=help_text,
    )
