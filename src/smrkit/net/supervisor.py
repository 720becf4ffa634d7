"""The supervisor of one replica: each incarnation of the replica is a child process,
and a new one starts after a back-off when the last one halted or was killed.

Why a separate process: ``kill -9`` of a replica must not take its supervisor with it
(a supervisor inside the replica's process dies with it, and a killed replica then
stays down for good), and a new incarnation must really start from its disk, with
nothing carried over in memory. This is what systemd's ``Restart=on-failure`` does
for a service; here it is built in so that ``smrkit cluster up`` heals by itself.

The loop, for a ``restartable`` protocol (one whose replica rebuilds itself from what
it saved, ``out.saved``): start incarnation k; when it ends — it halted (the protocol's
translation of an omission into a crash, exit code :data:`EXIT_HALTED`, the reason in
``run/<id>.halt``), was killed by a signal, or failed — record why, wait a back-off of
``RESTART_S_MIN`` doubling to ``RESTART_S_MAX`` while incarnations keep ending within
``RESTART_CALM_S`` of their start (a crash loop must not spin), then start incarnation
k + 1. ``SIGUSR1`` cuts a back-off short (``smrkit nemesis restart``). ``SIGTERM`` or
``SIGINT`` stops the child and the supervisor. A crash-stop protocol's replica is never
restarted (one that came back would be a second primary): the supervisor records why
it ended and exits with its code.

What the supervisor knows is in ``run/<id>.life.json`` (:func:`read_life`): the
incarnation, the number of restarts, the last halts and their reasons, and whether a
restart is pending; the replica's own status repeats it, and ``cluster status`` shows
it even while the replica is down. ``run/<id>.pid`` always names the current
incarnation's process (the one the nemesis kills).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from smrkit.net.config import ClusterConfig
from smrkit.net.files import open_private, private_dir
from smrkit.protocols.registry import get_protocol

RESTART_S_MIN = 1.0
RESTART_S_MAX = 30.0
RESTART_CALM_S = 10.0
"""An incarnation that ran this long before it ended restarts after the shortest
back-off again: a kill after minutes of service is not a crash loop."""
EXIT_HALTED = 3
"""The exit code of an incarnation whose protocol halted it."""
HALTS_KEPT = 10
"""The last halts (and kills) the life record keeps, with their reasons."""
STOP_TIMEOUT_S = 4.0
"""How long a stopping supervisor waits for its child before it kills it."""


def run_dir(config: ClusterConfig) -> Path:
    return config.base / "run"


def pid_path(config: ClusterConfig, replica: str) -> Path:
    """The pid of the replica's current incarnation."""
    return run_dir(config) / f"{replica}.pid"


def supervisor_pid_path(config: ClusterConfig, replica: str) -> Path:
    return run_dir(config) / f"{replica}.supervisor.pid"


def life_path(config: ClusterConfig, replica: str) -> Path:
    return run_dir(config) / f"{replica}.life.json"


def halt_path(config: ClusterConfig, replica: str) -> Path:
    """Where an incarnation that halts writes why, for its supervisor."""
    return run_dir(config) / f"{replica}.halt"


def read_life(config: ClusterConfig, replica: str) -> dict[str, Any] | None:
    """The supervisor's record of ``replica`` (``None`` if it never ran supervised)."""
    try:
        data = json.loads(life_path(config, replica).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically: a reader sees the old text or the new, never half."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with open_private(temporary) as handle:
        handle.write(text)
    os.replace(temporary, path)


def exit_reason(code: int, halt_reason: str | None) -> str:
    """Why an incarnation ended, from its exit code (negative: the signal)."""
    if code == EXIT_HALTED and halt_reason:
        return f"halted: {halt_reason}"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exited with code {code}"


class Supervisor:
    """Runs the incarnations of one replica; see the module's docstring."""

    def __init__(self, config: ClusterConfig, replica: str, command: Sequence[str]) -> None:
        self.config = config
        self.replica = replica
        self.command = list(command)
        """The incarnation's command, without ``--incarnation N`` (appended here)."""
        self.restartable = get_protocol(config.protocol).restartable
        earlier = read_life(config, replica) or {}
        self.incarnation = int(earlier.get("incarnation", 0))
        self.restarts = int(earlier.get("restarts", 0))
        self.halts: list[dict[str, Any]] = list(earlier.get("halts", []))[-HALTS_KEPT:]
        self._wake = threading.Event()
        self._stopping = False
        self._skip_backoff = False

    # --- signals -------------------------------------------------------------------------

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True
        self._wake.set()

    def _on_restart_now(self, signum: int, frame: FrameType | None) -> None:
        self._skip_backoff = True
        self._wake.set()

    def _on_child(self, signum: int, frame: FrameType | None) -> None:
        self._wake.set()

    # --- the record ----------------------------------------------------------------------

    def _record(self, state: str, child: int | None, restart_at: float | None = None) -> None:
        life = {
            "replica": self.replica,
            "supervisor_pid": os.getpid(),
            "state": state,
            "pid": child,
            "incarnation": self.incarnation,
            "restarts": self.restarts,
            "halts": self.halts[-HALTS_KEPT:],
            "restart_at": restart_at,
            "restartable": self.restartable,
        }
        _write_private(life_path(self.config, self.replica), json.dumps(life) + "\n")

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> int:
        """Supervise until stopped; returns the exit code for the supervisor's process."""
        private_dir(run_dir(self.config))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_stop)
        signal.signal(signal.SIGUSR1, self._on_restart_now)
        signal.signal(signal.SIGCHLD, self._on_child)
        backoff = RESTART_S_MIN
        while True:
            if self.incarnation > 0:
                self.restarts += 1
            self.incarnation += 1
            began = time.monotonic()
            code = self._run_incarnation()
            if self._stopping or code == 0:
                self._record("stopped", None)
                return code if code > 0 else 0
            with_reason = exit_reason(code, self._take_halt_reason())
            self.halts.append({"at": time.time(), "reason": with_reason})
            if not self.restartable:
                self._record("down", None)
                return code if code > 0 else 1
            if time.monotonic() - began >= RESTART_CALM_S:
                backoff = RESTART_S_MIN
            if not self._back_off(backoff):
                self._record("stopped", None)
                return 0
            backoff = min(RESTART_S_MAX, 2 * backoff)

    def _run_incarnation(self) -> int:
        halt_path(self.config, self.replica).unlink(missing_ok=True)
        child = subprocess.Popen(
            [*self.command, "--incarnation", str(self.incarnation)], stdin=subprocess.DEVNULL
        )
        _write_private(pid_path(self.config, self.replica), f"{child.pid}\n")
        self._record("running", child.pid)
        stop_sent_at: float | None = None
        while True:
            code = child.poll()
            if code is not None:
                return code
            if self._stopping:
                if stop_sent_at is None:
                    stop_sent_at = time.monotonic()
                    child.terminate()
                elif time.monotonic() - stop_sent_at > STOP_TIMEOUT_S:
                    child.kill()
            self._wake.wait(1.0)
            self._wake.clear()

    def _take_halt_reason(self) -> str | None:
        path = halt_path(self.config, self.replica)
        try:
            reason = path.read_text().strip()
        except OSError:
            return None
        path.unlink(missing_ok=True)
        return reason or None

    def _back_off(self, seconds: float) -> bool:
        """Wait ``seconds`` (less if told ``SIGUSR1``); ``False`` if told to stop."""
        restart_at = time.time() + seconds
        self._record("restarting", None, restart_at)
        self._skip_backoff = False
        deadline = time.monotonic() + seconds
        while not self._stopping and not self._skip_backoff:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._wake.wait(left)
            self._wake.clear()
        return not self._stopping
