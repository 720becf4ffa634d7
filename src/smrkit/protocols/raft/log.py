"""Raft's log: entries with their terms, after a compacted prefix.

Entries are numbered from 1. Entries up to ``base_index`` have been compacted into a
snapshot; only the term of the last of them (``base_term``) is kept, so the consistency
check still works at the boundary. The log is plain data (two lists and two ints), as
the explorer copies and fingerprints it.
"""

from __future__ import annotations

from smrkit.core.ops import Command


class RaftLog:
    """``terms[k]`` and ``commands[k]`` are entry ``base_index + k + 1``."""

    def __init__(self) -> None:
        self.base_index = 0
        self.base_term = 0
        self.terms: list[int] = []
        self.commands: list[Command | None] = []

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
        return self.last_index

    def truncate_after(self, index: int) -> None:
        """Drop every entry after ``index`` (a conflicting suffix)."""
        assert index >= self.base_index, (index, self.base_index)
        keep = index - self.base_index
        del self.terms[keep:]
        del self.commands[keep:]

    def slice(self, first: int, last: int) -> tuple[tuple[int, ...], tuple[Command | None, ...]]:
        """Entries ``first … last`` as ``(terms, commands)``."""
        a, b = first - self.base_index - 1, last - self.base_index
        assert a >= 0, (first, self.base_index)
        return tuple(self.terms[a:b]), tuple(self.commands[a:b])

    def compact_to(self, index: int) -> None:
        """Forget entries up to ``index`` (they are in a snapshot)."""
        assert self.base_index <= index <= self.last_index, (index, self.base_index)
        term = self.term_at(index)
        assert term is not None
        drop = index - self.base_index
        del self.terms[:drop]
        del self.commands[:drop]
        self.base_index, self.base_term = index, term

    def reset_to(self, index: int, term: int) -> None:
        """Replace the whole log by a snapshot's end: entry ``index`` of ``term``."""
        self.terms.clear()
        self.commands.clear()
        self.base_index, self.base_term = index, term
