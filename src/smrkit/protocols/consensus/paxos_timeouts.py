"""Single-decree Paxos with proposer time-outs: what escapes FLP by partial synchrony.

Algorithm. Every process proposes its input and is an acceptor; any process may lead a
ballot ``(round, rank)``. A leader sends ``Prepare(b)`` to everyone (itself included);
an acceptor that has promised nothing higher promises b and answers ``Promise(b, its
last accepted (ballot, value))``. With promises from a majority the leader sends
``Accept(b, v)``, v being the value of the highest-ballot accepted proposal among the
promises, or its own input if there is none; an acceptor that has promised nothing
higher than b accepts and answers ``Accepted(b)``. With a majority of those the value is
chosen: the leader decides it and sends ``Decided(v)``, on which every process decides.
A decided process answers any later ``Prepare`` with ``Decided``.

Time-outs. Process p1 leads ballot (1, 1) at once. Every undecided process keeps a
time-out of 6·rank·δ (δ the delay bound after GST): a ballot takes two round trips and
the ``Decided`` broadcast, 5δ, so the lowest-ranked live process has time to finish
before the next one starts. When it fires, the process leads a new ballot above the
highest it has seen; when the process hears a ``Prepare`` or ``Accept`` at least as high
as its promise from another leader, it restarts the time-out (a leader is at work:
back off). Staggered by rank, two processes reset by the same message fire at least 5δ
apart, so after GST a ballot is not pre-empted by a duel.

Failure and timing model. Crash failures of a minority (n ≥ 2f + 1); partial synchrony
(Dwork, Lynch and Stockmeyer; seed 003): before GST messages are delayed and reordered
arbitrarily, after GST each takes at most δ; clocks are synchronized. Safety holds under
any timing, even asynchrony (ballots are Paxos ballots: once a value is chosen, every
higher ballot proposes it). Liveness only after GST — under asynchrony dueling leaders
can pre-empt each other forever, as FLP says some run must.

Bounds. A ballot decides in 4δ after GST (5δ until every process hears ``Decided``),
4(n − 1) + (n − 1) messages in the failure-free case. The time from GST to the last
decision depends on when the time-outs were last reset before GST: at most one time-out
of the lowest-ranked correct process after every pre-GST message has arrived
(GST + δ), plus a ballot — measured in ``bench/flp_escapes.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, rank
from smrkit.core.messages import Message
from smrkit.core.node import ConsensusProcess, Out, Timer
from smrkit.protocols.claims import ConsensusClaims
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, register

Ballot: TypeAlias = tuple[int, int]
"""``(round, rank of the leader)``; ``(0, 0)`` before any."""

TIMEOUT_DELAYS = 6
"""A time-out is this many δ per rank: one ballot (5δ) and a δ of slack."""

LEAD = "lead"
"""The timer after which an undecided process leads a new ballot (a plain string, so
that traces carry it)."""


@dataclass(frozen=True, slots=True)
class Prepare(Message):
    ballot: Ballot


@dataclass(frozen=True, slots=True)
class Promise(Message):
    ballot: Ballot
    accepted: tuple[Ballot, int] | None


@dataclass(frozen=True, slots=True)
class Accept(Message):
    ballot: Ballot
    value: int


@dataclass(frozen=True, slots=True)
class Accepted(Message):
    ballot: Ballot


@dataclass(frozen=True, slots=True)
class Decided(Message):
    value: int


@dataclass(frozen=True)
class TimedPaxosConfig:
    peers: tuple[NodeId, ...]
    """Every process, this one included, in rank order."""
    timeout_s: float

    @property
    def majority(self) -> int:
        return len(self.peers) // 2 + 1


class TimedPaxos(ConsensusProcess):
    """One process: proposer of ``value``, acceptor, and leader on its time-out."""

    def __init__(
        self, node_id: NodeId, peers: tuple[NodeId, ...], value: int, delta_s: float
    ) -> None:
        super().__init__(node_id)
        if delta_s <= 0:
            raise ValueError(f"δ must be positive, got {delta_s}")
        self.config = TimedPaxosConfig(peers, TIMEOUT_DELAYS * rank(node_id) * delta_s)
        self.input = value
        self.promised: Ballot = (0, 0)
        self.accepted: tuple[Ballot, int] | None = None
        self.leading: Ballot = (0, 0)
        self.promises: dict[NodeId, tuple[Ballot, int] | None] = {}
        self.accepts: list[NodeId] = []
        self.offered: int | None = None
        """The value this process sent ``Accept`` for in the ballot it leads."""
        self.ballots_led = 0
        self.chosen: int | None = None

    def on_start(self, out: Out) -> None:
        self.propose(self.input)
        if rank(self.id) == 1:
            self._lead(out)
        else:
            out.set_timer(LEAD, self.config.timeout_s)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer == LEAD and not self.decided:
            self._lead(out)

    def _lead(self, out: Out) -> None:
        self.leading = (max(self.promised[0], self.leading[0]) + 1, rank(self.id))
        self.promises = {}
        self.accepts = []
        self.offered = None
        self.ballots_led += 1
        out.send_all(self.config.peers, Prepare(self.leading))
        out.set_timer(LEAD, self.config.timeout_s)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if self.decided:
            if isinstance(msg, Prepare) and self.chosen is not None:
                out.send(src, Decided(self.chosen))
            return
        peers = self.config.peers
        match msg:
            case Prepare(ballot=b) if b > self.promised:
                self.promised = b
                out.send(src, Promise(b, self.accepted))
                if src != self.id:
                    out.set_timer(LEAD, self.config.timeout_s)
            case Promise(ballot=b, accepted=last) if b == self.leading and self.offered is None:
                self.promises[src] = last
                self.promises = dict(sorted(self.promises.items()))
                if len(self.promises) >= self.config.majority:
                    prior = [a for a in self.promises.values() if a is not None]
                    value = max(prior)[1] if prior else self.input
                    self.offered = value
                    out.send_all(peers, Accept(b, value))
            case Accept(ballot=b, value=v) if b >= self.promised:
                self.promised = b
                self.accepted = (b, v)
                out.send(src, Accepted(b))
                if src != self.id:
                    out.set_timer(LEAD, self.config.timeout_s)
            case Accepted(ballot=b) if b == self.leading and self.offered is not None:
                if src not in self.accepts:
                    self.accepts = sorted([*self.accepts, src])
                if len(self.accepts) >= self.config.majority:
                    self._decide(self.offered, out)
                    out.send_all([p for p in peers if p != self.id], Decided(self.offered))
            case Decided(value=v):
                self._decide(v, out)
            case _:
                pass

    def _decide(self, value: int, out: Out) -> None:
        self.chosen = value
        self.decide(value)
        self.done = True
        out.cancel_timer(LEAD)


def timed_paxos_processes(inputs: tuple[int, ...], delta_s: float) -> list[TimedPaxos]:
    """Processes ``p1 … pn`` with the given inputs and the delay bound ``delta_s``."""
    peers = tuple(f"p{i}" for i in range(1, len(inputs) + 1))
    return [TimedPaxos(p, peers, v, delta_s) for p, v in zip(peers, inputs, strict=True)]


def _build(config: ProtocolConfig) -> list[TimedPaxos]:
    return [
        TimedPaxos(p, config.servers, v, config.delta_s)
        for p, v in zip(config.servers, config.inputs, strict=True)
    ]


SPEC = register(
    ProtocolSpec(
        name="paxos-timeouts",
        title="single-decree Paxos with proposer time-outs, n = 2f + 1 (live after GST)",
        failure_model=FailureModel.CRASH,
        replicas_default=3,
        build=_build,
        tolerated=lambda n: (n - 1) // 2,
        replicas_problem=lambda n: None if n >= 1 else "paxos-timeouts needs at least 1 process",
        claims=lambda f, delta_s, tau_s: ConsensusClaims(),
        client_timeout_s=lambda delta_s, tau_s: 4 * delta_s,
        timings=("partial-sync", "synchronous"),
        serves_clients=False,
        takes_inputs=True,
    )
)
