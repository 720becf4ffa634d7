"""Placeholder replaced by the demo command."""

import click


@click.command("demo")
def demo() -> None:
    """A one-minute tour."""
