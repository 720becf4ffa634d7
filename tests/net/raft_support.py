"""Helpers for the tests of Raft on a real cluster: waiting for a leader, and reading
back what a replica saved to its SQLite file exactly as a restart of it would."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from smrkit.core.node import Out
from smrkit.net.admin import status_all
from smrkit.net.codec import decode
from smrkit.net.config import ClusterConfig
from smrkit.net.log_storage import read_saved
from smrkit.net.storage import STORAGE_FILES
from smrkit.protocols.raft import RaftNode
from smrkit.protocols.registry import ProtocolConfig, get_protocol

DEADLINE_S = 30.0


def statuses(config: ClusterConfig) -> dict[str, Any]:
    return asyncio.run(status_all(config))


def until(config: ClusterConfig, what: str, check: Callable[[dict[str, Any]], Any]) -> Any:
    """Poll the replicas' status until ``check`` returns something truthy; return it."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = check(statuses(config))
        if found:
            return found
        assert time.monotonic() < deadline, f"not within {DEADLINE_S} s: {what}"
        time.sleep(0.03)


def leader_of(replicas: list[str]) -> Callable[[dict[str, Any]], tuple[str, int] | None]:
    """A check for :func:`until`: the leader among ``replicas`` and its term, once one of
    them leads and the others that answer follow it in that term."""

    def check(found: dict[str, Any]) -> tuple[str, int] | None:
        live = {r: found[r] for r in replicas if found[r].get("ok") and found[r]["serving"]}
        leaders = [r for r, s in live.items() if s["role"] == "leader"]
        if len(leaders) != 1 or len(live) < len(replicas):
            return None
        term = live[leaders[0]]["term"]
        if all(s["term"] == term and s["leader"] == leaders[0] for s in live.values()):
            return leaders[0], term
        return None

    return check


def saved_state(config: ClusterConfig, replica: str) -> RaftNode:
    """What ``replica`` saved, read from its storage file (read-only, while its process
    may be dead or restarting) and recovered by a fresh Raft node, as a restart does."""
    path = config.data_path(replica) / STORAGE_FILES[config.storage]
    if config.storage == "log":
        saved = read_saved(path)
    else:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT key, value FROM saved")
            saved = {key: decode(value) for key, value in rows}
        finally:
            db.close()
    nodes = get_protocol("raft").build(
        ProtocolConfig(servers=config.servers, clients=(), app=config.app, delta_s=1, tau_s=1)
    )
    node = next(n for n in nodes if n.id == replica)
    assert isinstance(node, RaftNode)
    node.on_start(Out(random.Random(0), saved))
    return node
