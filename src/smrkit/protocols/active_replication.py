"""Active replication: seed 002's recipe for state machine replication, with voting.

**The recipe** (seed 002, "The Solution"), step by step:

1. *Make the server deterministic*: the service is one of smrkit's applications (kv,
   register, counter) behind the reply cache of :mod:`smrkit.protocols.service`.
2. *Replicate it*: every one of the n servers keeps a copy and applies commands itself.
3. *Make correct replicas step through the same sequence*: the sequence is cut into
   slots, one per lock-step round. Slot s is a Dolev-Strong broadcast
   (:mod:`smrkit.protocols.byzantine.dolev_strong`, instance s) from server
   ``p((s − 1) mod n + 1)`` of the batch of client requests it holds and has not yet
   proposed; it runs in rounds s … s + f and every correct replica decides it — the
   batch, or nothing if the sender was faulty (SF) — in round s + f + 1, in slot order.
   A replica then applies the batch's requests that are new (the reply cache skips
   retries) and answers each client. A request in a batch that this replica never
   received from its client is an invention of a faulty sender and is skipped: clients
   send every request to every server, so under lock-step every correct replica holds
   every genuine request a round after it is sent — before any slot holding it ends —
   and all correct replicas skip the same ones.
4. *Vote on the replicas' outputs*: a client sends its request to all servers and takes
   the result that ``votes`` replicas reported alike — the first reply under crash
   failures (``smr-active-crash``: every reply is correct), f + 1 matching replies under
   Byzantine ones (``smr-active``): at most f are lies, so f + 1 alike include a correct
   one. n = 2f + 1 servers leave f + 1 correct ones to answer: Dolev-Strong orders with
   any f < n (signatures), so voting is what needs 2f + 1 (an ordering without
   signatures would need 3f + 1: ``eig``).

**The conundrum** ("voter and client share fate"): ``smr-active-server-vote`` moves the
vote to a server: replicas send their results (:class:`Ballot`) to p1, which counts
f + 1 alike and answers the client, who takes that one answer. Every other server may
fail and the service stands — but if the voter is the faulty one, one failure is enough
to feed clients lies: the vote belongs with the client, who shares its fate.

**Failure and timing model.** Lock-step rounds (requests sent in round r arrive in round
r + 1); up to f faulty servers — crashes for ``smr-active-crash`` (f = n − 1), Byzantine
for the others (f = ⌊(n − 1)/2⌋), who cannot forge signatures; correct clients.
**Bounds**: a request sent in round t reaches every replica in round t + 1; of the
slots opened in rounds t + 1 … t + f + 1 one has a correct sender, who puts the request
in its batch (up to :data:`BATCH_MAX` clients at a time); that slot is decided and
applied f + 1 rounds later and the reply arrives a round after: every op is answered
within 2f + 3 rounds (one more with the vote at a server), whatever n; messages per slot
as Dolev-Strong's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import cast

from smrkit.core.byzantine import ByzantineNode
from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.node import ClientNode, Node, Out, Replica
from smrkit.core.ops import Command, Value
from smrkit.core.state_machine import InvalidOperationError
from smrkit.protocols.adversaries import twist
from smrkit.protocols.byzantine.dolev_strong import (
    SF,
    Chain,
    extract,
    outcome,
    relay,
    start_chain,
)
from smrkit.protocols.claims import ActiveReplicationClaims, Claims
from smrkit.protocols.client import OpSource
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, register
from smrkit.protocols.service import CLIENTS_MAX_DEFAULT, Freshness, ReplicatedService

BATCH_MAX = 16
"""Requests a sender puts in one slot at most."""


@dataclass(frozen=True)
class ActiveConfig:
    """A replica's configuration: the servers, the f its ordering tolerates, the app,
    and who votes — ``voter`` (a server) or, when ``None``, the clients."""

    servers: tuple[NodeId, ...]
    f: int
    app: str
    votes: int
    """Matching results a vote needs: 1 (crash failures) or f + 1 (Byzantine)."""
    voter: NodeId | None = None
    sessions_max: int = CLIENTS_MAX_DEFAULT

    def sender(self, slot: int) -> NodeId:
        return self.servers[(slot - 1) % len(self.servers)]


@dataclass(frozen=True, slots=True)
class Ballot(Message):
    """A replica's result for ``(client, seq)``, sent to a server-side voter."""

    client: NodeId
    seq: int
    result: Value
    error: str | None = None


class ActiveReplica(Replica):
    """One server of the actively replicated service."""

    def __init__(self, node_id: NodeId, config: ActiveConfig) -> None:
        super().__init__(node_id)
        self.config = config
        self.service = ReplicatedService(config.app, config.sessions_max)
        self.applied = self.service.log
        self.heard: dict[NodeId, ClientRequest] = {}
        """Each client's latest request, as it came from the client itself."""
        self.pending: list[ClientRequest] = []
        """Requests heard and not yet put in a batch of this replica's."""
        self.slots: dict[int, list[Value]] = {}
        """Slots under way: what each broadcast extracted so far."""
        self.decided: dict[int, Value] = {}
        self.next_slot = 1
        self.ballots: dict[tuple[NodeId, int], dict[NodeId, tuple[Value, str | None]]] = {}
        """At the voter: the results reported for each request, by replica."""
        self.answered: list[tuple[NodeId, int]] = []

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        config = self.config
        for src, msg in inbox:
            match msg:
                case ClientRequest(client=client) if client == src:
                    self._heard(msg)
                case Chain(instance=slot) if slot in self.slots:
                    links = r - slot
                    new = extract(self.slots[slot], msg, links, config.sender(slot), slot, out)
                    if new is None:
                        self.note("invalid chain")
                    elif new and links <= config.f:
                        relay(msg, config.servers, self.id, out)
                case Ballot() if config.voter == self.id and src in config.servers:
                    self._ballot(src, msg, out)
                case _:
                    self.note(f"unexpected {type(msg).__name__}")
        ending = r - config.f - 1
        if ending in self.slots:
            self.decided[ending] = outcome(self.slots.pop(ending))
        self._apply(out)
        self.slots[r] = []
        if config.sender(r) == self.id and self.pending:
            batch = cast(Value, tuple(self.pending[:BATCH_MAX]))  # plain data: signable
            del self.pending[:BATCH_MAX]
            self.slots[r].append(batch)
            out.send_all([p for p in config.servers if p != self.id], start_chain(batch, out, r))

    def _heard(self, request: ClientRequest) -> None:
        latest = self.heard.get(request.client)
        if latest is not None and latest.seq >= request.seq:
            return
        self.heard[request.client] = request
        self.pending = [p for p in self.pending if p.client != request.client]
        self.pending.append(request)

    def _apply(self, out: Out) -> None:
        while self.next_slot in self.decided:
            batch = self.decided.pop(self.next_slot)
            self.next_slot += 1
            if batch == SF or not isinstance(batch, tuple):
                continue
            for request in batch:
                if isinstance(request, ClientRequest):
                    self._execute(request, out)

    def _execute(self, request: ClientRequest, out: Out) -> None:
        heard = self.heard.get(request.client)
        if (
            heard is None
            or heard.seq < request.seq
            or (heard.seq == request.seq and heard != request)
        ):
            self.note("invented request")
            return
        self.pending = [
            p for p in self.pending if (p.client, p.seq) != (request.client, request.seq)
        ]
        if self.service.freshness(request.client, request.seq) is not Freshness.NEW:
            return  # ordered again by another sender: applied and answered already
        result: Value = None
        error: str | None = None
        try:
            result = self.service.execute(Command(request.client, request.seq, request.op))
        except InvalidOperationError as rejected:
            error = str(rejected)
        self._answer(request.client, request.seq, result, error, out)

    def _answer(self, client: NodeId, seq: int, result: Value, error: str | None, out: Out) -> None:
        voter = self.config.voter
        if voter is None:
            out.send(client, ClientReply(client, seq, result, error))
        elif voter == self.id:
            self._ballot(self.id, Ballot(client, seq, result, error), out)
        else:
            out.send(voter, Ballot(client, seq, result, error))

    def _ballot(self, src: NodeId, ballot: Ballot, out: Out) -> None:
        key = (ballot.client, ballot.seq)
        if key in self.answered:
            return
        box = self.ballots.setdefault(key, {})
        box[src] = (ballot.result, ballot.error)
        alike = [vote for vote in box.values() if vote == box[src]]
        if len(alike) >= self.config.votes:
            del self.ballots[key]
            self.answered.append(key)
            out.send(
                ballot.client, ClientReply(ballot.client, ballot.seq, ballot.result, ballot.error)
            )


@dataclass(frozen=True)
class VotingConfig:
    servers: tuple[NodeId, ...]
    votes: int


class VotingClient(ClientNode):
    """A client that sends each command to every server and takes the result ``votes``
    servers reported alike (its verdicts are what the history records)."""

    votes = True

    def __init__(
        self, node_id: NodeId, servers: Sequence[NodeId], ops: OpSource, *, votes: int
    ) -> None:
        super().__init__(node_id)
        self.config = VotingConfig(tuple(servers), votes)
        self.ops = ops
        self.seq = 0
        self.pending: ClientRequest | None = None
        self.replies: dict[NodeId, tuple[Value, str | None]] = {}
        self.verdicts: list[ClientReply] = []
        self.outvoted = 0
        """Replies that disagreed with the verdict: lies (or errors) out-voted."""

    def on_start(self, out: Out) -> None:
        self._next(out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        pending = self.pending
        if not isinstance(msg, ClientReply) or pending is None or msg.seq != pending.seq:
            return
        if src not in self.config.servers or src in self.replies:
            return
        self.replies[src] = (msg.result, msg.error)
        alike = [src_ for src_, vote in self.replies.items() if vote == (msg.result, msg.error)]
        if len(alike) < self.config.votes:
            return
        self.outvoted += len(self.replies) - len(alike)
        self.verdicts.append(msg)
        self._next(out)

    def _next(self, out: Out) -> None:
        self.replies = {}
        op = self.ops.next_op(self.id, out.rng)
        if op is None:
            self.pending = None
            self.done = True
            return
        self.seq += 1
        self.pending = ClientRequest(self.id, self.seq, op)
        out.send_all(self.config.servers, self.pending)


class LyingReplica(ByzantineNode):
    """A Byzantine replica that follows the protocol but lies in every result it
    reports (to a client, or to a voter): numbers + 1, strings marked, and so on."""

    strategy = "lie"

    def tamper(self, out: Out) -> None:
        out.sends[:] = [
            (dst, replace(msg, result=twist(msg.result, self.id, out)))
            if isinstance(msg, ClientReply | Ballot) and msg.error is None
            else (dst, msg)
            for dst, msg in out.sends
        ]


LIE = f"{__name__}:LyingReplica"
"""The fault-plan strategy of a lying replica: ``byzantine:p2=`` + this."""


# --- registration ----------------------------------------------------------------------


def _half(n: int) -> int:
    return (n - 1) // 2


def _all_but_one(n: int) -> int:
    return n - 1


def _spec(
    name: str,
    title: str,
    model: FailureModel,
    tolerated: Callable[[int], int],
    *,
    server_vote: bool,
) -> ProtocolSpec:
    byzantine = model is FailureModel.BYZANTINE

    def votes(n: int) -> int:
        return tolerated(n) + 1 if byzantine else 1

    def build(config: ProtocolConfig) -> list[Node]:
        servers = config.servers
        active = ActiveConfig(
            servers,
            tolerated(len(servers)),
            config.app,
            votes(len(servers)),
            servers[0] if server_vote else None,
            config.sessions_max,
        )
        return [ActiveReplica(p, active) for p in servers]

    def client(client_id: NodeId, config: ProtocolConfig, ops: OpSource) -> Node:
        needed = 1 if server_vote else votes(len(config.servers))
        return VotingClient(client_id, config.servers, ops, votes=needed)

    def claims(f: int, delta_s: float, tau_s: float) -> Claims:
        return ActiveReplicationClaims(
            replicas_min=2 * f + 1 if byzantine else f + 1,
            votes=f + 1 if byzantine else 1,
            voter="p1" if server_vote else "client",
            answered_within_rounds=2 * f + 3 + (1 if server_vote else 0),
        )

    def problem(n: int) -> str | None:
        if byzantine and n < 3:
            return f"{name} needs n = 2f + 1 >= 3 servers to out-vote one liar"
        return None

    return register(
        ProtocolSpec(
            name=name,
            title=title,
            failure_model=model,
            replicas_default=3 if byzantine else 2,
            build=build,
            tolerated=tolerated,
            replicas_problem=problem,
            claims=claims,
            client_timeout_s=lambda delta_s, tau_s: 1e9,  # lock-step: no retries needed
            timings=("lock-step",),
            client=client,
        )
    )


SMR_ACTIVE = _spec(
    "smr-active",
    "active replication: Dolev-Strong order, clients vote f + 1",
    FailureModel.BYZANTINE,
    _half,
    server_vote=False,
)
SMR_ACTIVE_CRASH = _spec(
    "smr-active-crash",
    "active replication: Dolev-Strong order, clients take the first reply",
    FailureModel.CRASH,
    _all_but_one,
    server_vote=False,
)
SMR_ACTIVE_SERVER_VOTE = _spec(
    "smr-active-server-vote",
    "active replication, the vote at server p1 (seed 002's conundrum)",
    FailureModel.BYZANTINE,
    _half,
    server_vote=True,
)
