"""Durable storage as one append-only file: a record per write, a CRC per record.

The same :class:`~smrkit.net.storage.Storage` as :class:`~smrkit.net.storage.SqliteStorage`,
built for the runtime's group commit (:meth:`smrkit.net.replica.ReplicaServer._commit`):
a sync is one ``write`` of the records queued since the last one and one
``fdatasync`` — no B-tree, no WAL frames, no checkpoints. On this project's 2-core
machine that is about a third of SQLite's CPU per commit (``bench/storage_speed.py``).

The file, ``state.log``, is a sequence of records:
``length (4 bytes) ‖ CRC-32 of the payload (4 bytes) ‖ payload``, big-endian; a payload
is one write's saves, in order, each ``key length (2) ‖ value length (4) ‖ key ‖ value``,
the value encoded with :mod:`smrkit.net.codec`, and a value length of ``0xFFFFFFFF``
deleting the key. The file is preallocated: ``PREALLOCATE_BYTES`` of zeros at a time,
written and fsynced before records go there, so that a sync overwrites blocks the file
already has and its ``fdatasync`` flushes data only, never the file system's journal
(a growing file's would, and on a busy disk that journal is shared with every other
process). A record header of length 0 — the zeros — is the end of the log.

Opening the file replays it. A record whose header or payload is cut short, or whose CRC
does not hold, is where a crash tore the last write (a write that was never synced may
be partly on disk): the bytes from there to the last non-zero one are zeroed, and what
was synced before it is all there. Such a record can only be the tail of what was
synced last — a sync returns only once everything before it is on disk — so nothing
acknowledged is lost; ``torn_bytes`` says how much was cut.

Compaction. The file grows with every write; once it is more than
``COMPACT_FACTOR`` times the live data (and at least ``COMPACT_BYTES_MIN``), a sync
writes the live keys to a new file, syncs it, renames it over the old one and syncs the
directory: at every instant one whole file is there, the old or the new.

Policies as for SQLite: ``always`` syncs every write, ``batch`` at :meth:`sync`,
``never`` writes at :meth:`sync` without ``fdatasync`` (a killed process loses nothing,
the kernel holds it; a power failure may lose the tail).
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path

from smrkit.core.node import DELETED
from smrkit.net.codec import decode, encode
from smrkit.net.storage import FSYNC_POLICIES

_RECORD = struct.Struct(">II")
_ITEM = struct.Struct(">HI")
_GONE = 0xFFFFFFFF
"""The value length that deletes a key."""
KEY_BYTES_MAX = 0xFFFF
COMPACT_FACTOR = 4
COMPACT_BYTES_MIN = 4 * 1024 * 1024
PREALLOCATE_BYTES = 2 * 1024 * 1024
FILE_MODE = 0o600


class StorageError(RuntimeError):
    """The file holds something other than this format (not a torn tail)."""


def _payload(rows: Iterable[tuple[bytes, bytes | None]]) -> bytes:
    parts = []
    for key, value in rows:
        if value is None:
            parts.append(_ITEM.pack(len(key), _GONE) + key)
        else:
            parts.append(_ITEM.pack(len(key), len(value)) + key + value)
    return b"".join(parts)


def _record(payload: bytes) -> bytes:
    return _RECORD.pack(len(payload), zlib.crc32(payload)) + payload


def _items(payload: bytes) -> Iterable[tuple[str, bytes | None]]:
    at = 0
    while at < len(payload):
        if at + _ITEM.size > len(payload):
            raise StorageError("a record's item is cut short inside its CRC")
        key_bytes, value_bytes = _ITEM.unpack_from(payload, at)
        at += _ITEM.size
        try:
            key = payload[at : at + key_bytes].decode()
        except UnicodeDecodeError:
            raise StorageError("a record's key is not text inside its CRC") from None
        at += key_bytes
        if value_bytes == _GONE:
            yield key, None
            continue
        if at + value_bytes > len(payload):
            raise StorageError("a record's value is cut short inside its CRC")
        yield key, payload[at : at + value_bytes]
        at += value_bytes


def _replay(data: bytes) -> tuple[dict[str, bytes], int]:
    """The live keys the records of ``data`` leave (encoded values), and the length
    of its whole records: where a torn tail, if any, starts."""
    live: dict[str, bytes] = {}
    at = 0
    while at + _RECORD.size <= len(data):
        length, crc = _RECORD.unpack_from(data, at)
        if length == 0:  # the preallocated zeros: the end
            break
        payload = data[at + _RECORD.size : at + _RECORD.size + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        for key, value in _items(payload):
            if value is None:
                live.pop(key, None)
            else:
                live[key] = value
        at += _RECORD.size + length
    return live, at


def read_saved(path: Path) -> dict[str, object]:
    """What a log file holds, read without changing it (a torn tail is left alone):
    for a reader beside the replica that owns it."""
    live, _ = _replay(path.read_bytes())
    return {key: decode(value) for key, value in live.items()}


def _write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LogStorage:
    """Key-value storage in one append-only file. :meth:`write` and :meth:`sync` may be
    called from different threads (one writer, one syncer at a time), as for
    :class:`~smrkit.net.storage.SqliteStorage`."""

    def __init__(self, path: Path, fsync: str = "batch") -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync policy {fsync!r}; choose one of {', '.join(FSYNC_POLICIES)}")
        self.fsync = fsync
        self.path = path
        self.commits = 0
        self.compactions = 0
        self.torn_bytes = 0
        """Bytes of a torn last record cut off when the file was opened."""
        self._live: dict[str, bytes] = {}
        """The encoded value of every key, as the writes so far leave it."""
        self._live_bytes = 0
        self._pending: list[bytes] = []
        """Records written, not yet in the file."""
        self._rows_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        created = not path.exists()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        os.fchmod(self._fd, FILE_MODE)
        if created:
            _fsync_directory(path.parent)
        data = path.read_bytes()
        self._live, self._file_bytes = _replay(data)
        self._live_bytes = sum(len(k) + len(v) for k, v in self._live.items())
        self._allocated = len(data)
        """The file's size: the log's end (``_file_bytes``), then zeros."""
        torn_end = len(data.rstrip(b"\0"))
        if torn_end > self._file_bytes:  # a torn tail: zero it
            self.torn_bytes = torn_end - self._file_bytes
            os.pwrite(self._fd, bytes(self.torn_bytes), self._file_bytes)
            os.fsync(self._fd)

    def _apply(self, key: str, value: bytes | None) -> None:
        old = self._live.pop(key, None)
        if old is not None:
            self._live_bytes -= len(key) + len(old)
        if value is not None:
            self._live[key] = value
            self._live_bytes += len(key) + len(value)

    def load(self) -> dict[str, object]:
        return {key: decode(value) for key, value in self._live.items()}

    def write(self, saves: Iterable[tuple[str, object]]) -> None:
        """Queue ``saves`` (a value of ``DELETED`` removes the key) for the next sync."""
        rows = []
        for key, value in saves:
            key_bytes = key.encode()
            if len(key_bytes) > KEY_BYTES_MAX:
                raise ValueError(f"a key of {len(key_bytes)} bytes (at most {KEY_BYTES_MAX})")
            rows.append((key, key_bytes, None if value is DELETED else encode(value)))
        if not rows:
            return
        record = _record(_payload((key_bytes, value) for _, key_bytes, value in rows))
        with self._rows_lock:
            for key, _, value in rows:
                self._apply(key, value)
            self._pending.append(record)
        if self.fsync == "always":
            self.sync()

    def sync(self) -> None:
        """Make every write so far durable (per the policy): one write of the records
        queued, one ``fdatasync`` — or, when the file has grown far beyond the live
        data, a compaction that replaces it."""
        with self._commit_lock:
            with self._rows_lock:
                records, self._pending = self._pending, []
                grown = self._file_bytes + sum(len(r) for r in records)
                live = None
                if grown > max(COMPACT_BYTES_MIN, COMPACT_FACTOR * self._live_bytes):
                    live = dict(self._live)
            if not records:
                return
            if live is not None:
                self._compact(live)
            else:
                self._append(b"".join(records))
            self.commits += 1

    def _append(self, data: bytes) -> None:
        end = self._file_bytes + len(data)
        if end > self._allocated:  # zeros first, synced with the file's new size
            grown = max(end, self._allocated + PREALLOCATE_BYTES)
            _write_at(self._fd, bytes(grown - self._allocated), self._allocated)
            os.fsync(self._fd)
            self._allocated = grown
        _write_at(self._fd, data, self._file_bytes)
        if self.fsync != "never":
            os.fdatasync(self._fd)
        self._file_bytes = end

    def _compact(self, live: dict[str, bytes]) -> None:
        """Replace the file by one record of the live keys: write it beside, sync it,
        rename it over, sync the directory."""
        data = _record(_payload((key.encode(), value) for key, value in live.items()))
        fresh = self.path.with_name(self.path.name + ".compact")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            _write_at(fd, data, 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(fresh, self.path)
        _fsync_directory(self.path.parent)
        old, self._fd = self._fd, os.open(self.path, os.O_RDWR)
        os.close(old)
        self._file_bytes = self._allocated = len(data)
        self.compactions += 1

    def close(self) -> None:
        self.sync()
        os.close(self._fd)
