"""``smrkit cluster init|up|status|down`` and ``smrkit serve``: the real cluster's
processes. Thin: each command calls :mod:`smrkit.net.cluster` or
:mod:`smrkit.net.replica` and turns their errors into one-line user errors."""

from __future__ import annotations

import json
from pathlib import Path

import click

from smrkit.cli.errors import UserError
from smrkit.cli.options import seconds_option
from smrkit.net.auth import SecretError
from smrkit.net.config import ClusterConfig, ConfigError, load_config
from smrkit.net.storage import FSYNC_POLICIES
from smrkit.protocols import service_protocols


def load(path: Path) -> ClusterConfig:
    """The configuration of ``path`` (a cluster directory or its file), as a user error."""
    try:
        return load_config(path)
    except ConfigError as error:
        raise UserError(str(error)) from None


@click.group("cluster")
def cluster() -> None:
    """Run a real cluster of replica processes on this machine (127.0.0.1).

    \b
      smrkit cluster init --protocol pb-crash --replicas 3 --dir DIR
      smrkit cluster up DIR        start the replicas; returns once they serve
      smrkit cluster status DIR
      smrkit cluster down DIR
    """


@cluster.command("init")
@click.option("--protocol", type=click.Choice(service_protocols()), default="pb-crash")
@click.option("--replicas", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--dir", "directory", type=click.Path(path_type=Path), required=True)
@click.option("--app", type=click.Choice(["kv", "counter", "register"]), default="kv")
@click.option("--fsync", type=click.Choice(FSYNC_POLICIES), default="batch", show_default=True)
@seconds_option(
    "--delta",
    "delta_s",
    default=0.25,
    help_text="δ the protocol assumes, seconds (generous: loopback under load).",
)
@seconds_option("--tau", "tau_s", default=0.5, help_text="τ, the heartbeat period, seconds.")
def init(
    protocol: str,
    replicas: int,
    directory: Path,
    app: str,
    fsync: str,
    delta_s: float,
    tau_s: float,
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
            delta_s=delta_s,
            tau_s=tau_s,
        )
    except (ClusterError, OSError) as error:
        raise UserError(str(error)) from None
    ports = ", ".join(f"{r} {h}:{p}" for r, (h, p) in config.replicas.items())
    click.echo(f"cluster {config.protocol} ({config.app}) in {directory}: {ports}")


@cluster.command("up")
@click.argument("directory", type=click.Path(path_type=Path))
def up(directory: Path) -> None:
    """Start the replicas of DIR; return once every one serves."""
    from smrkit.net.cluster import ClusterError, up_cluster

    config = load(directory)
    try:
        pids = up_cluster(config)
    except (ClusterError, SecretError, OSError) as error:
        raise UserError(str(error)) from None
    listed = ", ".join(f"{r} (pid {pid})" for r, pid in pids.items())
    click.echo(f"serving: {listed}")


@cluster.command("status")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full status as JSON.")
def status(directory: Path, as_json: bool) -> None:
    """Each replica: running or not, primary or not, commands applied, faults counted."""
    from smrkit.net.cluster import cluster_status

    config = load(directory)
    try:
        statuses = cluster_status(config)
    except SecretError as error:
        raise UserError(str(error)) from None
    if as_json:
        click.echo(json.dumps(statuses, indent=2, default=list))
        return
    for replica, s in statuses.items():
        if not s.get("ok"):
            pid = s.get("pid")
            state = "down" if pid is None else f"pid {pid}, not answering"
            click.echo(f"{replica}  {state}")
            continue
        stats = s.get("stats", {})
        assert isinstance(stats, dict)
        bad = sum(v for k, v in stats.items() if k.startswith("bad_frames"))
        role = "primary" if s.get("is_primary") else "backup"
        recovered = s.get("recovered")
        restarted = (
            f"  restarted (recovered {recovered.get('applied')} applied from disk)"
            if isinstance(recovered, dict)
            else ""
        )
        halts = s.get("incarnation", 1)
        if isinstance(halts, int) and halts > 1:
            restarted += f" after {halts - 1} halt{'s' if halts > 2 else ''}"
        click.echo(
            f"{replica}  pid {s.get('pid')}  {role:7}  applied {s.get('applied')}  "
            f"requests {stats.get('requests_in', 0)}  late msgs {stats.get('late_messages', 0)}  "
            f"bad frames {bad}  blocked links {len(s.get('blocked', ()))}"  # type: ignore[arg-type]
            f"{restarted}"
        )


@cluster.command("down")
@click.argument("directory", type=click.Path(path_type=Path))
def down(directory: Path) -> None:
    """Stop the replicas of DIR (SIGTERM, then SIGKILL after 5 s; gives up 2 s later)."""
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
    type=float,
    required=True,
    help="The cluster's start instant, Unix seconds; the same for every replica.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def serve(config_path: Path, node_id: str, start_at: float, verbose: bool) -> None:
    """Run one replica in the foreground (for a replica on its own host)."""
    import logging

    from smrkit.net.replica import StartError, configure_logging, run_replica

    config = load(config_path)
    if node_id not in config.replicas:
        raise UserError(
            f"{node_id} is not a replica of {config.path}",
            f"use one of {', '.join(config.servers)}",
        )
    configure_logging(logging.DEBUG if verbose else logging.INFO)
    try:
        reason = run_replica(config, node_id, start_at)
    except (StartError, SecretError) as error:
        raise UserError(str(error)) from None
    except OSError as error:
        host, port = config.replicas[node_id]
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    click.echo(f"{node_id}: {reason}", err=True)
