"""Raft's log keeps each entry's size bound beside it (sized once, at append): the kept
sizes are the entries' sizes through every change of the log, a part ends where sizing
each entry again would end it, and the runtime's merge sizes a leader's messages from
the log only while the log holds exactly those entries."""

from __future__ import annotations

import random

from smrkit.core.messages import Message
from smrkit.core.ops import Command, Op
from smrkit.core.sizes import encoded_bytes_bound
from smrkit.protocols.raft import build_raft_group
from smrkit.protocols.raft.log import ENTRY_OVERHEAD_BYTES, RaftLog, entry_bytes
from smrkit.protocols.raft.messages import AppendEntries, merged_appends


def _command(rng: random.Random, seq: int) -> Command | None:
    if rng.random() < 0.1:
        return None
    value = "x" * rng.randrange(0, 300) if rng.random() < 0.5 else (seq, "é" * rng.randrange(9))
    return Command(f"c{rng.randrange(100)}", seq, Op("put", f"k{seq}", value))


def _part_end_sized_again(log: RaftLog, first: int, bytes_max: int) -> int:
    """A part's end, each entry sized when it is needed (the code before the kept sizes)."""
    size, last = 0, first - 1
    while last < log.last_index:
        entry = entry_bytes(log.command_at(last + 1))
        if last >= first and size + entry > bytes_max:
            break
        size, last = size + entry, last + 1
    return last


def test_the_kept_sizes_are_the_entries_sizes_through_every_change() -> None:
    rng = random.Random(7)
    log = RaftLog()
    for step in range(400):
        roll = rng.random()
        if roll < 0.6:
            log.append(rng.randrange(1, 5), _command(rng, step))
        elif roll < 0.75:
            run = [_command(rng, step * 100 + k) for k in range(rng.randrange(5))]
            log.extend((3,) * len(run), tuple(run))
        elif roll < 0.85 and log.last_index > log.base_index:
            log.truncate_after(rng.randrange(log.base_index, log.last_index + 1))
        elif roll < 0.95 and log.last_index > log.base_index:
            log.compact_to(rng.randrange(log.base_index, log.last_index + 1))
        elif roll >= 0.95:
            log.reset_to(log.last_index + 3, 4)
        assert log.sizes == [encoded_bytes_bound(c) + ENTRY_OVERHEAD_BYTES for c in log.commands]
        for first in range(log.base_index + 1, log.last_index + 2):
            for bytes_max in (1, 50, 400, 2000):
                assert log.part_end(first, bytes_max) == _part_end_sized_again(
                    log, first, bytes_max
                )


def test_held_bytes_answers_only_for_the_entries_the_log_holds() -> None:
    rng = random.Random(3)
    log = RaftLog()
    for seq in range(1, 11):
        log.append(1 if seq < 6 else 2, _command(rng, seq))
    terms, commands = log.slice(4, 8)
    assert log.held_bytes(3, terms, commands) == sum(map(entry_bytes, commands))
    assert log.held_bytes(3, (), ()) == 0
    other = Command("c1", 8, Op("put", "k8", 1))
    assert log.held_bytes(3, terms, (*commands[:-1], other)) is None  # not this entry
    assert log.held_bytes(3, (*terms[:-1], 9), commands) is None  # another term
    log.truncate_after(6)
    assert log.held_bytes(3, terms, commands) is None  # no longer held
    log.compact_to(5)
    assert log.held_bytes(3, terms[:2], commands[:2]) is None  # compacted away


def test_a_leaders_merge_sizes_its_messages_as_sizing_them_again_would() -> None:
    servers = ["p1", "p2", "p3"]
    leader = build_raft_group(servers, "kv", delta_s=0.01, tau_s=0.05, message_bytes_max=2300)[0]
    rng = random.Random(5)
    for seq in range(1, 40):
        leader.log.append(1, _command(rng, seq))
    stamped: list[tuple[float, Message]] = []
    for first in range(1, 40):
        terms, commands = leader.log.slice(first, first)
        msg = AppendEntries(1, first - 1, 1 if first > 1 else 0, terms, commands, 0)
        stamped.append((float(first), msg))
    leader.log.truncate_after(30)  # the last messages' entries are gone: sized again
    leader.log.append(1, _command(rng, 99))
    sized_again = merged_appends(
        stamped,
        leader.config.part_bytes_max,
        lambda msg: sum(map(entry_bytes, msg.commands)),
    )
    assert leader.coalesced(stamped) == sized_again
    for _, msg in stamped:
        assert isinstance(msg, AppendEntries)
        assert leader._entries_bytes(msg) == sum(map(entry_bytes, msg.commands))
    assert len(sized_again) > 1
