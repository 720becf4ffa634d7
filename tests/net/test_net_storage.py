"""SQLite storage: what was written and synced is there after reopening the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

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
