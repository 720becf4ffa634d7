"""User-facing errors: one line that names the problem and the fix, exit code 2."""

from __future__ import annotations

import click

EXIT_USAGE = 2


class UserError(click.ClickException):
    """Bad input from the user (a flag, a spec, a file). Printed as one line, exit 2."""

    exit_code = EXIT_USAGE

    def __init__(self, problem: str, fix: str | None = None) -> None:
        message = problem if fix is None else f"{problem}; {fix}"
        super().__init__(message)
        ctx = click.get_current_context(silent=True)
        self.command_path = ctx.command_path if ctx is not None else "smrkit"


def file_error(action: str, path: object, error: OSError) -> str:
    """``cannot ACTION PATH: CAUSE`` — the path the command was working on, not the
    error's ``filename`` (``None`` when a flush fails on a full disk) nor its ``[Errno
    17]`` prefix."""
    return f"cannot {action} {path}: {error.strerror or error}"
