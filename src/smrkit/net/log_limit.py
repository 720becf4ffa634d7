"""A replica's log must not grow without bound however hostile its input.

Every refused frame, dropped connection or failed ``accept`` is worth a line — until
someone sends sixty thousand of them. :class:`RateLimit` lets each kind of message
(same logger, level and format string) through ``per_window`` times per window; the
rest are counted, and the next one let through says how many were left out. The
number of kinds remembered is bounded too.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

PER_WINDOW = 10
WINDOW_S = 10.0
KINDS_MAX = 1000


class RateLimit(logging.Filter):
    def __init__(
        self,
        per_window: int = PER_WINDOW,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.per_window = per_window
        self.window_s = window_s
        self.clock = clock
        self._kinds: OrderedDict[tuple[str, int, str], list[float]] = OrderedDict()
        """Each kind's ``[window start, passed in it, left out since the last passed]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        now = self.clock()
        kind = (record.name, record.levelno, str(record.msg))
        state = self._kinds.get(kind)
        if state is None:
            state = self._kinds[kind] = [now, 0, 0]
            if len(self._kinds) > KINDS_MAX:
                self._kinds.popitem(last=False)
        if now - state[0] >= self.window_s:
            state[0], state[1] = now, 0
        if state[1] >= self.per_window:
            state[2] += 1
            return False
        state[1] += 1
        if state[2]:
            record.msg = f"{record.msg} [{int(state[2])} more like this left out]"
            state[2] = 0
        return True
