"""``smrkit cluster init|up|status|down`` and ``smrkit serve``: the real cluster's
processes. Thin: each command calls :mod:`smrkit.net.cluster` or
:mod:`smrkit.net.replica` and turns their errors into one-line user errors."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from smrkit.cli.errors import UserError
from smrkit.cli.options import FiniteNumber, seconds_option
from smrkit.net.auth import SecretError
from smrkit.net.config import (
    DEFAULT_PROTOCOL,
    DELTA_S_DEFAULT,
    PARTIAL_SYNC_DELTA_S_DEFAULT,
    PARTIAL_SYNC_TAU_S_DEFAULT,
    TAU_S_DEFAULT,
    ClusterConfig,
    ConfigError,
    load_config,
)
from smrkit.net.storage import FSYNC_POLICIES, STORAGE_ENGINES
from smrkit.protocols import service_protocols

F = TypeVar("F", bound=Callable[..., Any])


def load(path: Path) -> ClusterConfig:
    """The configuration of ``path`` (a cluster directory or its file), as a user error."""
    try:
        return load_config(path)
    except ConfigError as error:
        raise UserError(str(error)) from None


def cluster_directory(command: F) -> F:
    """The cluster directory, taken the same way by ``init``, ``up``, ``status`` and
    ``down``: as the argument DIR, or as ``--dir DIR`` (the spelling ``init`` had)."""

    @functools.wraps(command)
    def wrapper(*args: Any, directory: Path | None, dir_option: Path | None, **kwargs: Any) -> Any:
        if directory is not None and dir_option is not None and directory != dir_option:
            raise UserError(
                f"two cluster directories, {directory} and --dir {dir_option}", "give one"
            )
        chosen = directory or dir_option
        if chosen is None:
            raise UserError("no cluster directory", "give it as DIR (or --dir DIR)")
        return command(*args, directory=chosen, **kwargs)

    argument = click.argument("directory", type=click.Path(path_type=Path), required=False)
    option = click.option(
        "--dir",
        "dir_option",
        type=click.Path(path_type=Path),
        help="The cluster directory (the same as DIR).",
    )
    return argument(option(wrapper))  # type: ignore[return-value]


@click.group("cluster", invoke_without_command=True)
@click.pass_context
def cluster(ctx: click.Context) -> None:
    """Run a real cluster of replica processes on this machine (127.0.0.1).

    \b
      smrkit cluster init DIR [--protocol raft] [--replicas 3]
      smrkit cluster up DIR        start the replicas; returns once they serve
      smrkit cluster status DIR    each replica: role, incarnation, late messages…
      smrkit cluster down DIR

    Each replica runs under a supervisor: one of a restartable protocol that halts or
    is killed starts again from its disk after a back-off (1 s, doubling).
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


class ClusterProtocol(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2
    """A service protocol's name, or a user protocol ``module.path:ClassName`` (resolved by
    :func:`smrkit.net.cluster.init_cluster`, which says what is wrong with it)."""

    name = "protocol"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if ":" in text or text in service_protocols():
            return text
        self.fail(
            f"{text!r} is not a service protocol; choose from {', '.join(service_protocols())} "
            "or write module.path:ClassName",
            param,
            ctx,
        )

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(n) for n in service_protocols() if n.startswith(incomplete)]


@cluster.command("init")
@cluster_directory
@click.option(
    "--protocol",
    type=ClusterProtocol(),
    default=DEFAULT_PROTOCOL,
    show_default=True,
    help="A registered protocol or your own, module.path:ClassName (imported from the "
    "current directory, as 'smrkit sim' does). A restartable one survives kill -9 and comes "
    "back; pb-crash does not. Raft, the default, stays safe when messages are late; the "
    "primary-backup protocols assume they never are.",
)
@click.option("--replicas", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--app", type=click.Choice(["kv", "counter", "register"]), default="kv")
@click.option("--fsync", type=click.Choice(FSYNC_POLICIES), default="batch", show_default=True)
@click.option(
    "--storage",
    type=click.Choice(STORAGE_ENGINES),
    default="log",
    show_default=True,
    help="How each replica keeps its saves: an append-only log file (a CRC per record, "
    "a torn tail cut off at restart), or SQLite.",
)
@seconds_option(
    "--delta",
    "delta_s",
    default=None,
    help_text="δ, the message delay the protocol assumes, seconds: larger holds on a "
    f"busier machine, smaller fails over sooner. [default: {DELTA_S_DEFAULT:g}; "
    f"{PARTIAL_SYNC_DELTA_S_DEFAULT:g} for raft, whose safety does not rest on it]",
)
@seconds_option(
    "--tau",
    "tau_s",
    default=None,
    help_text=f"τ, the heartbeat period, seconds. [default: {TAU_S_DEFAULT:g}; "
    f"{PARTIAL_SYNC_TAU_S_DEFAULT:g} for raft]",
)
def init(
    protocol: str,
    replicas: int,
    directory: Path,
    app: str,
    fsync: str,
    storage: str,
    delta_s: float | None,
    tau_s: float | None,
) -> None:
    """Write DIR: cluster.json, the cluster secret and the client token."""
    from smrkit.net.cluster import ClusterError, init_cluster

    try:
        config = init_cluster(
            directory,
            protocol=protocol,
            replicas=replicas,
            app=app,
            fsync=fsync,
            storage=storage,
            delta_s=delta_s,
            tau_s=tau_s,
        )
    except (ClusterError, OSError) as error:
        raise UserError(str(error)) from None
    ports = ", ".join(f"{r} {h}:{p}" for r, (h, p) in config.replicas.items())
    click.echo(f"cluster {config.protocol} ({config.app}) in {directory}: {ports}")


@cluster.command("up")
@cluster_directory
@click.option(
    "--fresh",
    is_flag=True,
    help="Wipe the data of earlier runs first (needed to start a crash-stop protocol again).",
)
def up(directory: Path, fresh: bool) -> None:
    """Start the replicas of DIR, each under its supervisor; return once every one serves."""
    from smrkit.net.cluster import ClusterError, up_cluster

    config = load(directory)
    try:
        pids = up_cluster(config, fresh=fresh)
    except (ClusterError, SecretError, OSError) as error:
        raise UserError(str(error)) from None
    listed = ", ".join(f"{r} (pid {pid})" for r, pid in pids.items())
    click.echo(f"serving: {listed}")


def _life_text(life: object, *, now: float) -> str:
    """What the supervisor says of a replica that does not answer."""
    if not isinstance(life, dict):
        return ""
    halts = life.get("halts") or []
    last = halts[-1].get("reason") if halts and isinstance(halts[-1], dict) else None
    text = f" ({last})" if last else ""
    restart_at = life.get("restart_at")
    if life.get("state") == "restarting" and isinstance(restart_at, int | float):
        incarnation = int(life.get("incarnation", 0)) + 1
        text += f"; restarting in {max(0.0, restart_at - now):.1f} s as incarnation {incarnation}"
    elif life.get("state") == "down":
        text += "; not restarted (crash-stop protocol)"
    return text


def _status_line(replica: str, s: dict[str, Any], *, now: float) -> str:
    if not s.get("ok"):
        pid = s.get("pid")
        state = "down" if pid is None else f"pid {pid}, not answering"
        return f"{replica}  {state}{_life_text(s.get('supervisor'), now=now)}"
    stats = s.get("stats", {})
    timing = s.get("timing", {})
    bad = sum(v for k, v in stats.items() if k.startswith("bad_frames"))
    if isinstance(s.get("term"), int):  # a protocol with terms: Raft's role and term
        role = f"{s.get('role', '?'):9}  term {s['term']}"
    else:
        role = f"{'primary' if s.get('is_primary') else 'backup':7}"
    line = (
        f"{replica}  pid {s.get('pid')}  {role}  applied {s.get('applied')}  "
        f"requests {stats.get('requests_in', 0)}  late msgs {timing.get('late_messages', 0)}  "
        f"late timers {timing.get('late_timers', 0)}  bad frames {bad}  "
        f"blocked links {len(s.get('blocked', ()))}  incarnation {s.get('incarnation', 1)}"
    )
    restarts = s.get("restarts", 0)
    if isinstance(restarts, int) and restarts > 0:
        recovered = s.get("recovered")
        details = [f"{restarts} restart{'s' if restarts > 1 else ''}"]
        if s.get("last_halt"):
            details.append(f"last: {s['last_halt']}")
        if isinstance(recovered, dict) and isinstance(recovered.get("term"), int):
            details.append(
                f"recovered term {recovered['term']}, vote {recovered.get('voted_for') or '–'}, "
                f"log up to entry {recovered.get('log_last')} from disk"
            )
        elif isinstance(recovered, dict):
            details.append(f"recovered {recovered.get('applied')} applied from disk")
        line += f" ({'; '.join(details)})"
    return line


@cluster.command("status")
@cluster_directory
@click.option("--json", "as_json", is_flag=True, help="Print the full status as JSON.")
def status(directory: Path, as_json: bool) -> None:
    """Each replica: running or not, primary or not, commands applied, the messages and
    timers that broke the protocol's timing (late msgs, late timers: its guarantees hold
    only while they are 0), bad frames, its incarnation and why the last one ended."""
    import time

    from smrkit.net.cluster import cluster_status

    config = load(directory)
    try:
        statuses = cluster_status(config)
    except SecretError as error:
        raise UserError(str(error)) from None
    if as_json:
        click.echo(json.dumps(statuses, indent=2, default=list))
        return
    now = time.time()
    for replica, s in statuses.items():
        click.echo(_status_line(replica, s, now=now))


@cluster.command("down")
@cluster_directory
def down(directory: Path) -> None:
    """Stop the replicas of DIR and their supervisors (SIGTERM, then SIGKILL after 5 s;
    gives up 2 s later)."""
    from smrkit.net.cluster import ClusterError, down_cluster

    try:
        stopped = down_cluster(load(directory))
    except ClusterError as error:
        raise UserError(str(error)) from None
    click.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


@click.command("serve")
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), required=True, help="cluster.json"
)
@click.option("--id", "node_id", required=True, help="Which replica this is (p1, p2, …).")
@click.option(
    "--start-at",
    type=FiniteNumber(0.0, unit="seconds"),
    required=True,
    help="The cluster's start instant, Unix seconds; the same for every replica.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
@click.option("--incarnation", type=click.IntRange(min=1), default=None, hidden=True)
def serve(
    config_path: Path, node_id: str, start_at: float, verbose: bool, incarnation: int | None
) -> None:
    """Run one replica in the foreground, under its supervisor: a restartable protocol's
    replica that halts or is killed starts again from its disk after a back-off (for a
    replica on its own host)."""
    import logging
    import sys

    config = load(config_path)
    if node_id not in config.replicas:
        raise UserError(
            f"{node_id} is not a replica of {config.path}",
            f"use one of {', '.join(config.servers)}",
        )
    if incarnation is None:
        from smrkit.net.cluster import serve_command
        from smrkit.net.supervisor import Supervisor

        command = serve_command(config, node_id, start_at)
        if verbose:
            command.append("--verbose")
        sys.exit(Supervisor(config, node_id, command).run())

    from smrkit.net.replica import StartError, configure_logging, run_replica
    from smrkit.net.supervisor import EXIT_HALTED

    configure_logging(logging.DEBUG if verbose else logging.INFO)
    try:
        reason = run_replica(config, node_id, start_at, incarnation=incarnation)
    except (StartError, SecretError) as error:
        raise UserError(str(error)) from None
    except OSError as error:
        host, port = config.replicas[node_id]
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    click.echo(f"{node_id}: {reason or 'stopped'}", err=True)
    if reason is not None:
        sys.exit(EXIT_HALTED)
