"""The append-only log storage: what was synced is there after a reopen, a kill -9 or a
torn last record; deletions and compaction keep the file bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from smrkit.core.node import DELETED
from smrkit.core.ops import Command, Op
from smrkit.net import log_storage
from smrkit.net.log_storage import LogStorage, StorageError, read_saved


@pytest.mark.parametrize("fsync", ["always", "batch", "never"])
def test_saves_and_deletions_survive_a_reopen(tmp_path: Path, fsync: str) -> None:
    path = tmp_path / "state.log"
    store = LogStorage(path, fsync)
    command = Command("c1", 2, Op("append", "k", "x"))
    store.write([("view", 3), ("log/1", command), ("log/2", "b")])
    store.write([("view", 4), ("log/2", DELETED)])
    store.sync()
    store.write([("log/3", "c"), ("log/3", DELETED), ("log/3", "again")])
    store.close()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = LogStorage(path, fsync)
    assert again.load() == {"view": 4, "log/1": command, "log/3": "again"}
    assert again.torn_bytes == 0
    again.close()


def test_a_write_is_in_the_file_only_after_a_sync_in_batch_mode(tmp_path: Path) -> None:
    path = tmp_path / "state.log"
    store = LogStorage(path, "batch")
    store.write([("k", 1)])
    assert path.stat().st_size == 0 and store.commits == 0
    store.sync()
    assert store.commits == 1
    assert path.stat().st_size == log_storage.PREALLOCATE_BYTES  # the record, then zeros
    store.sync()  # nothing new: no commit
    assert store.commits == 1
    store.close()


@pytest.mark.parametrize(
    "tail",
    [
        b"\x00\x07",  # a header cut short
        b"\x00\x00\x00\x40\x12\x34\x56\x78abc",  # a payload cut short
        b"\x00\x00\x00\x03\x00\x00\x00\x00abc",  # a whole record whose CRC fails
    ],
)
def test_a_torn_last_record_is_cut_off_and_what_was_synced_stays(
    tmp_path: Path, tail: bytes
) -> None:
    path = tmp_path / "state.log"
    store = LogStorage(path, "batch")
    store.write([("a", 1)])
    store.write([("b", 2)])
    store.close()
    end, size = store._file_bytes, path.stat().st_size
    with open(path, "r+b") as handle:  # a write torn where the next record goes
        handle.seek(end)
        handle.write(tail)
    again = LogStorage(path, "batch")
    assert again.load() == {"a": 1, "b": 2}
    assert again.torn_bytes == len(tail) and path.stat().st_size == size
    assert path.read_bytes()[end:] == bytes(size - end)  # zeroed
    again.write([("c", 3)])  # appended after the cut, not after the garbage
    again.close()
    third = LogStorage(path, "batch")
    assert third.load() == {"a": 1, "b": 2, "c": 3} and third.torn_bytes == 0
    third.close()


def test_a_record_whose_crc_holds_but_whose_items_are_malformed_is_an_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.log"
    payload = b"\x00\x05\x00\x00\x00\x10key"  # a value of 16 bytes announced, none there
    path.write_bytes(log_storage._record(payload))
    with pytest.raises(StorageError, match="cut short inside its CRC"):
        LogStorage(path, "batch")


def test_compaction_keeps_the_file_bounded_and_the_state_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_storage, "COMPACT_BYTES_MIN", 4096)
    monkeypatch.setattr(log_storage, "PREALLOCATE_BYTES", 1024)
    path = tmp_path / "state.log"
    store = LogStorage(path, "never")  # a compaction syncs all the same
    for i in range(2000):
        store.write([(f"entry/{i}", ("x" * 20, i)), ("last", i)])
        if i >= 10:
            store.write([(f"entry/{i - 10}", DELETED)])  # a compacted log's entries
        store.sync()
    assert store.compactions >= 10
    assert path.stat().st_size <= 4096 + 200 + 1024  # the threshold, a commit, zeros
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.log"]  # no leftovers
    again = LogStorage(path, "never")
    expected: dict[str, object] = {f"entry/{i}": ("x" * 20, i) for i in range(1990, 2000)}
    assert again.load() == {**expected, "last": 1999}
    again.close()


def test_everything_synced_before_a_kill_9_is_there(tmp_path: Path) -> None:
    """A writer process syncs record after record and says which it synced; killed
    with SIGKILL in the middle of its loop, its file reopens with at least what it
    said, and nothing torn."""
    path = tmp_path / "state.log"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from smrkit.net.log_storage import LogStorage
        store = LogStorage(Path({str(path)!r}), "batch")
        i = 0
        while True:
            store.write([(f"k{{i}}", "v" * 100), ("last", i)])
            store.sync()
            print(i, flush=True)
            i += 1
        """
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    assert writer.stdout is not None
    said = -1
    try:
        for line in writer.stdout:
            said = int(line)
            if said >= 300:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    assert said >= 300
    store = LogStorage(path, "batch")
    saved = store.load()
    last = saved["last"]
    assert isinstance(last, int) and last >= said
    assert all(saved[f"k{i}"] == "v" * 100 for i in range(last + 1))
    store.close()


def test_a_reader_beside_the_owner_reads_the_whole_records_and_changes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.log"
    store = LogStorage(path, "batch")
    store.write([("a", 1), ("b", 2)])
    store.write([("b", DELETED)])
    store.sync()
    with open(path, "ab") as handle:
        handle.write(b"\x00\x00\x00\x09")  # a write under way
    size = path.stat().st_size
    assert read_saved(path) == {"a": 1}
    assert path.stat().st_size == size
    store.close()
