"""Placeholder replaced by the check-history command."""

import click


@click.command("check-history")
def check_history() -> None:
    """Check a history for linearizability."""
