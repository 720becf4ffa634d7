"""One lock-step run of an agreement protocol, judged by seed 002's specifications.

:func:`run_rounds` runs a list of processes (:class:`~smrkit.core.node.ConsensusProcess`
nodes, some made Byzantine by the fault plan) round after round until every correct
process is done, and judges the run with the checkers of :mod:`smrkit.check.agreement`:
the Byzantine versions bind only the honest processes. A broadcast (Dolev-Strong) is
judged as terminating reliable broadcast from its sender; a consensus protocol (EIG) as
consensus.

A Byzantine sender has no ``proposed`` record (observers do not speak for Byzantine
nodes), so what it *broadcast*, for integrity, is every value it signed as the first
link of a chain that left it: a value no signature of the sender's vouches for is an
invention, and integrity names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smrkit.check.agreement import PropertyCheck, consensus_checks, correct_processes, trb_checks
from smrkit.core.node import Node
from smrkit.sim.faults import FaultPlan
from smrkit.sim.kernel.records import PROPOSED, SEND, Record
from smrkit.sim.network import LockStepNetwork
from smrkit.sim.simulator import Simulator

ROUNDS_MAX = 64
"""A run stops after this many rounds even if a process is still not done."""


@dataclass
class RoundsRun:
    """A finished run: its records, who was Byzantine and correct, and the verdicts."""

    records: list[Record]
    byzantine: tuple[str, ...]
    correct: tuple[str, ...]
    checks: dict[str, PropertyCheck]
    rounds: int

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def decisions(self) -> dict[str, Any]:
        """Each correct process's last decision (absent: it never decided)."""
        out: dict[str, Any] = {}
        for record in self.records:
            if record.kind == "decided" and record.node in self.correct:
                out[record.node] = record.data
        return out


def simulate_rounds(
    nodes: Sequence[Node], faults: Sequence[str] = (), *, seed: int = 0
) -> tuple[list[Record], tuple[str, ...]]:
    """Run ``nodes`` in lock-step under the fault plan ``faults``; the records and the
    Byzantine nodes."""
    plan = FaultPlan.parse(faults)
    sim = Simulator(
        nodes,
        seed=seed,
        network=LockStepNetwork(),
        plan=plan,
        header={"protocol": "rounds", "seed": seed, "faults": list(plan.specs)},
        time_limit_s=float(ROUNDS_MAX),
    )
    sim.run()
    return list(sim.world.log), sim.world.byzantine


def run_rounds(
    nodes: Sequence[Node],
    faults: Sequence[str] = (),
    *,
    seed: int = 0,
    sender: str | None = None,
    sf: Any = None,
) -> RoundsRun:
    """Run and judge: TRB from ``sender`` (delivering ``sf`` needs no broadcast) when a
    sender is named, consensus otherwise."""
    ids = [node.id for node in nodes]
    records, byzantine = simulate_rounds(nodes, faults, seed=seed)
    correct = tuple(correct_processes(records, ids, byzantine))
    if sender is None:
        checks = consensus_checks(records, correct, byzantine=byzantine)
    else:
        if sender in byzantine:
            records = records + signed_by_sender(records, sender)
        checks = trb_checks(records, correct, sender, sf=sf)
    rounds = max((r.num for r in records if r.kind == "round"), default=0)
    return RoundsRun(records, tuple(byzantine), correct, checks, rounds)


def signed_by_sender(records: Sequence[Record], sender: str) -> list[Record]:
    """A ``proposed`` record for each value ``sender`` signed first in a chain it sent."""
    seen: list[Any] = []
    for record in records:
        if record.kind != SEND or record.node != sender:
            continue
        links = getattr(record.data, "links", ())
        if links and links[0].signer == sender and record.data.value not in seen:
            seen.append(record.data.value)
    return [Record(0.0, PROPOSED, sender, None, 0, value) for value in seen]
