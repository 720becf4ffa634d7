"""Raft's messages (Ongaro and Ousterhout, Figure 2), one class per RPC and reply.

Log entries travel as two parallel tuples, ``terms`` and ``commands``: the term each
entry was created in and its command, ``None`` for the no-op a leader appends at the
start of its term. A message that carries entries carries at most
``message_bytes_max`` of them (:func:`smrkit.core.sizes.encoded_bytes_bound`); a longer
run of entries goes in several messages, each with its own consistency check.
"""

from __future__ import annotations

from collections.abc import Callable
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
class PreVote(Message):
    """Could the sender win an election in ``term`` (its own term plus one) with a log
    that ends at ``last_index`` with an entry of ``last_term``? Asked before it stands
    (Raft dissertation §9.6); neither asking nor answering changes a term or a vote."""

    term: int
    last_index: int
    last_term: int


@dataclass(frozen=True, slots=True)
class PreVoteReply(Message):
    """``granted``: the replier would vote for the sender in ``term``, the term asked
    about. A refusal carries the replier's own term instead (a sender behind catches
    up with it)."""

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


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


RaftMessage = (
    RequestVote
    | VoteReply
    | PreVote
    | PreVoteReply
    | AppendEntries
    | AppendReply
    | InstallSnapshot
    | SnapshotReply
)


def malformed(msg: RaftMessage) -> str | None:
    """Why a peer's message cannot be a correct server's (counted and dropped by the
    receiver), or ``None``: numbers that are not counts, entries whose terms and
    commands disagree in number or are newer than the message's term, a part outside
    its snapshot."""
    if not _count(msg.term):
        return "a term that is not a count"
    match msg:
        case (
            RequestVote(last_index=index, last_term=term)
            | PreVote(last_index=index, last_term=term)
        ):
            ok = _count(index) and _count(term) and term <= msg.term
        case VoteReply(granted=granted) | PreVoteReply(granted=granted):
            ok = isinstance(granted, bool)
        case AppendEntries(prev_index=prev, prev_term=prev_term, terms=terms, commit=commit):
            ok = (
                _count(prev)
                and _count(prev_term)
                and _count(commit)
                and isinstance(terms, tuple)
                and isinstance(msg.commands, tuple)
                and len(terms) == len(msg.commands)
                and all(_count(t) and prev_term <= t <= msg.term for t in terms)
                and all(c is None or isinstance(c, Command) for c in msg.commands)
            )
        case AppendReply(match=match, conflict_index=index, conflict_term=term):
            ok = isinstance(msg.success, bool) and _count(match) and _count(index)
            ok = ok and _count(term)
        case InstallSnapshot(index=index, last_term=term, part=part, parts=parts):
            ok = _count(index) and _count(term) and _count(part) and _count(parts)
            ok = ok and part < parts and isinstance(msg.items, tuple)
        case SnapshotReply(index=index, part=part):
            ok = _count(index) and isinstance(part, int) and part >= -1
    return None if ok else f"malformed {type(msg).__name__}"


def merged_appends(
    stamped: list[tuple[float, Message]],
    bytes_max: int,
    entries_bytes: Callable[[AppendEntries], int],
) -> list[tuple[float, Message]]:
    """One destination's messages, in order, with each run of AppendEntries that
    continue one another (same term, the next one's ``prev_index`` the end of the
    previous) merged into one carrying all their entries, while those fit in
    ``bytes_max`` (``entries_bytes`` sizes one message's entries). A follower that takes
    the merged message ends where it would after taking the run one by one — the same
    log and the same commit index (the leader's commit index only grows in a term) —
    and answers once, with the last match; a leader that streams each client's entry
    as it arrives thus costs one message per follower per batch, not one per request.
    Each merged message keeps the earliest of its run's stamps. Each message is sized
    once, and each run is joined once (linear in the entries)."""
    out: list[tuple[float, Message]] = []
    run: list[AppendEntries] = []
    """The AppendEntries that ``out[-1]`` stands for, while they may grow."""
    stamp_min = 0.0
    size = end_index = end_term = 0
    """The run's earliest stamp, its entries' size bound, its last index and term."""
    for stamp, msg in stamped:
        if not isinstance(msg, AppendEntries):
            _join(out, run, stamp_min)
            out.append((stamp, msg))
            continue
        grown = entries_bytes(msg)
        if (
            run
            and run[0].term == msg.term
            and msg.prev_index == end_index
            and msg.prev_term == end_term
            and size + grown <= bytes_max
        ):
            run.append(msg)
            size += grown
            stamp_min = min(stamp_min, stamp)
        else:
            _join(out, run, stamp_min)
            out.append((stamp, msg))
            run.append(msg)
            size, stamp_min = grown, stamp
        end_index = msg.prev_index + len(msg.terms)
        end_term = msg.terms[-1] if msg.terms else msg.prev_term  # (the run's, if it grew)
    _join(out, run, stamp_min)
    return out


def _join(out: list[tuple[float, Message]], run: list[AppendEntries], stamp: float) -> None:
    """Make ``out[-1]`` the one message of ``run`` (a run of AppendEntries that continue
    one another), stamped ``stamp``, and empty the run."""
    if len(run) > 1:
        first = run[0]
        merged = AppendEntries(
            first.term,
            first.prev_index,
            first.prev_term,
            tuple([t for msg in run for t in msg.terms]),
            tuple([c for msg in run for c in msg.commands]),
            max(msg.commit for msg in run),
        )
        out[-1] = (stamp, merged)
    run.clear()
