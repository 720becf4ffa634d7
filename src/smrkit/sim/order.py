"""The order of events due at one instant: one rule, written once, for every runtime.

Protocols set timers at absolute instants computed from the round length and the delay
bound (``k·τ + 2δ``), so events fall due at the same instant on purpose: with 2δ = τ a
round's lease check and the next round's start coincide. The simulator and the TCP
runtime must then run them in the same order, or one runtime's run is not the other's.
The rule:

1. Instants are compared in whole nanoseconds (:data:`~smrkit.core.node.SAME_INSTANT_S`):
   ``3·0.05 + 0.02`` and ``4·0.05`` differ in the last bit of a float, not in time.
2. At one instant: faults first (``crash:p1@1.0`` crashes p1 before anything else at
   1.0), then node starts, then message deliveries, then timers — so a time-out at
   ``t + δ`` sees every message that arrived by ``t + δ``, as the model of seed 001
   requires ("enqueued at or before t + δ").
3. Within a class, first scheduled, first served: timers in the order they were set
   (within one step, in the order the handler set them), messages in the order sent.

The simulator keeps every event of a run in one heap ordered by :func:`event_key`. The
TCP runtime has no global heap — messages arrive when they arrive, and those that came
before a timer fired are handled before it — but it keeps each node's timers in a
:class:`TimerQueue` ordered by the same key.
"""

from __future__ import annotations

import heapq
from typing import TypeAlias

from smrkit.core.node import SAME_INSTANT_S, Timer

FAULT, START, DELIVER, TIMER = 0, 1, 2, 3
"""Event classes, in the order they run at one instant."""

EventKey: TypeAlias = tuple[int, int, int]


def instant(at: float) -> int:
    """``at`` (seconds) as a whole number of :data:`SAME_INSTANT_S` units."""
    return round(at / SAME_INSTANT_S)


def event_key(at: float, klass: int, seq: int) -> EventKey:
    """Where an event of class ``klass`` due at ``at`` and scheduled ``seq``-th goes in
    the order of a run."""
    return (instant(at), klass, seq)


class TimerQueue:
    """One node's pending timers in the order of the rule. Setting a timer again
    replaces it; a timer handed out by :meth:`pop_due` fires only if :meth:`take` finds
    it still current (it was not set again or cancelled in between)."""

    def __init__(self) -> None:
        self._heap: list[tuple[EventKey, float, Timer]] = []
        self._current: dict[Timer, int] = {}
        self._seq = 0

    def set(self, timer: Timer, at: float) -> None:
        self._seq += 1
        self._current[timer] = self._seq
        heapq.heappush(self._heap, (event_key(at, TIMER, self._seq), at, timer))

    def cancel(self, timer: Timer) -> None:
        self._current.pop(timer, None)

    def _live(self, key: EventKey, timer: Timer) -> bool:
        return self._current.get(timer) == key[2]

    def next_at(self) -> float | None:
        """When the earliest pending timer is due (``None``: none is)."""
        heap = self._heap
        while heap and not self._live(heap[0][0], heap[0][2]):
            heapq.heappop(heap)
        return heap[0][1] if heap else None

    def pop_due(self, now: float) -> list[tuple[Timer, int]]:
        """The timers due at ``now`` or before, in order, each with the number that
        :meth:`take` checks."""
        due: list[tuple[Timer, int]] = []
        limit = instant(now)
        heap = self._heap
        while heap and heap[0][0][0] <= limit:
            key, _, timer = heapq.heappop(heap)
            if self._live(key, timer):
                due.append((timer, key[2]))
        return due

    def take(self, timer: Timer, seq: int) -> bool:
        """Whether ``timer``, handed out with ``seq``, is still to fire (and mark it
        fired)."""
        if self._current.get(timer) != seq:
            return False
        del self._current[timer]
        return True

    def __len__(self) -> int:
        return len(self._current)
