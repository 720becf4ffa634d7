"""A real cluster on 127.0.0.1 for the tests, stopped (SIGTERM, then SIGKILL) whatever
the test did."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from smrkit.cli.main import main
from smrkit.net.cluster import (
    down_cluster,
    init_cluster,
    replica_pid,
    supervisor_pid,
    up_cluster,
)
from smrkit.net.config import ClusterConfig
from smrkit.net.frames import ROLE_CLIENT, Channel, connect


@contextlib.contextmanager
def running_cluster(
    directory: Path,
    protocol: str = "pb-crash",
    limits: dict[str, int] | None = None,
    **options: object,
) -> Iterator[ClusterConfig]:
    """``limits`` replace runtime limits of ``cluster.json`` (``sessions_max``, …)."""
    config = init_cluster(directory, protocol=protocol, replicas=3, **options)  # type: ignore[arg-type]
    if limits:
        config = dataclasses.replace(config, **limits)  # type: ignore[arg-type]
        config.write()
    pids: dict[str, int] = {}
    try:
        pids = up_cluster(config)
        yield config
    finally:
        for replica in config.servers:  # restarted ones and the supervisors too
            if (pid := replica_pid(config, replica)) is not None:
                pids.setdefault(f"{replica}/last", pid)
            if (pid := supervisor_pid(config, replica)) is not None:
                pids.setdefault(f"{replica}/supervisor", pid)
        down_cluster(config, timeout_s=3.0)
        for pid in pids.values():  # anything down_cluster could not see
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        assert all(replica_pid(config, r) is None for r in config.servers)
        assert all(supervisor_pid(config, r) is None for r in config.servers)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``smrkit ARGV`` in-process: its exit status, stdout and stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


async def client_channel(config: ClusterConfig, replica: str) -> Channel:
    """A raw client connection to ``replica``: what the client library is built on, for
    a test that sends requests by hand."""
    return await connect(
        *config.replicas[replica],
        config.token(),
        role=ROLE_CLIENT,
        node_id=None,
        frame_bytes_max=config.frame_bytes_max,
        timeout_s=2.0,
    )
