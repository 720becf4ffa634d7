"""Networks: when a message sent now arrives, and what clock the nodes read.

A network is the half of a timing model that lives in the world (its random generator
is part of the world's state and is copied with it); the other half, which event
happens next, is a chooser (:mod:`smrkit.sim.choosers`). Each network says:

* ``clock`` — how the world's time runs: ``seconds`` (virtual seconds; every event has
  a time fixed when it was scheduled, and the world keeps them in an agenda),
  ``rounds`` (lock-step: round r starts at r · ``round_s`` virtual seconds, so
  time-outs of an event-driven protocol still mean something) or ``steps`` (``async``:
  the number of events so far);
* ``clock_visible`` — whether ``out.now`` shows that clock to the nodes (under
  ``async`` there is no clock: nodes read 0.0, and a time-out is just a message to
  oneself that the adversary delivers when it likes);
* ``delivery_time(src, dst, now)`` — when a message sent now is due.

:class:`SynchronousNetwork` is the model of seed 001 §3: every message over a nonfaulty
link arrives within δ (its delay is drawn uniformly from ``[delta_min_s, delta_s]``),
links are FIFO, and clocks are perfectly synchronized. FIFO is kept by never scheduling
a delivery before the previous delivery on the same directed link; equal times are then
ordered by send order. :class:`PartialSyncNetwork` is Dwork, Lynch and Stockmeyer's
partial synchrony (seed 003): before GST the adversary delays and reorders messages
(delays up to a cap), yet a message sent at t arrives by max(t, GST) + δ.
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from typing import Protocol, TypeVar

from smrkit.core.ids import NodeId

Link = TypeVar("Link", bound=Hashable)

SECONDS = "seconds"
ROUNDS = "rounds"
STEPS = "steps"


class Network(Protocol):
    name: str
    clock: str
    clock_visible: bool

    def delivery_time(self, src: NodeId, dst: NodeId, now: float) -> float:
        """When a message sent now from ``src`` reaches ``dst``'s queue."""
        ...


class SynchronousNetwork:
    """Delays in ``[delta_min_s, delta_s]``, FIFO per directed link."""

    name = "synchronous"
    clock = SECONDS
    clock_visible = True

    def __init__(self, delta_s: float, delta_min_s: float, rng: random.Random) -> None:
        if not 0.0 <= delta_min_s <= delta_s:
            raise ValueError(f"need 0 <= delta_min ({delta_min_s}) <= delta ({delta_s})")
        self.delta_s = delta_s
        self.delta_min_s = delta_min_s
        self.rng = rng
        self.last_due: dict[tuple[NodeId, NodeId], float] = {}

    def delivery_time(self, src: NodeId, dst: NodeId, now: float) -> float:
        at = now + self.rng.uniform(self.delta_min_s, self.delta_s)
        return fifo_due(self.last_due, (src, dst), at)


def fifo_due(last_due: dict[Link, float], link: Link, at: float) -> float:
    """When a message on ``link`` that would arrive at ``at`` is delivered on a FIFO link:
    never before the link's previous message (at an equal time, send order decides).
    Records it in ``last_due`` — the network's, or a search's lean copy of it."""
    last = last_due.get(link)
    if last is not None and at < last:
        at = last
    last_due[link] = at
    return at


class ChosenDelays(random.Random):
    """The "generator" of a :class:`SynchronousNetwork` whose delays are chosen, not
    drawn: each ``uniform`` returns the next delay queued in ``pending`` (a model
    checker's adversary picks them from a finite set; a replay of its path queues them
    again). FIFO per link is the network's, as for drawn delays."""

    def __init__(self) -> None:
        super().__init__(0)
        self.pending: list[float] = []

    def uniform(self, a: float, b: float) -> float:
        if not self.pending:
            raise RuntimeError("no delay chosen for a message")
        return self.pending.pop(0)


def chosen_delay_network(delta_s: float, delta_min_s: float) -> SynchronousNetwork:
    """The synchronous network with each delay taken from ``network.rng.pending``."""
    return SynchronousNetwork(delta_s, delta_min_s, ChosenDelays())


class PartialSyncNetwork:
    """Before ``gst_s``: delays drawn from ``[delta_min_s, delay_cap_s]``, no FIFO, but
    every message sent at t arrives by max(t, GST) + δ; from GST on: within δ."""

    name = "partial-sync"
    clock = SECONDS
    clock_visible = True

    def __init__(
        self,
        delta_s: float,
        delta_min_s: float,
        gst_s: float,
        delay_cap_s: float,
        rng: random.Random,
    ) -> None:
        if not 0.0 <= delta_min_s <= delta_s <= delay_cap_s:
            raise ValueError(
                f"need 0 <= delta_min ({delta_min_s}) <= delta ({delta_s}) "
                f"<= delay cap ({delay_cap_s})"
            )
        if gst_s < 0:
            raise ValueError(f"GST must be >= 0, got {gst_s}")
        self.delta_s = delta_s
        self.delta_min_s = delta_min_s
        self.gst_s = gst_s
        self.delay_cap_s = delay_cap_s
        self.rng = rng

    def delivery_time(self, src: NodeId, dst: NodeId, now: float) -> float:
        if now >= self.gst_s:
            return now + self.rng.uniform(self.delta_min_s, self.delta_s)
        at = now + self.rng.uniform(self.delta_min_s, self.delay_cap_s)
        return min(at, self.gst_s + self.delta_s)


class AsyncNetwork:
    """No clock and no bound: a message is in the pool until the adversary delivers it."""

    name = "async"
    clock = STEPS
    clock_visible = False

    def delivery_time(self, src: NodeId, dst: NodeId, now: float) -> float:
        return now


class LockStepNetwork:
    """Rounds of ``round_s`` virtual seconds: a message sent in round r is delivered at
    the start of round r + 1."""

    name = "lock-step"
    clock = ROUNDS
    clock_visible = True

    def __init__(self, round_s: float = 1.0) -> None:
        if round_s <= 0:
            raise ValueError(f"a round lasts a positive time, got {round_s}")
        self.round_s = round_s

    def round_at(self, now: float) -> int:
        """The round that starts at (or last started before) ``now``."""
        return max(0, int(now / self.round_s + 1e-9))

    def delivery_time(self, src: NodeId, dst: NodeId, now: float) -> float:
        return (self.round_at(now) + 1) * self.round_s
