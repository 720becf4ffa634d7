"""A cluster of local replica processes: ``init``, ``up``, ``status``, ``down``.

``init`` writes a directory: ``cluster.json`` (:mod:`smrkit.net.config`), the cluster
secret and the client token (mode 600), with a free port on 127.0.0.1 for each replica
(found by binding port 0, all at once so no two collide). ``up`` starts one
``smrkit serve`` process per replica — its supervisor (:mod:`smrkit.net.supervisor`),
which runs the replica's incarnations as child processes and restarts a halted or
killed one of a restartable protocol — detached in its own session with its output in
``logs/``, the pids in ``run/``, and a common start instant a little in the future; it
returns once every replica serves, and stops them all if any does not. ``up`` refuses a
crash-stop protocol's data of an earlier run (it cannot recover it; starting would
silently serve an empty store) unless ``fresh``, which wipes it. ``down`` sends SIGTERM
to the supervisors and replicas, then SIGKILL to what is still running after
``STOP_TIMEOUT_S``, and gives up (naming the survivors) ``KILL_TIMEOUT_S`` later: it
never hangs.

The start instant is kept in ``run/start-at``. ``restart`` brings one replica back with
it (only for a ``restartable`` protocol: it recovers from what it saved and rejoins),
cutting its supervisor's back-off short; ``up`` of a restartable cluster that has run
before reuses it too, so the rounds, and the epochs numbered after them, keep growing
across ``down``/``up``.

A pid file is only trusted if ``/proc`` says the process is our ``smrkit serve`` of
this replica: a stale pid reused by another program is never signalled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from smrkit.core.ids import server_ids
from smrkit.net import auth
from smrkit.net.admin import status_all
from smrkit.net.config import (
    CONFIG_NAME,
    ClusterConfig,
    ConfigError,
    protocol_spec,
    timing_defaults,
    validate_config,
)
from smrkit.net.files import open_private, open_private_binary, private_dir
from smrkit.net.storage import STORAGE_FILES
from smrkit.net.supervisor import (
    halt_path,
    life_path,
    pid_path,
    read_life,
    supervisor_pid_path,
)
from smrkit.protocols.registry import get_protocol, restartable_protocols

HOST = "127.0.0.1"
UP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
KILL_TIMEOUT_S = 2.0
SUPERVISOR_SETTLE_S = 2.0
"""How long ``restart`` waits for a supervisor to notice that its replica ended."""
START_DELAY_S = 3.0
"""How far in the future ``up`` puts the start instant: a replica process boots in
~0.3 s, but in several seconds on a loaded machine, and one that misses the instant
refuses to run."""


class ClusterError(RuntimeError):
    """A cluster operation that cannot be done; the message says why and what to do."""


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct ports free on ``host`` right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def init_cluster(
    directory: Path,
    *,
    protocol: str,
    replicas: int,
    app: str = "kv",
    fsync: str = "batch",
    storage: str = "log",
    delta_s: float | None = None,
    tau_s: float | None = None,
) -> ClusterConfig:
    """Create a cluster directory; refuses to overwrite one. δ and τ not given are the
    protocol's defaults (:func:`smrkit.net.config.timing_defaults`)."""
    config_path = directory / CONFIG_NAME
    if config_path.exists():
        raise ClusterError(f"{config_path} exists; pick another --dir or remove it")
    try:
        spec = protocol_spec(protocol)
    except ConfigError as error:
        raise ClusterError(str(error)) from None
    if not spec.serves_clients:
        raise ClusterError(
            f"{protocol} decides values, it does not serve clients; a cluster runs a "
            "replicated service (see 'smrkit cluster init --help')"
        )
    directory.mkdir(parents=True, exist_ok=True)
    nodes = (*server_ids(replicas), *spec.auxiliary(replicas))
    ports = free_ports(len(nodes))
    delta_default, tau_default = timing_defaults(protocol)
    config = ClusterConfig(
        protocol=protocol,
        app=app,
        replicas={r: (HOST, port) for r, port in zip(nodes, ports, strict=True)},
        delta_s=delta_default if delta_s is None else delta_s,
        tau_s=tau_default if tau_s is None else tau_s,
        fsync=fsync,
        storage=storage,
        protocol_path=os.getcwd() if ":" in protocol else None,
        path=config_path,
    )
    try:
        validate_config(config)
    except ConfigError as error:
        raise ClusterError(str(error)) from None
    auth.write_secret(directory / config.secret_file, auth.new_secret())
    auth.write_secret(directory / config.token_file, auth.new_secret())
    config.write()
    return config


# --- processes ------------------------------------------------------------------------


def log_path(config: ClusterConfig, replica: str) -> Path:
    return config.base / "logs" / f"{replica}.log"


def _our_process(config: ClusterConfig, path: Path, replica: str, *, child: bool) -> int | None:
    """The pid in ``path`` if ``/proc`` says it is our ``smrkit serve`` of ``replica``:
    an incarnation (``child``, its command line has ``--incarnation``) or its supervisor."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        if not Path("/proc/self").exists():  # no /proc: trust a live pid
            return pid if _alive(pid) else None
        return None
    wanted = [b"serve", str(config.path.resolve()).encode(), replica.encode()]
    if all(part in cmdline for part in wanted) and (b"--incarnation" in cmdline) == child:
        return pid if _alive(pid) else None
    return None


def replica_pid(config: ClusterConfig, replica: str) -> int | None:
    """The pid of this replica's live incarnation (the process the nemesis kills)."""
    return _our_process(config, pid_path(config, replica), replica, child=True)


def supervisor_pid(config: ClusterConfig, replica: str) -> int | None:
    """The pid of this replica's live supervisor (:mod:`smrkit.net.supervisor`)."""
    return _our_process(config, supervisor_pid_path(config, replica), replica, child=False)


def start_at_path(config: ClusterConfig) -> Path:
    return config.base / "run" / "start-at"


def saved_start_at(config: ClusterConfig) -> float | None:
    """The start instant of the cluster's last ``up``, if it has been up."""
    try:
        return float(start_at_path(config).read_text().strip())
    except (OSError, ValueError):
        return None


def _has_saved_state(config: ClusterConfig) -> bool:
    return any(
        (config.data_path(r) / name).exists()
        for r in config.servers
        for name in STORAGE_FILES.values()
    )


def blocked_path(config: ClusterConfig) -> Path:
    """The links the nemesis blocks now (until ``heal``), for replicas that start later."""
    return config.base / "run" / "nemesis.json"


def saved_blocks(config: ClusterConfig) -> set[tuple[str, str]]:
    """The links in :func:`blocked_path` (none if it is missing or unreadable)."""
    try:
        links = json.loads(blocked_path(config).read_text())
        return {(str(a), str(b)) for a, b in links}
    except (OSError, ValueError, TypeError):
        return set()


def wipe(config: ClusterConfig) -> None:
    """Forget everything a run left: the replicas' data, the start instant, the
    supervisors' records (``up --fresh``). The configuration and secrets stay."""
    for replica in config.servers:
        shutil.rmtree(config.data_path(replica), ignore_errors=True)
        for path in (life_path(config, replica), halt_path(config, replica)):
            path.unlink(missing_ok=True)
    start_at_path(config).unlink(missing_ok=True)
    blocked_path(config).unlink(missing_ok=True)


def serve_command(config: ClusterConfig, replica: str, start_at: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "smrkit",
        "serve",
        "--config",
        str(config.path.resolve()),
        "--id",
        replica,
        "--start-at",
        repr(start_at),
    ]


def up_cluster(
    config: ClusterConfig,
    *,
    timeout_s: float = UP_TIMEOUT_S,
    start_delay_s: float = START_DELAY_S,
    fresh: bool = False,
) -> dict[str, int]:
    """Start every replica under its supervisor; return the replicas' pids once all
    serve. A crash-stop protocol cannot recover what an earlier run saved: unless
    ``fresh`` (which wipes it first), its data refuses the start instead of being
    silently replaced by an empty store."""
    running = [
        r
        for r in config.servers
        if replica_pid(config, r) is not None or supervisor_pid(config, r) is not None
    ]
    if running:
        raise ClusterError(
            f"{', '.join(running)} already running; run 'smrkit cluster down {config.base}' first"
        )
    restartable = get_protocol(config.protocol).restartable
    if fresh:
        wipe(config)
    elif not restartable and _has_saved_state(config):
        raise ClusterError(
            f"{config.base} holds the data of an earlier run, and {config.protocol} is "
            "crash-stop: it cannot recover it and would start with an empty store; "
            f"run 'smrkit cluster up --fresh {config.base}' to wipe it and start over"
        )
    config.secret()  # fail here, not in each process, if a secret is unreadable
    config.token()
    private_dir(config.base / "run")
    private_dir(config.base / "logs")
    start_at = saved_start_at(config)
    if start_at is None or not (restartable and _has_saved_state(config)):
        start_at = time.time() + start_delay_s + 0.1 * len(config.servers)
        with open_private(start_at_path(config)) as handle:
            handle.write(f"{start_at!r}\n")
    for replica in config.servers:  # a new cluster: incarnations count from 1 again
        life_path(config, replica).unlink(missing_ok=True)
    blocked_path(config).unlink(missing_ok=True)  # and its links are whole
    supervisors: dict[str, int] = {}
    try:
        for replica in config.servers:
            supervisors[replica] = _spawn(config, replica, start_at)
        _wait_serving(config, supervisors, max(start_at, time.time()) + timeout_s)
    except BaseException:
        for pid in supervisors.values():
            _signal(pid, signal.SIGKILL)
        raise
    return {r: replica_pid(config, r) or 0 for r in config.servers}


def _spawn(config: ClusterConfig, replica: str, start_at: float) -> int:
    """Start one replica's supervisor (``smrkit serve``), detached in its own session;
    returns its pid."""
    pid_path(config, replica).unlink(missing_ok=True)
    with open_private_binary(log_path(config, replica)) as log_file:
        process = subprocess.Popen(
            serve_command(config, replica, start_at),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with open_private(supervisor_pid_path(config, replica)) as handle:
        handle.write(f"{process.pid}\n")
    return process.pid


def restart_replica(config: ClusterConfig, replica: str, *, timeout_s: float = UP_TIMEOUT_S) -> int:
    """Bring back one replica that was killed or halted, with the cluster's start
    instant; return its pid once it serves. Only for a restartable protocol. Its
    supervisor, if alive, is told to cut its back-off short; if the supervisor has
    already restarted it, that incarnation's pid is returned; one that never stopped
    is an error ("still running")."""
    if replica not in config.replicas:
        raise ClusterError(
            f"unknown replica {replica}; the replicas are {', '.join(config.servers)}"
        )
    spec = get_protocol(config.protocol)
    if not spec.restartable:
        raise ClusterError(
            f"{config.protocol} is crash-stop: a killed replica does not come back; "
            f"use a restartable protocol ({', '.join(restartable_protocols())}) "
            "or start a new cluster"
        )
    pid = replica_pid(config, replica)
    if pid is not None:
        life = read_life(config, replica) or {}
        if int(life.get("restarts", 0)) > 0:
            return pid  # its supervisor was quicker
        raise ClusterError(
            f"{replica} is still running (pid {pid}); kill it first "
            f"('smrkit nemesis --cluster {config.base} kill {replica}')"
        )
    start_at = saved_start_at(config)
    if start_at is None:
        raise ClusterError(
            f"{config.base} has not been up; run 'smrkit cluster up {config.base}' first"
        )
    config.secret()
    config.token()
    private_dir(config.base / "logs")
    supervisor = supervisor_pid(config, replica)
    started = supervisor is None
    if supervisor is None:
        supervisor = _spawn(config, replica, start_at)
    else:
        # Until the supervisor has seen the end of the last incarnation (a kill a
        # moment ago), its record still says "running": wait for it to say more.
        settle_by = time.monotonic() + SUPERVISOR_SETTLE_S
        while (read_life(config, replica) or {}).get("state") == "running":
            if time.monotonic() > settle_by or replica_pid(config, replica) is not None:
                break
            time.sleep(0.02)
        with contextlib.suppress(OSError):
            os.kill(supervisor, signal.SIGUSR1)
    try:
        _wait_serving(config, {replica: supervisor}, time.time() + timeout_s)
    except BaseException:
        if started:
            _signal(supervisor, signal.SIGKILL)
        raise
    pid = replica_pid(config, replica)
    if pid is None:
        raise ClusterError(f"{replica} stopped again at once; see {log_path(config, replica)}")
    return pid


def _halts(config: ClusterConfig, replica: str) -> int:
    return len((read_life(config, replica) or {}).get("halts", []))


def _wait_serving(config: ClusterConfig, supervisors: dict[str, int], deadline: float) -> None:
    """Wait until every replica of ``supervisors`` (replica → its supervisor's pid)
    serves; an incarnation that ends meanwhile, or a supervisor that exits, is an error
    that says why (the supervisor's record, the log's last line)."""
    secret = config.secret()
    halts = {replica: _halts(config, replica) for replica in supervisors}
    while True:
        for replica, pid in supervisors.items():
            ended = (read_life(config, replica) or {}).get("halts", [])[halts[replica] :]
            if ended or not _alive(pid):
                why = f" ({ended[-1].get('reason')})" if ended else ""
                tail = _log_tail(config, replica)
                raise ClusterError(f"{replica} exited during start-up{why}: {tail}")
        statuses = asyncio.run(status_all(config, secret, only=list(supervisors)))
        if all(s.get("ok") and s.get("serving") for s in statuses.values()):
            return
        if time.time() > deadline:
            waiting = [r for r, s in statuses.items() if not (s.get("ok") and s.get("serving"))]
            raise ClusterError(
                f"{', '.join(waiting)} not serving after the time-out; see {config.base / 'logs'}"
            )
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: ask the kernel
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return True
        return stat.rpartition(")")[2].split()[:1] != ["Z"]
    return finished == 0


def _signal(pid: int, sig: int) -> None:
    """Signal a replica and whatever it started (it leads its own process group)."""
    with contextlib.suppress(OSError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
            return
    with contextlib.suppress(OSError):
        os.kill(pid, sig)


def _wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """Wait up to ``timeout_s`` for ``pids`` to end; returns those still alive."""
    deadline = time.monotonic() + timeout_s
    alive = [pid for pid in pids if _alive(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [pid for pid in alive if _alive(pid)]
    return alive


def _log_tail(config: ClusterConfig, replica: str) -> str:
    try:
        lines = log_path(config, replica).read_text().strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "empty log"


def down_cluster(config: ClusterConfig, *, timeout_s: float = STOP_TIMEOUT_S) -> list[str]:
    """Stop every running replica and its supervisor: SIGTERM, then SIGKILL to what
    still runs after ``timeout_s``, then at most ``KILL_TIMEOUT_S`` more. Returns the
    replicas that were running; raises :class:`ClusterError` naming any that survived
    SIGKILL."""
    pids: dict[str, list[int]] = {}
    for replica in config.servers:
        found = [supervisor_pid(config, replica), replica_pid(config, replica)]
        if any(pid is not None for pid in found):
            pids[replica] = [pid for pid in found if pid is not None]
    every = [pid for group in pids.values() for pid in group]
    for pid in every:
        _signal(pid, signal.SIGTERM)
    stubborn = _wait_gone(every, timeout_s)
    for pid in stubborn:
        _signal(pid, signal.SIGKILL)
    survivors = _wait_gone(stubborn, KILL_TIMEOUT_S)
    for replica in config.servers:
        if not any(pid in survivors for pid in pids.get(replica, ())):
            for path in (pid_path(config, replica), supervisor_pid_path(config, replica)):
                with contextlib.suppress(OSError):
                    path.unlink()
    if survivors:
        named = ", ".join(
            f"{r} (pid {p})" for r, group in pids.items() for p in group if p in survivors
        )
        raise ClusterError(f"{named} still running after SIGKILL; check 'ps' for them")
    return list(pids)


def cluster_status(config: ClusterConfig) -> dict[str, dict[str, object]]:
    """For each replica: its pid (or ``None``) and what its admin endpoint says."""
    answers = asyncio.run(status_all(config))
    result: dict[str, dict[str, object]] = {}
    for replica in config.servers:
        result[replica] = {
            "pid": replica_pid(config, replica),
            **answers[replica],
            "supervisor": read_life(config, replica),
        }
    return result
