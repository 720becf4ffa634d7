"""Raft's messages (Ongaro and Ousterhout, Figure 2), one class per RPC and reply.

Log entries travel as two parallel tuples, ``terms`` and ``commands``: the term each
entry was created in and its command, ``None`` for the no-op a leader appends at the
start of its term. A message that carries entries carries at most
``message_bytes_max`` of them (:func:`smrkit.core.sizes.encoded_bytes_bound`); a longer
run of entries goes in several messages, each with its own consistency check.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.messages import Message
from smrkit.core.ops import Command, Value


@dataclass(frozen=True, slots=True)
class RequestVote(Message):
    """A candidate of ``term`` asks for a vote; its log ends at ``last_index`` with an
    entry of ``last_term``."""

    term: int
    last_index: int
    last_term: int


@dataclass(frozen=True, slots=True)
class VoteReply(Message):
    term: int
    granted: bool


@dataclass(frozen=True, slots=True)
class AppendEntries(Message):
    """The leader of ``term``: the entries after ``prev_index`` (whose term is
    ``prev_term``), and its commit index. Empty entries make a heartbeat."""

    term: int
    prev_index: int
    prev_term: int
    terms: tuple[int, ...]
    commands: tuple[Command | None, ...]
    commit: int


@dataclass(frozen=True, slots=True)
class AppendReply(Message):
    """``success``: the follower's log matches the leader's up to ``match``. Otherwise
    the fast back-up hint: the follower has no entry at ``prev_index`` (its log ends
    before, ``conflict_term`` 0) or one of ``conflict_term``, whose first entry is at
    ``conflict_index`` — the leader skips that whole term in one round trip."""

    term: int
    success: bool
    match: int
    conflict_index: int
    conflict_term: int


@dataclass(frozen=True, slots=True)
class InstallSnapshot(Message):
    """Part ``part`` (from 0) of ``parts`` of the leader's snapshot: the state after
    entry ``index`` (of ``last_term``). ``items`` are a slice of the snapshot's items;
    the receiver installs the snapshot once it holds every part."""

    term: int
    index: int
    last_term: int
    part: int
    parts: int
    items: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class SnapshotReply(Message):
    """The follower holds parts ``0 … part`` of the snapshot after entry ``index``."""

    term: int
    index: int
    part: int
