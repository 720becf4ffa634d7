"""``paxos-single``: single-decree Paxos over binary inputs, every process a proposer,
acceptor and learner, ballots owned in a fixed proposer order — safe, and so, by FLP,
not live: the search builds a run of dueling proposers that never decides.

The algorithm. Ballot b belongs to process p((b − 1) mod n + 1): p1 owns 1, n + 1, …,
p2 owns 2, n + 2, … A process starts a ballot when its ``retry`` timer fires — under
``async`` a timer is a dummy message the adversary delivers when it likes: it is the
time-out of a proposer that suspects the others — taking the smallest ballot it owns
above every ballot it has seen, promising it itself, and sending ``Prepare(b)`` to the
others. An acceptor promises a ballot higher than any it promised and answers
``Promise(b, accepted)``. With promises from a majority (its own included) the proposer
sends ``Accept(b, v)``, v the value of the highest-ballot accepted proposal among them,
or its input if none. An acceptor accepts a ballot at least as high as its promise and
tells every process ``Accepted(b, v)``; a process decides v once a majority accepted
(b, v). The retry timer is set again after each ballot until the process decides.

Failure and timing model: crash failures, asynchronous delivery; n ≥ 2f + 1 (a majority
of live acceptors). Bounds: once one proposer runs alone, a decision after 4 message
delays (Prepare, Promise, Accept, Accepted): (n − 1)(n + 2) messages per ballot. Safety
(agreement, validity) holds in every run; termination does not: a proposer that
pre-empts another before its Accept round ends can be followed by one that pre-empts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out, Timer
from smrkit.protocols.consensus.binary import BinaryProcess

RETRY = "retry"
"""The proposer's time-out: fires whenever the adversary likes under ``async``."""

Accepted_: TypeAlias = tuple[int, int] | None
"""``(ballot, value)`` of the last proposal an acceptor accepted, if any."""


@dataclass(frozen=True, slots=True)
class Prepare(Message):
    ballot: int


@dataclass(frozen=True, slots=True)
class Promise(Message):
    ballot: int
    accepted: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Accept(Message):
    ballot: int
    value: int


@dataclass(frozen=True, slots=True)
class Accepted(Message):
    ballot: int
    value: int


class PaxosSingle(BinaryProcess):
    """Proposer, acceptor and learner of one decree (see the module docstring)."""

    def __init__(self, node_id: NodeId, processes: tuple[NodeId, ...], value: int) -> None:
        super().__init__(node_id, processes, value)
        self.promised = 0
        self.accepted: Accepted_ = None
        self.ballot = 0
        self.promises: dict[NodeId, Accepted_] = {}
        self.votes: dict[tuple[int, int], tuple[NodeId, ...]] = {}

    @property
    def majority(self) -> int:
        return self.config.n // 2 + 1

    def begin(self, out: Out) -> None:
        out.set_timer(RETRY, 1.0)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer != RETRY or self.decided:
            return
        n, rank = self.config.n, self.config.processes.index(self.id) + 1
        seen = max(self.promised, self.ballot)
        self.ballot = seen + ((rank - seen) % n or n)
        self.promised = self.ballot
        self.promises = {self.id: self.accepted}
        out.send_all(self.others, Prepare(self.ballot))
        out.set_timer(RETRY, 1.0)

    def receive(self, src: NodeId, msg: Message, out: Out) -> None:
        if self.decided:
            return
        match msg:
            case Prepare(ballot=b) if b > self.promised:
                self.promised = b
                out.send(src, Promise(b, self.accepted))
            case Promise(ballot=b, accepted=last) if b == self.ballot and b == self.promised:
                if src in self.promises or len(self.promises) >= self.majority:
                    return
                self.promises = dict(sorted({**self.promises, src: last}.items()))
                if len(self.promises) == self.majority:
                    newest = max((a for a in self.promises.values() if a is not None), default=None)
                    value = self.input if newest is None else newest[1]
                    self._accept(b, value, out)
                    out.send_all(self.others, Accept(b, value))
            case Accept(ballot=b, value=v) if b >= self.promised:
                self._accept(b, v, out)
            case Accepted(ballot=b, value=v):
                self._vote(src, b, v, out)
            case _:
                pass

    def _accept(self, ballot: int, value: int, out: Out) -> None:
        self.promised = ballot
        self.accepted = (ballot, value)
        out.send_all(self.others, Accepted(ballot, value))
        self._vote(self.id, ballot, value, out)

    def _vote(self, voter: NodeId, ballot: int, value: int, out: Out) -> None:
        voters = self.votes.get((ballot, value), ())
        if voter in voters:
            return
        voters = tuple(sorted((*voters, voter)))
        self.votes = dict(sorted({**self.votes, (ballot, value): voters}.items()))
        if len(voters) >= self.majority:
            self.decide(value)
            self.done = True
            out.cancel_timer(RETRY)
