"""Raft's log: entries with their terms, after a compacted prefix.

Entries are numbered from 1. Entries up to ``base_index`` have been compacted into a
snapshot; only the term of the last of them (``base_term``) is kept, so the consistency
check still works at the boundary. Each entry's size bound (:func:`entry_bytes`) is
computed once, when it is appended, and kept beside it: a leader cuts its log into
messages of at most so many bytes, and the runtime merges a follower's messages within
that bound, for every entry. The log is plain data (three lists and two ints), as the
explorer copies and fingerprints it.
"""

from __future__ import annotations

from smrkit.core.ops import Command, Op
from smrkit.core.sizes import dataclass_header_bytes, encoded_bytes_bound

ENTRY_OVERHEAD_BYTES = 9
"""An entry's term, beside its command."""
_COMMAND_ENTRY_BYTES = (
    ENTRY_OVERHEAD_BYTES + dataclass_header_bytes(Command) + dataclass_header_bytes(Op)
)


def entry_bytes(command: Command | None) -> int:
    """An entry's size bound: its command's and its term's — for a command of an op,
    :func:`encoded_bytes_bound` of its fields and its op's, added up here."""
    if type(command) is Command:
        op = command.op
        if type(op) is Op:
            return (
                _COMMAND_ENTRY_BYTES
                + encoded_bytes_bound(command.client)
                + encoded_bytes_bound(command.seq)
                + encoded_bytes_bound(op.f)
                + encoded_bytes_bound(op.key)
                + encoded_bytes_bound(op.value)
            )
    return encoded_bytes_bound(command) + ENTRY_OVERHEAD_BYTES


class RaftLog:
    """``terms[k]``, ``commands[k]`` and ``sizes[k]`` are entry ``base_index + k + 1``."""

    def __init__(self) -> None:
        self.base_index = 0
        self.base_term = 0
        self.terms: list[int] = []
        self.commands: list[Command | None] = []
        self.sizes: list[int] = []
        """Each entry's :func:`entry_bytes`."""

    @property
    def last_index(self) -> int:
        return self.base_index + len(self.terms)

    @property
    def last_term(self) -> int:
        return self.terms[-1] if self.terms else self.base_term

    def term_at(self, index: int) -> int | None:
        """The term of entry ``index``; 0 for index 0; ``None`` if it is compacted away
        or beyond the end."""
        if index == self.base_index:
            return self.base_term
        if index < self.base_index or index > self.last_index:
            return None
        return self.terms[index - self.base_index - 1]

    def command_at(self, index: int) -> Command | None:
        assert self.base_index < index <= self.last_index, (index, self.base_index)
        return self.commands[index - self.base_index - 1]

    def first_index_of_term(self, index: int) -> int:
        """The first entry (after the snapshot) of the term of entry ``index``."""
        term = self.term_at(index)
        while index - 1 > self.base_index and self.term_at(index - 1) == term:
            index -= 1
        return index

    def last_index_of_term(self, term: int) -> int | None:
        """The last entry of ``term`` in this log, ``None`` if it holds none."""
        for k in range(len(self.terms) - 1, -1, -1):
            if self.terms[k] == term:
                return self.base_index + k + 1
            if self.terms[k] < term:
                return None
        return None

    def append(self, term: int, command: Command | None) -> int:
        self.terms.append(term)
        self.commands.append(command)
        self.sizes.append(entry_bytes(command))
        return self.last_index

    def extend(self, terms: tuple[int, ...], commands: tuple[Command | None, ...]) -> None:
        """Append entries (what :meth:`append` does, for a run of them)."""
        self.terms.extend(terms)
        self.commands.extend(commands)
        self.sizes.extend(map(entry_bytes, commands))

    def entries_from(self, first: int) -> zip[tuple[int, Command | None]]:
        """``(term, command)`` of each entry from ``first`` (after the snapshot) on."""
        k = first - self.base_index - 1
        assert k >= 0, (first, self.base_index)
        return zip(self.terms[k:], self.commands[k:], strict=True)

    def truncate_after(self, index: int) -> None:
        """Drop every entry after ``index`` (a conflicting suffix)."""
        assert index >= self.base_index, (index, self.base_index)
        keep = index - self.base_index
        del self.terms[keep:]
        del self.commands[keep:]
        del self.sizes[keep:]

    def slice(self, first: int, last: int) -> tuple[tuple[int, ...], tuple[Command | None, ...]]:
        """Entries ``first … last`` as ``(terms, commands)``."""
        a, b = first - self.base_index - 1, last - self.base_index
        assert a >= 0, (first, self.base_index)
        return tuple(self.terms[a:b]), tuple(self.commands[a:b])

    def part_end(self, first: int, bytes_max: int) -> int:
        """The last entry of the part that starts at ``first``: the longest run whose
        sizes fit in ``bytes_max``, at least one entry (``first - 1``: none after it)."""
        sizes = self.sizes
        k = first - self.base_index - 1
        assert k >= 0, (first, self.base_index)
        if k >= len(sizes):
            return first - 1
        size = sizes[k]
        end = k + 1
        while end < len(sizes) and size + sizes[end] <= bytes_max:
            size += sizes[end]
            end += 1
        return self.base_index + end

    def held_bytes(
        self, prev: int, terms: tuple[int, ...], commands: tuple[Command | None, ...]
    ) -> int | None:
        """The size bound of the entries after ``prev`` (``terms``, ``commands``) as this
        log keeps it, if the log holds them — its entry at their last index is the same
        command of the same term: by log matching, so are the ones before — else
        ``None``."""
        if not terms:
            return 0
        a = prev - self.base_index
        b = a + len(terms)
        if a < 0 or b > len(self.terms):
            return None
        if self.terms[b - 1] != terms[-1] or self.commands[b - 1] is not commands[-1]:
            return None
        return self.sizes[a] if b == a + 1 else sum(self.sizes[a:b])

    def compact_to(self, index: int) -> None:
        """Forget entries up to ``index`` (they are in a snapshot)."""
        assert self.base_index <= index <= self.last_index, (index, self.base_index)
        term = self.term_at(index)
        assert term is not None
        drop = index - self.base_index
        del self.terms[:drop]
        del self.commands[:drop]
        del self.sizes[:drop]
        self.base_index, self.base_term = index, term

    def reset_to(self, index: int, term: int) -> None:
        """Replace the whole log by a snapshot's end: entry ``index`` of ``term``."""
        self.terms.clear()
        self.commands.clear()
        self.sizes.clear()
        self.base_index, self.base_term = index, term
