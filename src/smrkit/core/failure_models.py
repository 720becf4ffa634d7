"""The failure-model hierarchy of seed 001 (§3) and its Table 1 of lower bounds.

In increasing severity: *crash* (a server halts; a time-out detects it), *crash+link* (a
server crashes or a link loses messages), *send omission* and *receive omission* (a
faulty server omits to send, or to receive, some messages over nonfaulty links), and
*general omission* (both). Failures are counted per faulty component: one omission-faulty
server counts once however many messages it omits. Beyond Table 1 lies *Byzantine*
failure (seeds 002 and 003): a faulty server runs arbitrary code — it may crash, omit,
lie or equivocate — but cannot forge another server's signature.

:func:`lower_bounds` returns Table 1 for a model, a number of failures ``f`` and the
message-delay bound δ: the least number of servers, the least blocking time (in
failure-free runs, from a request reaching the primary to the response leaving it) and
the least failover time (the longest interval with no primary). The †-bounds assume
D < Γ (the service tells clients about a new primary by itself); the *-bounds are not
known to be tight. :data:`TABLE_1` lists the five benign models the table covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FailureModel(Enum):
    CRASH = "crash"
    CRASH_LINK = "crash+link"
    SEND_OMISSION = "send-omission"
    RECEIVE_OMISSION = "receive-omission"
    GENERAL_OMISSION = "general-omission"
    BYZANTINE = "byzantine"

    @property
    def severity(self) -> int:
        """Position in the hierarchy; a protocol for a model tolerates the weaker ones,
        except that crash+link sits beside, not below, the omission models."""
        return list(FailureModel).index(self)


TABLE_1 = (
    FailureModel.CRASH,
    FailureModel.CRASH_LINK,
    FailureModel.RECEIVE_OMISSION,
    FailureModel.SEND_OMISSION,
    FailureModel.GENERAL_OMISSION,
)
"""The benign failure models of seed 001's Table 1, in the table's order."""


@dataclass(frozen=True, slots=True)
class LowerBounds:
    """Table 1 of seed 001 for one failure model, ``f`` and δ."""

    model: FailureModel
    f: int
    replicas_min: int
    blocking_s: float
    failover_s: float
    assumes_d_below_gamma: bool
    known_tight: bool
    theorems: str


def lower_bounds(model: FailureModel, f: int, delta_s: float) -> LowerBounds:
    """Table 1: the least replication, blocking and failover any protocol can achieve."""
    if f < 0:
        raise ValueError(f"f must be at least 0, got {f}")
    if f == 0:
        return LowerBounds(model, 0, 1, 0.0, 0.0, False, True, "no failure to tolerate")
    omission_blocking = delta_s if f == 1 else 2 * delta_s
    if model is FailureModel.CRASH:
        return LowerBounds(model, f, f + 1, 0.0, f * delta_s, False, True, "Thm 1, 9")
    if model is FailureModel.CRASH_LINK:
        return LowerBounds(model, f, f + 2, 0.0, 2 * f * delta_s, True, True, "Thm 2, 10")
    if model is FailureModel.RECEIVE_OMISSION:
        return LowerBounds(
            model,
            f,
            (3 * f) // 2 + 1,
            omission_blocking,
            2 * f * delta_s,
            True,
            False,
            "Thm 3, 5, 6, 11",
        )
    if model is FailureModel.SEND_OMISSION:
        return LowerBounds(
            model, f, f + 1, omission_blocking, 2 * f * delta_s, False, True, "Thm 1, 7, 8, 12"
        )
    if model is FailureModel.BYZANTINE:
        # A Byzantine server can behave as a general-omission one, so every bound of that
        # row holds here too; none is known to be tight. With signatures and synchrony
        # (the kernel's model) n > 2f is the least; without signatures, or under partial
        # synchrony, agreement needs n > 3f (seeds 002 and 003).
        return LowerBounds(
            model,
            f,
            2 * f + 1,
            omission_blocking,
            2 * f * delta_s,
            False,
            False,
            "general omission's (Thm 4, 7, 8, 12); n > 3f without signatures",
        )
    return LowerBounds(
        model, f, 2 * f + 1, omission_blocking, 2 * f * delta_s, False, True, "Thm 4, 7, 8, 12"
    )
