"""``smrkit kv`` (one command against a cluster) and ``smrkit nemesis`` (one fault)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from smrkit.cli.cluster_cmd import load
from smrkit.cli.errors import UserError
from smrkit.cli.options import seconds_option
from smrkit.core.ops import Op, Value, thaw
from smrkit.net.auth import SecretError

CLUSTER_OPTION = click.option(
    "--cluster",
    "directory",
    type=click.Path(path_type=Path),
    required=True,
    help="The cluster directory (from 'smrkit cluster init').",
)


@click.group("kv")
@CLUSTER_OPTION
@seconds_option(
    "--timeout",
    "timeout_s",
    default=10.0,
    help_text="Give up on the command after this many seconds (wall clock); the outcome "
    "is then unknown, exit 1.",
)
@click.pass_context
def kv(ctx: click.Context, directory: Path, timeout_s: float) -> None:
    """One command against the cluster's key-value store; prints its result as JSON.

    \b
      smrkit kv --cluster DIR put k v | get k | append k v | cas k old new

    \b
    Example (a cluster made by 'smrkit cluster init --dir /tmp/demo' and 'up'):
      $ smrkit kv --cluster /tmp/demo put x 1
      null
      $ smrkit kv --cluster /tmp/demo --timeout 2.5 get x
      "1"

    \b
    Exit status: 0 the command took effect (its result printed), 1 no answer within
    --timeout seconds (it may or may not have taken effect), 2 bad usage or the service
    rejected the command (it did not take effect).
    """
    ctx.obj["cluster"] = directory
    ctx.obj["timeout_s"] = timeout_s


def _run(ctx: click.Context, op: Op) -> None:
    from smrkit.net.client import Client, CommandError, OutcomeUnknownError

    config = load(ctx.obj["cluster"])
    round_trip = 2 * config.delta_s
    if ctx.obj["timeout_s"] < round_trip:
        click.echo(
            f"smrkit kv: warning: --timeout {ctx.obj['timeout_s']:g} s is shorter than a round "
            f"trip the cluster allows (2δ = {round_trip:g} s): the answer may come too late; "
            f"use at least {round_trip:g}",
            err=True,
        )

    async def call() -> Value:
        async with Client(config, op_timeout_s=ctx.obj["timeout_s"]) as client:
            return await client.call(op)

    try:
        result = asyncio.run(call())
    except SecretError as error:
        raise UserError(str(error)) from None
    except CommandError as error:
        raise UserError(f"the service rejected {op}: {error}") from None
    except OutcomeUnknownError as error:
        raise click.ClickException(
            f"{error}; it may or may not have taken effect (is the cluster up?)"
        ) from None
    click.echo(json.dumps(thaw(result)))


@kv.command("put")
@click.argument("key")
@click.argument("value")
@click.pass_context
def put(ctx: click.Context, key: str, value: str) -> None:
    """Set KEY to VALUE."""
    _run(ctx, Op("put", key, value))


@kv.command("get")
@click.argument("key")
@click.pass_context
def get(ctx: click.Context, key: str) -> None:
    """Print KEY's value (null if never written)."""
    _run(ctx, Op("get", key))


@kv.command("append")
@click.argument("key")
@click.argument("value")
@click.pass_context
def append(ctx: click.Context, key: str, value: str) -> None:
    """Append VALUE to KEY's string."""
    _run(ctx, Op("append", key, value))


@kv.command("cas")
@click.argument("key")
@click.argument("old")
@click.argument("new")
@click.pass_context
def cas(ctx: click.Context, key: str, old: str, new: str) -> None:
    """Set KEY to NEW if it is OLD; prints whether it did."""
    _run(ctx, Op("cas", key, (old, new)))


@click.group("nemesis")
@CLUSTER_OPTION
@click.pass_context
def nemesis(ctx: click.Context, directory: Path) -> None:
    """Inject one fault into a running cluster.

    \b
      smrkit nemesis --cluster DIR kill p1            SIGKILL p1
      smrkit nemesis --cluster DIR restart p1         start p1 again from its disk
      smrkit nemesis --cluster DIR partition p1 [p2]  cut p1 [p2] off from the rest
      smrkit nemesis --cluster DIR omit 'p1->p2'      drop p1's messages to p2
      smrkit nemesis --cluster DIR omit 'p1->c42'     drop p1's replies to client c42

    Quote SRC->DST: unquoted, the shell takes > for a redirection.
      smrkit nemesis --cluster DIR heal               every link works again
    """
    ctx.obj["cluster"] = directory


def _report(failed: dict[str, str], what: str, directory: Path) -> None:
    """Say what was done; a fault that no replica could be told is not done at all."""
    if failed and len(failed) == len(load(directory).servers):
        raise UserError(
            f"nothing was done: no replica answered ({next(iter(failed.values()))})",
            f"is the cluster up? start it with 'smrkit cluster up {directory}'",
        )
    for replica, why in failed.items():
        click.echo(f"note: {replica} not told ({why})", err=True)
    click.echo(what)


@nemesis.command("kill")
@click.argument("replica")
@click.pass_context
def kill(ctx: click.Context, replica: str) -> None:
    """SIGKILL REPLICA's process."""
    from smrkit.net import nemesis as nem
    from smrkit.net.cluster import ClusterError
    from smrkit.net.nemesis import NemesisError

    config = load(ctx.obj["cluster"])
    try:
        pid = nem.kill(config, replica)
    except (NemesisError, ClusterError) as error:
        raise UserError(str(error)) from None
    click.echo(f"killed {replica} (pid {pid})")


@nemesis.command("restart")
@click.argument("replica")
@click.pass_context
def restart(ctx: click.Context, replica: str) -> None:
    """Start REPLICA again (restartable protocols only): it recovers what it saved and
    rejoins. Returns once it serves."""
    from smrkit.net.cluster import ClusterError, restart_replica

    config = load(ctx.obj["cluster"])
    try:
        pid = restart_replica(config, replica)
    except (ClusterError, SecretError, OSError) as error:
        raise UserError(str(error)) from None
    click.echo(f"restarted {replica} (pid {pid})")


@nemesis.command("partition")
@click.argument("replicas", nargs=-1, required=True)
@click.pass_context
def partition(ctx: click.Context, replicas: tuple[str, ...]) -> None:
    """Cut REPLICAS off from the other replicas (both ways) until 'heal'."""
    from smrkit.net.nemesis import NemesisError, block, partition_links

    config = load(ctx.obj["cluster"])
    try:
        links = partition_links(config, list(replicas))
        failed = asyncio.run(block(config, links))
    except (NemesisError, SecretError) as error:
        raise UserError(str(error)) from None
    rest = [r for r in config.servers if r not in replicas]
    _report(failed, f"partitioned {' '.join(replicas)} | {' '.join(rest)}", ctx.obj["cluster"])


@nemesis.command("omit")
@click.argument("link")
@click.pass_context
def omit(ctx: click.Context, link: str) -> None:
    """Drop the messages of one directed link, written 'SRC->DST' (quoted), until 'heal'."""
    from smrkit.net.nemesis import NemesisError, block, parse_link

    if link.endswith("-"):
        raise UserError(
            f"bad link {link!r}: cut by the shell at '>'?",
            "quote it: smrkit nemesis --cluster DIR omit 'p1->p2'",
        )
    config = load(ctx.obj["cluster"])
    try:
        src, dst = parse_link(link, config)
        failed = asyncio.run(block(config, {(src, dst)}, add=True))
    except (NemesisError, SecretError) as error:
        raise UserError(str(error)) from None
    _report(failed, f"omitting {src}->{dst}", ctx.obj["cluster"])


@nemesis.command("heal")
@click.pass_context
def heal(ctx: click.Context) -> None:
    """Clear every partition and omission."""
    from smrkit.net import nemesis as nem

    config = load(ctx.obj["cluster"])
    try:
        failed = asyncio.run(nem.heal(config))
    except SecretError as error:
        raise UserError(str(error)) from None
    _report(failed, "healed", ctx.obj["cluster"])
