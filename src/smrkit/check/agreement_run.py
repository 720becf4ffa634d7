"""Judge a run of an agreement protocol (seed 002) against its specification and claims.

``smrkit sim`` on a protocol whose claims are :class:`~smrkit.protocols.claims.
ConsensusClaims` comes here instead of the primary-backup checks: the run's records are
judged by :mod:`smrkit.check.agreement` — consensus (termination, validity, agreement,
integrity) or terminating reliable broadcast from the claims' sender — and against the
round the protocol claims to decide by: ``decides_by_round`` (f + 1 for floodset), or,
for an early-stopping protocol, min(f' + 2, f + 1) where f' is the number of processes
that crashed in this run. The processes bound are those neither crashed, halted nor
Byzantine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smrkit.check.agreement import (
    PropertyCheck,
    consensus_checks,
    correct_processes,
    trb_checks,
)
from smrkit.protocols.claims import ConsensusClaims
from smrkit.sim.kernel.records import CRASH, DECIDED, DELIVERED, PROPOSED, Record
from smrkit.sim.trace import Trace

TRB = "terminating-reliable-broadcast"


@dataclass
class AgreementEvaluation:
    """The verdicts of an agreement run and its figures."""

    checks: dict[str, PropertyCheck]
    processes: list[str]
    correct: list[str]
    crashed: list[str]
    decided_in: dict[str, int | None]
    """Each process's first decision round (``None`` outside lock-step)."""

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.ok]

    @property
    def decided_round_max(self) -> int | None:
        """The last round in which a correct process first decided (``None`` if none
        did, or the run was not in rounds)."""
        rounds = [r for p, r in self.decided_in.items() if p in self.correct and r is not None]
        return max(rounds, default=None)

    def measured(self) -> dict[str, Any]:
        return {
            "decided_round_max": self.decided_round_max,
            "crashes": len(self.crashed),
            "decided_in": dict(self.decided_in),
        }


def evaluate_agreement(
    trace: Trace, claims: ConsensusClaims, *, byzantine: tuple[str, ...] = ()
) -> AgreementEvaluation:
    """The checks of ``claims``' specification over ``trace``, and its round claim."""
    byzantine = tuple(sorted(set(byzantine) | trace.byzantine))
    return evaluate_records(trace.events, trace.servers, claims, byzantine=byzantine)


def evaluate_records(
    events: Sequence[Record],
    processes: list[str],
    claims: ConsensusClaims,
    *,
    byzantine: tuple[str, ...] = (),
) -> AgreementEvaluation:
    """The same over a run's ``events`` (a trace's, or what a search's final state says)
    among ``processes``, the ``byzantine`` ones not bound."""
    correct = correct_processes(events, processes, byzantine)
    crashed = [r.node for r in events if r.kind == CRASH]
    if claims.specification == TRB:
        if claims.sender is None:
            raise ValueError("terminating reliable broadcast claims name no sender")
        if claims.sender in byzantine:
            events = [*events, *byzantine_broadcasts(events, claims.sender)]
        checks = trb_checks(events, correct, claims.sender)
    else:
        checks = consensus_checks(events, correct, byzantine=byzantine)
    decided_in = {node: record.num for node, record in first_decisions(events).items()}
    evaluation = AgreementEvaluation(checks, processes, correct, crashed, decided_in)
    if claims.decides_by_round is not None:
        checks["decides_by_round"] = _decides_by(evaluation, claims)
    return evaluation


def first_decisions(events: Sequence[Record]) -> dict[str, Record]:
    """Each process's first ``decided`` record (its time, round and value); integrity
    judges any later one."""
    found: dict[str, Record] = {}
    for record in events:
        if record.kind == DECIDED and record.node not in found:
            found[record.node] = record
    return found


def byzantine_broadcasts(events: Sequence[Record], sender: str) -> list[Record]:
    """A Byzantine sender broadcasts whatever it chooses, and no observer records it: each
    value a process delivered from it counts as its broadcast (a ``proposed`` record), so
    integrity binds the correct processes to deliver at most one message, as the
    Byzantine specification asks."""
    values = list(
        dict.fromkeys(r.data for r in events if r.kind == DELIVERED and r.other == sender)
    )
    return [Record(0.0, PROPOSED, sender, None, 0, value) for value in values]


def _decides_by(evaluation: AgreementEvaluation, claims: ConsensusClaims) -> PropertyCheck:
    name = "decides_by_round"
    bound = claims.decides_by_round
    assert bound is not None
    crashes = len(evaluation.crashed)
    why = f"round {bound}"
    if claims.early_stopping and crashes + 2 < bound:
        bound = crashes + 2
        why = f"round {bound} = min(f' + 2, f + 1), f' = {crashes}"
    # A correct process that never decided is late too: the claim is not vacuous.
    late = {
        p: evaluation.decided_in.get(p)
        for p in evaluation.correct
        if p not in evaluation.decided_in or (r := evaluation.decided_in[p]) is None or r > bound
    }
    if late:
        detail = f"the claim is {why}, but " + "; ".join(
            f"{p} never decided" if p not in evaluation.decided_in else f"{p} decided in round {r}"
            for p, r in late.items()
        )
        return PropertyCheck(name, False, detail, tuple(late), tuple(late.values()))
    return PropertyCheck(name, True, f"every correct process decided by {why}")
