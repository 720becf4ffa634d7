"""What the lock-step agreement protocols share: their configuration and messages.

A process of these protocols is built as ``Class(node_id, RoundConfig(...))``. Rounds
follow the kernel's lock-step numbering (:mod:`smrkit.sim.kernel`): ``on_round(r,
inbox)`` receives round r − 1's messages and sends round r's, so a decision taken in
``on_round(r + 1, …)`` on round r's messages is a decision *in round r* — the seeds'
numbering, which the consensus observer records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import ConsensusProcess, Out
from smrkit.core.ops import Value


@dataclass(frozen=True)
class RoundConfig:
    """One process's immutable configuration.

    ``peers`` are all the processes (itself included), ``f`` the crashes tolerated,
    ``rounds`` the round R after which a process decides whatever it has (f + 1 for
    floodset; ``smrkit rounds`` sets fewer to watch it break), ``value`` its proposal,
    ``sender`` the broadcaster (terminating reliable broadcast only)."""

    peers: tuple[NodeId, ...]
    f: int
    rounds: int
    value: Value
    sender: NodeId | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.f < len(self.peers):
            raise ValueError(f"f = {self.f} must lie in [0, n - 1 = {len(self.peers) - 1}]")
        if self.rounds < 1:
            raise ValueError(f"a process decides after at least one round, got {self.rounds}")

    def others(self, me: NodeId) -> list[NodeId]:
        return [p for p in self.peers if p != me]


@dataclass(frozen=True, slots=True)
class Known(Message):
    """Every value the sender knows (floodset's W)."""

    values: frozenset[Value]


@dataclass(frozen=True, slots=True)
class Decided(Message):
    """The sender decided ``value`` (early stopping: the receiver adopts it)."""

    value: Value


class ValueSetProcess(ConsensusProcess):
    """A process that proposes its configured value and keeps the set W of values it
    knows (``known``), starting from its own: what the flooding protocols share."""

    def __init__(self, node_id: NodeId, config: RoundConfig) -> None:
        super().__init__(node_id)
        self.config = config
        self.known: frozenset[Value] = frozenset()
        self.decided_in: int | None = None
        """The round of its decision (the seeds' numbering), for a search, which sees
        states, not the records that say it: ``smrkit explore`` judges the protocol's
        decision-round claim by it."""

    def on_start(self, out: Out) -> None:
        self.propose(self.config.value)
        self.known = frozenset([self.config.value])


def least(values: frozenset[Value]) -> Value:
    """The least of ``values`` (proposals of one type: ints, or strings)."""
    return min(values)  # type: ignore[type-var]


def default_value(index: int) -> Value:
    """The proposal of the ``index``-th process (from 0) when none is given: p1 proposes
    0, p2 proposes 1, … — distinct, so a hidden value shows."""
    return index


def round_processes(
    make: Callable[[NodeId, RoundConfig], ConsensusProcess],
    peers: Sequence[NodeId],
    f: int,
    rounds: int,
    values: Sequence[Value] | None = None,
    sender: NodeId | None = None,
) -> list[ConsensusProcess]:
    """One process per peer, ``make(node_id, config)``, each proposing its value."""
    proposals = [default_value(i) for i in range(len(peers))] if values is None else values
    if len(proposals) != len(peers):
        raise ValueError(f"{len(proposals)} values for {len(peers)} processes")
    return [
        make(p, RoundConfig(tuple(peers), f, rounds, v, sender))
        for p, v in zip(peers, proposals, strict=True)
    ]
