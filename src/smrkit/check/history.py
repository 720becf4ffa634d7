"""Histories: operations with invocation and completion times and an outcome.

A history is what clients saw, independent of how the service is built. Each
:class:`Operation` has a call time, a return time and a status:

* ``ok`` — it took effect and ``output`` is what it returned (unless ``output_known`` is
  false, as for a Jepsen read that timed out: any output is acceptable);
* ``fail`` — it definitely did not take effect; checkers leave it out;
* ``info`` — unknown: it may have taken effect at any point after its call, or never, so
  it stays open until the end of the history (``ret`` is infinite).

The simulator's traces, smrkit's JSON Lines files and other tools' Jepsen logs all
become this one type (see :mod:`smrkit.check.parsers`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import Enum

from smrkit.core.ops import Value


class Status(Enum):
    OK = "ok"
    FAIL = "fail"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a history. ``id`` is its position in the history."""

    id: int
    process: str
    f: str
    key: str | None
    arg: Value
    output: Value
    status: Status
    call: float
    ret: float
    output_known: bool = True

    def __post_init__(self) -> None:
        if self.status is Status.INFO and self.ret != math.inf:
            raise ValueError(f"info op {self.id} must stay open (ret = inf)")
        if self.ret < self.call:
            raise ValueError(f"op {self.id} returns ({self.ret}) before its call ({self.call})")

    def describe(self) -> str:
        """A short human form: ``c1 put x 'a' -> None [0.100, 0.120]``."""
        parts = [self.process, self.f]
        if self.key is not None:
            parts.append(self.key)
        if self.arg is not None:
            parts.append(repr(self.arg))
        text = " ".join(parts)
        if self.status is Status.OK:
            text += f" -> {self.output!r}" if self.output_known else " -> ?"
        else:
            text += f" ({self.status.value})"
        end = "∞" if self.ret == math.inf else f"{self.ret:.6g}"
        return f"{text} [{self.call:.6g}, {end}]"


@dataclass
class History:
    """A list of operations plus what a checker needs to interpret them.

    ``model`` names the sequential spec (``kv``, ``register`` or ``counter``, see
    :mod:`smrkit.apps`); ``initial`` is the state of every partition before any op.
    """

    ops: list[Operation]
    model: str = "kv"
    initial: Value = None
    source: str = ""
    meta: dict[str, object] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """``invoked`` and the number of ops per status."""
        result = {"invoked": len(self.ops), "ok": 0, "fail": 0, "info": 0}
        for op in self.ops:
            result[op.status.value] += 1
        return result

    def with_ops(self, ops: list[Operation]) -> History:
        return replace(self, ops=ops)
