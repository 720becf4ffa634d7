"""Single-decree Paxos serving a write-once register, as Stateright's ``examples/paxos.rs``
models it — the model whose state count (16,668 with two clients and three servers) the
explorer reproduces.

Algorithm. A server that receives a client's ``Put`` while it has no proposal of its own
becomes a leader: it picks the ballot ``(round + 1, its rank)`` above the highest it has
seen and sends ``Prepare`` to its peers (its own ``Prepare`` and ``Prepared`` are taken
as sent and received at once). A server adopts a higher ballot and answers ``Prepared``
with the last proposal it accepted. With a majority of ``Prepared`` (counting itself) the
leader proposes the accepted proposal of the highest ballot among them, or the client's
if there is none, accepts it itself and sends ``Accept``. A server accepts a proposal of
a ballot at least its own and answers ``Accepted``; with a majority the leader has
decided: it tells its peers (``Decided``) and answers the client (``PutOk``). A decided
server answers ``Get`` with the decided value; an undecided one leaves a ``Get``
unanswered (it cannot know whether a value was decided elsewhere).

Failure and timing model. Crash failures of a minority (n = 2f + 1) and an asynchronous,
unordered network: safe whatever the delays (agreement: two decided servers hold the
same value; the client history is linearizable), live only when one leader runs alone —
which FLP says no deterministic protocol can guarantee in asynchrony.

Bounds. Two message round trips after a leader's ``Put`` (``Prepare``/``Prepared``,
``Accept``/``Accepted``), 4(n − 1) messages, plus n − 1 ``Decided``; n ≥ 2f + 1 is
optimal for consensus with crash failures under partial synchrony (seed 003).

What mirrors Stateright. Each server proposes at most once (a ``Put`` is handled only
while it has no proposal); ballots are ``(round, rank)`` compared as Stateright compares
``(Round, Id)`` (``(0, 0)`` is the initial ballot); ``prepares`` is kept sorted by server
so that two servers that heard the same answers in another order are in the same state
(Stateright's maps compare as sets); a message that changes nothing is a no-op, which the
explorer does not count as a step (Stateright's ``is_no_op``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from smrkit.core.ids import NodeId, rank
from smrkit.core.messages import Message
from smrkit.core.node import Out, Replica
from smrkit.protocols.register import Get, GetOk, Put, PutOk

Ballot: TypeAlias = tuple[int, int]
"""``(round, rank of the leader)``; ``(0, 0)`` before any leader."""
Proposal: TypeAlias = tuple[int, NodeId, str]
"""``(request id, requesting client, value)``."""
AcceptedProposal: TypeAlias = tuple[Ballot, Proposal]


@dataclass(frozen=True, slots=True)
class Prepare(Message):
    ballot: Ballot


@dataclass(frozen=True, slots=True)
class Prepared(Message):
    ballot: Ballot
    last_accepted: AcceptedProposal | None


@dataclass(frozen=True, slots=True)
class Accept(Message):
    ballot: Ballot
    proposal: Proposal


@dataclass(frozen=True, slots=True)
class Accepted(Message):
    ballot: Ballot


@dataclass(frozen=True, slots=True)
class Decided(Message):
    ballot: Ballot
    proposal: Proposal


@dataclass(frozen=True)
class PaxosConfig:
    """The server's peers (every other server, in rank order)."""

    peers: tuple[NodeId, ...]

    @property
    def majority(self) -> int:
        return (len(self.peers) + 1) // 2 + 1


def _newest(accepted: AcceptedProposal | None) -> tuple[int, AcceptedProposal | None]:
    """Sort key of an optional accepted proposal: none first (Rust's ``Option`` order)."""
    return (0, None) if accepted is None else (1, accepted)


class PaxosServer(Replica):
    """One Paxos server: acceptor, and leader for the first client ``Put`` it receives."""

    def __init__(self, node_id: NodeId, servers: tuple[NodeId, ...]) -> None:
        super().__init__(node_id)
        self.config = PaxosConfig(tuple(s for s in servers if s != node_id))
        self.ballot: Ballot = (0, 0)
        self.proposal: Proposal | None = None
        self.prepares: dict[NodeId, AcceptedProposal | None] = {}
        self.accepts: set[NodeId] = set()
        self.accepted: AcceptedProposal | None = None
        self.is_decided = False

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if self.is_decided:
            if isinstance(msg, Get) and self.accepted is not None:
                out.send(src, GetOk(msg.request_id, self.accepted[1][2]))
            return
        peers = self.config.peers
        match msg:
            case Put(request_id=request_id, value=value) if self.proposal is None:
                self.proposal = (request_id, src, value)
                self.accepts = set()
                self.ballot = (self.ballot[0] + 1, rank(self.id))
                self.prepares = {self.id: self.accepted}
                out.send_all(peers, Prepare(self.ballot))
            case Prepare(ballot=ballot) if self.ballot < ballot:
                self.ballot = ballot
                out.send(src, Prepared(ballot, self.accepted))
            case Prepared(ballot=ballot, last_accepted=last) if ballot == self.ballot:
                self.prepares = dict(sorted({**self.prepares, src: last}.items()))
                if len(self.prepares) == self.config.majority:
                    newest = max(self.prepares.values(), key=_newest)
                    proposal = self.proposal if newest is None else newest[1]
                    assert proposal is not None, "a leader has a proposal"
                    self.proposal = proposal
                    self.accepted = (ballot, proposal)
                    self.accepts = self.accepts | {self.id}
                    out.send_all(peers, Accept(ballot, proposal))
            case Accept(ballot=ballot, proposal=proposal) if self.ballot <= ballot:
                self.ballot = ballot
                self.accepted = (ballot, proposal)
                out.send(src, Accepted(ballot))
            case Accepted(ballot=ballot) if ballot == self.ballot:
                self.accepts = self.accepts | {src}
                if len(self.accepts) == self.config.majority:
                    self.is_decided = True
                    assert self.proposal is not None, "a leader has a proposal"
                    out.send_all(peers, Decided(ballot, self.proposal))
                    request_id, requester, _ = self.proposal
                    out.send(requester, PutOk(request_id))
            case Decided(ballot=ballot, proposal=proposal):
                self.ballot = ballot
                self.accepted = (ballot, proposal)
                self.is_decided = True
            case _:
                pass


def paxos_servers(servers: tuple[NodeId, ...]) -> list[PaxosServer]:
    return [PaxosServer(server, servers) for server in servers]
