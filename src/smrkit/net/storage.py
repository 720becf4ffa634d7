"""Durable storage behind ``out.save``: a small interface and its SQLite implementation.

The runtime's rule (DESIGN.md): every save of a step is durable before any message of
that step leaves. The runtime writes a step's saves with :meth:`Storage.write`, and
calls :meth:`Storage.sync` before releasing the messages of the steps it has run; how
much that costs is the fsync policy:

* ``always`` — every write is committed and fsynced on its own;
* ``batch`` — group commit: the writes of all the steps run since the last sync are
  committed together and fsynced once, before any of their messages leaves; a write
  only queues its rows, and :meth:`SqliteStorage.sync` may run on another thread while
  the event loop goes on writing (the runtime commits off the loop:
  :meth:`smrkit.net.replica.ReplicaServer._commit`) — a sync commits at least every
  write that returned before it started;
* ``never`` — committed without fsync (a power failure may lose the tail; a killed
  process does not, the operating system still holds it).

SQLite (standard library, no server) in WAL mode holds one table of key → value, the
value encoded with :mod:`smrkit.net.codec` (never pickled). A restarted replica reads
everything back with :meth:`Storage.load`. A save of :data:`~smrkit.core.node.DELETED`
(``out.delete``: a compacted log's entries) removes its key, so that a long run's file
stays bounded.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from smrkit.core.node import DELETED
from smrkit.net.codec import decode, encode
from smrkit.net.files import private_file

FSYNC_POLICIES = ("always", "batch", "never")
STORAGE_FILES = {"log": "state.log", "sqlite": "state.sqlite"}
"""Each storage engine's file in a replica's data directory: ``log``, the default, is
:class:`smrkit.net.log_storage.LogStorage` (an append-only file: a third of SQLite's
CPU per commit); ``sqlite`` is :class:`SqliteStorage`."""
STORAGE_ENGINES = tuple(STORAGE_FILES)


class Storage(Protocol):
    def load(self) -> dict[str, object]: ...

    def write(self, saves: Iterable[tuple[str, object]]) -> None: ...

    def sync(self) -> None: ...

    def close(self) -> None: ...


class SqliteStorage:
    """Key-value storage in one SQLite file (WAL mode). :meth:`write` and :meth:`sync`
    may be called from different threads (one writer, one syncer at a time)."""

    def __init__(self, path: Path, fsync: str = "batch") -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync policy {fsync!r}; choose one of {', '.join(FSYNC_POLICIES)}")
        self.fsync = fsync
        self.path = path
        private_file(path)  # SQLite gives its journal files the mode of the database
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit fsyncs the WAL; OFF: it does not.
        self._db.execute(f"PRAGMA synchronous={'OFF' if fsync == 'never' else 'FULL'}")
        self._db.execute("CREATE TABLE IF NOT EXISTS saved (key TEXT PRIMARY KEY, value BLOB)")
        self._rows: list[tuple[str, bytes | None]] = []
        """Written, not yet committed (``batch`` and ``never``); ``None``: deleted."""
        self._rows_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self.commits = 0

    def load(self) -> dict[str, object]:
        rows = self._db.execute("SELECT key, value FROM saved").fetchall()
        return {key: decode(value) for key, value in rows}

    def write(self, saves: Iterable[tuple[str, object]]) -> None:
        """Queue ``saves`` (a value of ``DELETED`` removes the key) for the next sync."""
        rows = [(key, None if value is DELETED else encode(value)) for key, value in saves]
        if not rows:
            return
        with self._rows_lock:
            self._rows.extend(rows)
        if self.fsync == "always":
            self.sync()

    def sync(self) -> None:
        """Make every write so far durable (per the policy): one transaction, one
        fsync. Safe to call on another thread than :meth:`write`'s; it holds no lock
        that ``write`` waits for while it commits."""
        with self._commit_lock:
            with self._rows_lock:
                rows, self._rows = self._rows, []
            if not rows:
                return
            final = dict(rows)  # the last write of each key is what it holds
            gone = [(key,) for key, value in final.items() if value is None]
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO saved (key, value) VALUES (?, ?)",
                    [(key, value) for key, value in final.items() if value is not None],
                )
                if gone:
                    self._db.executemany("DELETE FROM saved WHERE key = ?", gone)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.commits += 1

    def close(self) -> None:
        self.sync()
        self._db.close()
