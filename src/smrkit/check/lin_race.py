"""Every partition's search at once: walkers in slices, round robin, first answer wins.

Each partition (key) has one walker per search order (see
:mod:`smrkit.check.lin_search`); a turn runs one walker for one slice of steps. Turns go
round robin over the partitions, and within a partition over its walkers, so no
partition blocks another: a violation on a small key is found while a hard key is still
being searched, and a hard key does not starve the others. The first walker to finish
decides its partition; the first violation ends the whole check, since one key that is
not linearizable makes the history not linearizable.

The first order searches alone until it has taken :data:`JOIN_STEPS_PER_OP` steps per op
of its partition, and only then do the others join the race: most linearizable
histories are decided by then (``call-order`` places each op a few times over), and pay
nothing for the race; a hard one pays at most this head start. Without ops of unknown
outcome the orders are the same search, so nothing joins.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Generator
from typing import Literal

from smrkit.check.lin_search import PartitionSearch, walk

JOIN_STEPS_PER_OP = 16

Verdict = Literal["linearizable", "violation", "unknown"]
# What a race says about a partition: its verdict, and the order that decided it.
Decision = tuple[Verdict, str | None]
Walker = Generator[None, None, bool]


def race(
    searches: list[PartitionSearch], strategies: tuple[str, ...], deadline: float
) -> list[Decision]:
    """Run every partition's walkers round robin, one slice each per turn, until all
    partitions are decided, one is a violation, or the clock passes ``deadline``
    (``time.perf_counter``)."""
    decided: list[Decision] = [("unknown", None)] * len(searches)
    turns: deque[tuple[int, deque[tuple[str, Walker]], list[str]]] = deque()
    for index, search in enumerate(searches):
        first, *later = strategies
        turns.append((index, deque([(first, walk(search, first))]), later))
    clock = time.perf_counter
    while turns:
        if clock() > deadline:
            break  # checked first too: a budget spent before the search starts gives unknown
        index, walkers, later = turns.popleft()
        search = searches[index]
        name, walker = walkers.popleft()
        try:
            next(walker)
        except StopIteration as stop:
            decided[index] = ("linearizable" if stop.value else "violation", name)
            if stop.value:
                search.release()
                continue
            return decided
        walkers.append((name, walker))
        if later and search.optional and search.steps > JOIN_STEPS_PER_OP * len(search.ops):
            joining = later.pop(0)
            walkers.append((joining, walk(search, joining)))
        turns.append((index, walkers, later))
    return decided
