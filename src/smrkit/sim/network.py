"""Timing models: when a message sent now is delivered.

:class:`SynchronousNetwork` is the model of seed 001 §3: every message over a nonfaulty
link arrives within δ (its delay is drawn uniformly from ``[delta_min_s, delta_s]``),
links are FIFO, and clocks are perfectly synchronized (the simulator's virtual time is
everyone's clock). FIFO is kept by never scheduling a delivery before the previous
delivery on the same directed link; equal times are then ordered by send order.
"""

from __future__ import annotations

import random

from smrkit.core.ids import NodeId


class SynchronousNetwork:
    """Delays in ``[delta_min_s, delta_s]``, FIFO per directed link."""

    name = "synchronous"

    def __init__(self, delta_s: float, delta_min_s: float, rng: random.Random) -> None:
        if not 0.0 <= delta_min_s <= delta_s:
            raise ValueError(f"need 0 <= delta_min ({delta_min_s}) <= delta ({delta_s})")
        self.delta_s = delta_s
        self.delta_min_s = delta_min_s
        self._rng = rng
        self._last: dict[tuple[NodeId, NodeId], float] = {}

    def delivery_time(self, src: NodeId, dst: NodeId, now: float) -> float:
        """When a message sent now from ``src`` reaches ``dst``'s queue."""
        at = now + self._rng.uniform(self.delta_min_s, self.delta_s)
        link = (src, dst)
        last = self._last.get(link)
        if last is not None and at < last:
            at = last
        self._last[link] = at
        return at
