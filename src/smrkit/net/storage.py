"""Durable storage behind ``out.save``: a small interface and its SQLite implementation.

The runtime's rule (DESIGN.md): every save of a step is durable before any message of
that step leaves. The runtime writes a step's saves with :meth:`Storage.write`, and
calls :meth:`Storage.sync` before releasing the messages of the steps it has run; how
much that costs is the fsync policy:

* ``always`` — every write is committed and fsynced on its own;
* ``batch`` — group commit: the writes of all the steps run since the last sync are
  committed together and fsynced once, before any of their messages leaves;
* ``never`` — committed without fsync (a power failure may lose the tail; a killed
  process does not, the operating system still holds it).

SQLite (standard library, no server) in WAL mode holds one table of key → value, the
value encoded with :mod:`smrkit.net.codec` (never pickled). A restarted replica reads
everything back with :meth:`Storage.load`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from smrkit.net.codec import decode, encode
from smrkit.net.files import private_file

FSYNC_POLICIES = ("always", "batch", "never")


class Storage(Protocol):
    def load(self) -> dict[str, object]: ...

    def write(self, saves: Iterable[tuple[str, object]]) -> None: ...

    def sync(self) -> None: ...

    def close(self) -> None: ...


class SqliteStorage:
    """Key-value storage in one SQLite file (WAL mode)."""

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
        self._open = False
        self.commits = 0

    def load(self) -> dict[str, object]:
        rows = self._db.execute("SELECT key, value FROM saved").fetchall()
        return {key: decode(value) for key, value in rows}

    def write(self, saves: Iterable[tuple[str, object]]) -> None:
        rows = [(key, encode(value)) for key, value in saves]
        if not rows:
            return
        if not self._open:
            self._db.execute("BEGIN")
            self._open = True
        self._db.executemany("INSERT OR REPLACE INTO saved (key, value) VALUES (?, ?)", rows)
        if self.fsync == "always":
            self.sync()

    def sync(self) -> None:
        """Make every write so far durable (per the policy)."""
        if self._open:
            self._db.execute("COMMIT")
            self._open = False
            self.commits += 1

    def close(self) -> None:
        self.sync()
        self._db.close()
