"""SQLite storage: what was written and synced is there after reopening the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from smrkit.core.node import DELETED
from smrkit.core.ops import Command, Op
from smrkit.net.storage import SqliteStorage


@pytest.mark.parametrize("fsync", ["always", "batch", "never"])
def test_saves_survive_a_reopen(tmp_path: Path, fsync: str) -> None:
    path = tmp_path / "state.sqlite"
    store = SqliteStorage(path, fsync)
    command = Command("c1", 2, Op("append", "k", "x"))
    store.write([("view", 3), ("log/1", command)])
    store.write([("view", 4)])
    store.sync()
    store.close()
    again = SqliteStorage(path, fsync)
    assert again.load() == {"view": 4, "log/1": command}
    again.close()


def test_batch_commits_once_per_sync_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = SqliteStorage(path, "batch")
    for i in range(10):
        store.write([(f"k{i}", i)])
    assert store.commits == 0
    store.sync()
    assert store.commits == 1
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.close()


def test_unsynced_batch_writes_are_not_visible_to_another_reader(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = SqliteStorage(path, "batch")
    store.write([("k", 1)])
    assert SqliteStorage(path, "batch").load() == {}
    store.sync()
    assert SqliteStorage(path, "batch").load() == {"k": 1}
    store.close()


def test_an_unknown_policy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fsync policy"):
        SqliteStorage(tmp_path / "x.sqlite", "sometimes")


def test_a_saved_log_entry_comes_back_as_the_protocol_saved_it(tmp_path: Path) -> None:
    """The omission protocols save ``entry/<i>`` as ``(epoch, Command)`` and their
    recovery requires a ``Command`` back, not a list of its fields."""
    path = tmp_path / "state.sqlite"
    store = SqliteStorage(path, "batch")
    command = Command("c9", 4, Op("cas", "k", ("old", ("nested", 1.5, None, True))))
    store.write([("entry/1", (7, command)), ("length", 1), ("epoch", 7), ("commit", 1)])
    store.close()
    again = SqliteStorage(path, "batch")
    saved = again.load()
    again.close()
    epoch, back = saved["entry/1"]  # type: ignore[misc]
    assert type(saved["entry/1"]) is tuple and epoch == 7
    assert type(back) is Command and back == command
    assert type(back.op) is Op and back.op.value == ("old", ("nested", 1.5, None, True))
    assert type(back.op.value) is tuple and type(back.op.value[1]) is tuple
    assert saved["length"] == 1 and saved["epoch"] == 7 and saved["commit"] == 1


def test_a_quorum_replica_recovers_from_what_sqlite_gave_back(tmp_path: Path) -> None:
    """End to end below the runtime: a replica's saves through SQLite and back are
    enough for ``on_start`` to rebuild it."""
    import random

    from smrkit.core.node import Out
    from smrkit.protocols.primary_backup.quorum import QuorumReplica
    from smrkit.protocols.registry import ProtocolConfig

    config = ProtocolConfig(("p1", "p2", "p3"), (), "kv", 0.01, 0.05)
    commands = [Command("c1", i, Op("append", "k", f"[{i}]")) for i in range(1, 4)]
    store = SqliteStorage(tmp_path / "state.sqlite", "batch")
    store.write([(f"entry/{i}", (65, c)) for i, c in enumerate(commands, 1)])
    store.write([("length", 3), ("epoch", 65), ("commit", 2)])
    store.close()
    reader = SqliteStorage(tmp_path / "state.sqlite", "batch")
    out = Out(random.Random(0), reader.load())
    reader.close()
    out.now = 3.21
    replica = QuorumReplica("p2", config)
    replica.on_start(out)
    assert replica.entries == commands and replica.epochs == [65, 65, 65]
    assert replica.epoch == 65 and replica.commit == 2
    assert replica.applied == commands[:2]


@pytest.mark.parametrize("fsync", ["always", "batch"])
def test_a_deleted_key_is_gone_after_a_reopen_and_the_last_write_of_a_key_wins(
    tmp_path: Path, fsync: str
) -> None:
    path = tmp_path / "state.sqlite"
    store = SqliteStorage(path, fsync)
    store.write([("entry/1", "a"), ("entry/2", "b"), ("entry/3", "c")])
    store.sync()
    store.write([("entry/1", DELETED), ("entry/2", DELETED), ("entry/2", "again")])
    store.write([("entry/3", "c2"), ("entry/3", DELETED)])
    store.sync()
    store.close()
    again = SqliteStorage(path, fsync)
    assert again.load() == {"entry/2": "again"}
    again.close()
