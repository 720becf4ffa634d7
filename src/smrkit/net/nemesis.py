"""Faults on demand against a running cluster (the Jepsen *nemesis*).

* ``kill`` — SIGKILL the replica's process (no chance to flush or say goodbye);
* ``partition`` — split the replicas into the named group and the rest: every link
  between the two sides drops its messages, both ways;
* ``omit`` — one directed link ``p1->p2`` drops p1's messages to p2 (a send omission
  of p1 towards p2, or a receive omission of p2 from p1); one end may be a client id
  (``p1->c42``, ``c42->p1``: p1's omissions towards that client session);
* ``heal`` — every link carries messages again.

Link faults are applied by the replicas themselves, told through their authenticated
admin endpoints: each replica drops what it would send on, or receive from, a blocked
link. Clients are not partitioned. The links in force are also kept in
``run/nemesis.json`` (:func:`smrkit.net.cluster.blocked_path`), which a replica reads
when it starts: a partition outlives the incarnations that a supervisor restarts
meanwhile, as a network fault outlives a process.

A killed replica of a ``restartable`` protocol is started again by its supervisor
(:mod:`smrkit.net.supervisor`); ``restart`` (:func:`smrkit.net.cluster.restart_replica`)
cuts the supervisor's back-off short. A crash-stop one's killed replica stays down
(see :mod:`smrkit.net.replica`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal

from smrkit.core.ids import is_client
from smrkit.net.admin import AdminError, admin_call
from smrkit.net.cluster import ClusterError, blocked_path, replica_pid
from smrkit.net.config import ClusterConfig
from smrkit.net.files import open_private, private_dir

Link = tuple[str, str]


class NemesisError(ValueError):
    """A fault that cannot be injected (unknown replica, bad link spec, …)."""


def _check(config: ClusterConfig, replicas: list[str]) -> None:
    unknown = [r for r in replicas if r not in config.replicas]
    if unknown:
        raise NemesisError(
            f"unknown replica {', '.join(unknown)}; the replicas are {', '.join(config.servers)}"
        )


def kill(config: ClusterConfig, replica: str) -> int:
    """SIGKILL one replica; returns its pid."""
    _check(config, [replica])
    pid = replica_pid(config, replica)
    if pid is None:
        raise ClusterError(f"{replica} is not running")
    os.kill(pid, signal.SIGKILL)
    return pid


def partition_links(config: ClusterConfig, group: list[str]) -> set[Link]:
    _check(config, group)
    rest = [r for r in config.servers if r not in group]
    if not rest or not group:
        raise NemesisError("a partition needs replicas on both sides")
    links = {(a, b) for a in group for b in rest}
    return links | {(b, a) for a, b in links}


def parse_link(text: str, config: ClusterConfig) -> Link:
    """``SRC->DST`` between two replicas, or between a replica and a client id (a
    replica's omissions towards one client session: ``p1->c42`` drops its replies,
    ``c42->p1`` its requests to p1)."""
    src, sep, dst = text.partition("->")
    if not sep or not src or not dst or src == dst:
        raise NemesisError(f"bad link {text!r}; write SRC->DST, e.g. p1->p2")
    _check(config, [end for end in (src, dst) if not is_client(end)] or [src])
    return src, dst


def _save_blocks(config: ClusterConfig, links: set[Link]) -> None:
    path = blocked_path(config)
    if not links:
        path.unlink(missing_ok=True)
        return
    private_dir(path.parent)
    with open_private(path) as handle:
        handle.write(json.dumps(sorted(links)) + "\n")


async def _tell_all(config: ClusterConfig, request: dict[str, object]) -> dict[str, str]:
    """Send ``request`` to every replica; returns the ones that could not be told."""
    secret = config.secret()

    async def one(replica: str) -> str | None:
        try:
            await admin_call(config, replica, request, secret=secret)
        except AdminError as error:
            return str(error)
        return None

    answers = await asyncio.gather(*(one(r) for r in config.servers))
    return {r: a for r, a in zip(config.servers, answers, strict=True) if a is not None}


async def current_blocks(config: ClusterConfig) -> set[Link]:
    secret = config.secret()
    for replica in config.servers:
        try:
            answer = await admin_call(config, replica, {"cmd": "status"}, secret=secret)
        except AdminError:
            continue
        return {(str(a), str(b)) for a, b in answer.get("blocked", ())}
    return set()


async def block(config: ClusterConfig, links: set[Link], *, add: bool = False) -> dict[str, str]:
    """Make every replica drop the messages of ``links`` (added to the present ones with
    ``add``); returns the replicas that could not be told and why."""
    if add:
        links = links | await current_blocks(config)
    request: dict[str, object] = {"cmd": "block", "links": sorted(links)}
    failed = await _tell_all(config, request)
    if len(failed) < len(config.servers):
        _save_blocks(config, links)
    return failed


async def heal(config: ClusterConfig) -> dict[str, str]:
    failed = await _tell_all(config, {"cmd": "heal"})
    _save_blocks(config, set())
    return failed
