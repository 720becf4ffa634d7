"""Placeholder replaced by the sim command."""

import click


@click.command("sim")
def sim() -> None:
    """Run a protocol in the simulator."""
