"""What a Jepsen-style run says about availability, measured against the offered load.

A service that answers nothing issues, to a closed-loop client, almost nothing to count,
so a ratio over the operations *issued* stays near 100 % while the service is dead.
Every figure here is therefore over the *offered* load (``rate × time``) and over
wall-clock time, from the instants at which operations were acknowledged (an ``ok``
op's return):

* acknowledged operations per second, one bin per second of the run;
* the stretches with no acknowledged operation: the longest one, and every one of at
  least ``OUTAGE_MIN_S`` (an *outage*), from the start of the load to its end;
* per fault window (up to its heal, or the next fault): the longest stretch without
  an acknowledgement that overlaps it, and, once healed, how long until the next
  acknowledgement (time to recover).

Pure functions of the acknowledgement instants and the fault windows; no I/O.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

OUTAGE_MIN_S = 1.0
"""A stretch this long with no acknowledged operation counts as an outage."""


@dataclass(frozen=True)
class Gap:
    """``[start, end]``: no operation was acknowledged in between."""

    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, float]:
        return {"start": self.start, "end": self.end, "seconds": self.length}


def per_second(acks: Sequence[float], time_s: float) -> list[int]:
    """Acknowledged operations in each second ``[i, i + 1)`` of ``[0, time_s)``; acks
    after the load ended (operations still under way then) count in the last second."""
    bins = [0] * max(1, math.ceil(time_s))
    for t in acks:
        bins[min(len(bins) - 1, max(0, int(t)))] += 1
    return bins


def gaps(acks: Sequence[float], time_s: float) -> list[Gap]:
    """Every stretch of ``[0, time_s]`` between consecutive acknowledgements (and from
    the start to the first, and from the last to the end), longest first."""
    instants = sorted(t for t in acks if 0.0 <= t <= time_s)
    edges = [0.0, *instants, time_s]
    found = [Gap(a, b) for a, b in itertools.pairwise(edges) if b > a]
    return sorted(found, key=lambda gap: gap.length, reverse=True)


def longest_gap(acks: Sequence[float], time_s: float) -> Gap:
    found = gaps(acks, time_s)
    return found[0] if found else Gap(0.0, 0.0)


def outages(acks: Sequence[float], time_s: float, min_s: float = OUTAGE_MIN_S) -> list[Gap]:
    """The stretches of at least ``min_s`` with no acknowledgement, in time order."""
    return sorted((g for g in gaps(acks, time_s) if g.length >= min_s), key=lambda g: g.start)


def outage_during(acks: Sequence[float], time_s: float, start: float, end: float) -> Gap | None:
    """The longest stretch with no acknowledgement that overlaps ``[start, end]``."""
    overlapping = [g for g in gaps(acks, time_s) if g.start < end and g.end > start]
    return overlapping[0] if overlapping else None


def recovery_s(acks: Sequence[float], healed_at: float) -> float | None:
    """Seconds from ``healed_at`` to the next acknowledgement; ``None``: none came."""
    after = [t for t in acks if t >= healed_at]
    return min(after) - healed_at if after else None
