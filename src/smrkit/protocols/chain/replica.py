"""A chain replica: head, middle or tail of the chain of its epoch.

Updates enter at the head, which executes them (the service's reply cache makes a
retried update take effect once), appends them to its log and forwards them down; each
replica applies what its predecessor forwards, in log order, and forwards it on; the
tail's application commits an update, and the tail answers the client and sends an
``Ack`` up the chain, on which each replica drops the acknowledged updates from its Sent
list (``log[acked:]``). Queries are answered by the tail from its state.

A replica *acts* — applies, forwards, acknowledges, answers — only while it holds a
lease from a majority of master nodes for its epoch and has not stopped. It stops when
its oldest unacknowledged update has waited longer than the acknowledgement time-out
(it suspects its successor), and it reports the suspicion to the master; it loses its
lease when it cannot reach the master. Either way it does nothing until the master's
next configuration, which may only be decided after every lease of the old one has run
out. A replica that learns it is not in the new configuration halts; a new incarnation
joins later as a new tail, with the old tail's state.

In the broken variant (``safe=False``) a replica keeps acting without a lease, and when
it suspects its successor it makes itself the tail instead of stopping: the old tail
still answers queries, and the chain forks.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.apps import SPECS
from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest, Message, RelayedRequest
from smrkit.core.node import Out, Replica, Timer
from smrkit.core.ops import Command
from smrkit.protocols.chain.config import ChainConfig
from smrkit.protocols.chain.messages import (
    Ack,
    ChainHint,
    Forward,
    Grant,
    Heartbeat,
    NewConfig,
    StateTransfer,
)
from smrkit.protocols.chain.timing import ChainTiming
from smrkit.protocols.service import Freshness, ReplicatedService

HEARTBEAT = "heartbeat"
LEASE = "lease"
"""Fires when the lease runs out, so the replica's role changes at that instant."""
OUT_OF_ORDER_MAX = 10_000
"""Updates kept that arrived ahead of a gap (before GST links may reorder)."""
RESEND_MAX = 1000
"""Updates of the Sent list resent at once (the rest follow as acknowledgements come)."""
FRESH = 0
"""The epoch a fresh incarnation, holding no state, reports."""


@dataclass(frozen=True)
class ChainReplicaConfig:
    masters: tuple[NodeId, ...]
    initial: ChainConfig
    clients: tuple[NodeId, ...]
    app: str
    sessions_max: int
    timing: ChainTiming
    safe: bool = True

    @property
    def majority(self) -> int:
        return len(self.masters) // 2 + 1


class ChainReplica(Replica):
    def __init__(self, node_id: NodeId, config: ChainReplicaConfig) -> None:
        super().__init__(node_id)
        self.config = config
        self.service = ReplicatedService(config.app, config.sessions_max)
        self.applied = self.service.log
        self.chain = config.initial
        self.epoch = config.initial.epoch
        self.installed = True
        """Holds the state of its epoch (a joining tail does not, until the transfer)."""
        self.acked = 0
        self.waiting_since: float | None = None
        """Since when the oldest unacknowledged update has waited."""
        self.stopped = False
        self.suspect: NodeId | None = None
        self.lease_until = -1.0
        self.grants: dict[float, list[NodeId]] = {}
        self.joiner_acked = False
        """Whether a joining successor has acknowledged its state in this epoch."""
        self.answer: dict[int, NodeId] = {}
        """At the head: log index → where to send the answer once it is committed."""
        self.last_index: dict[NodeId, int] = {}
        self.ahead: dict[int, Command] = {}

    # --- lifecycle ----------------------------------------------------------------------

    def on_start(self, out: Out) -> None:
        if out.saved.get("started"):
            # A new incarnation: whatever it applied before is gone; it asks to join.
            self.epoch = FRESH
            self.chain = ChainConfig(FRESH, ())
            self.installed = False
        out.save("started", True)
        self._heartbeat(out)
        self._observe(out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer == HEARTBEAT:
            self._check_successor(out)
            self._heartbeat(out)
        self._observe(out)

    def acting(self, now: float) -> bool:
        """Whether the replica may apply, forward, acknowledge and answer now."""
        member = self.installed and self.id in self.chain.chain
        if not self.config.safe:
            return member
        return member and not self.stopped and now < self.lease_until

    def _observe(self, out: Out) -> None:
        """``is_primary``: the replica acts as the tail (the one that commits and answers
        queries); the lease timer makes it false the instant the lease runs out."""
        self.is_primary = self.acting(out.now) and self.chain.tail == self.id

    # --- messages -----------------------------------------------------------------------

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        match msg:
            case ClientRequest():
                self._request(src, msg, out)
            case RelayedRequest(request=r) if src in self.chain.chain:
                self._request(src, r, out, relayed=True)
            case ClientReply() if src in self.chain.chain:
                out.send(msg.client, msg)  # the answer to a request this replica relayed
            case Forward(epoch=e) | Ack(epoch=e) | StateTransfer(epoch=e) if e != self.epoch:
                self.note("older epoch" if e < self.epoch else "newer epoch")
            case Forward(index=i, command=c):
                self._forwarded(src, i, c, out)
            case Ack(index=i):
                self._acked(src, i, out)
            case StateTransfer(log=log):
                self._install(src, log, out)
            case Grant(epoch=e, sent_at=t):
                self._granted(src, e, t, out)
            case NewConfig(config=c) if src in self.config.masters:
                if isinstance(c, ChainConfig) and c.well_formed():
                    self._new_config(c, out)
                else:
                    self.note("malformed configuration")
            case _:
                self.note("unexpected message")
        self._observe(out)

    def _request(
        self, src: NodeId, request: ClientRequest, out: Out, *, relayed: bool = False
    ) -> None:
        """A request for the head (an update) or the tail (a query), from its client or
        relayed by the replica it reached (``src``). One that reaches another replica
        is relayed there once, and its client told the chain: a client that knows
        nothing of chains (the TCP client library) is served all the same, the answer
        coming back the way the request went — in a real cluster a replica can answer
        only a client connected to it."""
        chain = self.chain
        query = request.op.f in SPECS[self.config.app].read_only
        target = chain.tail if query else chain.head
        if target != self.id:
            if relayed:
                self.note("relayed to the wrong replica")
            elif self.installed and target is not None and self.acting(out.now):
                out.send(target, RelayedRequest(request))
                out.send(src, ChainHint(chain.epoch, chain.chain))
            return
        if not self.acting(out.now):
            self.note("request while stopped")  # the client retries
        elif query:
            result = self.service.app.apply(request.op)
            out.send(src, ClientReply(request.client, request.seq, result))  # src: see above
        else:
            self._update(src, request, out)

    def _update(self, src: NodeId, request: ClientRequest, out: Out) -> None:
        service = self.service
        if service.freshness(request.client, request.seq) is Freshness.DUPLICATE:
            index = self.last_index.get(request.client, 0)
            if index <= self.acked or self.chain.tail == self.id:
                result = service.cached_result(request.client, request.seq)
                out.send(src, ClientReply(request.client, request.seq, result))
            elif index:
                self.answer[index] = src  # answered when its acknowledgement comes
            return
        admitted = service.admit(src, request, out)
        if admitted is None:
            return
        command, _ = admitted
        self.answer[len(self.applied)] = src
        self._applied_at(len(self.applied), command, out)

    def _forwarded(self, src: NodeId, index: int, command: Command, out: Out) -> None:
        if self.id not in self.chain.chain or src != self.chain.predecessor(self.id):
            self.note("not from the predecessor")
            return
        if not self.installed:
            if len(self.ahead) < OUT_OF_ORDER_MAX:
                self.ahead[index] = command  # replayed after the state transfer
            return
        if not self.acting(out.now):
            self.note("stopped")
            return
        if index <= len(self.applied):
            if self.chain.tail == self.id:
                out.send(src, Ack(self.epoch, len(self.applied)))
            return
        if index > len(self.applied) + 1:
            if len(self.ahead) < OUT_OF_ORDER_MAX:
                self.ahead[index] = command
            return
        self._apply(command, out)
        self._drain_ahead(out)

    def _apply(self, command: Command, out: Out) -> None:
        self.service.execute(command)
        self._applied_at(len(self.applied), command, out)

    def _drain_ahead(self, out: Out) -> None:
        while self.ahead:
            command = self.ahead.pop(len(self.applied) + 1, None)
            if command is None:
                break
            self._apply(command, out)
        self.ahead = {i: c for i, c in self.ahead.items() if i > len(self.applied)}

    def _applied_at(self, index: int, command: Command, out: Out) -> None:
        """``command`` is now the ``index``-th of the log: forward it, or commit it."""
        self.last_index[command.client] = index
        successor = self.chain.successor(self.id)
        if successor is not None:
            out.send(successor, Forward(self.epoch, index, command))
            if self.waiting_since is None:
                self.waiting_since = out.now
            return
        self.acked = index
        result = self.service.cached_result(command.client, command.seq)
        out.send(command.client, ClientReply(command.client, command.seq, result))
        if self.answer.get(index) == command.client:
            del self.answer[index]  # answered just now
        self._answer_up_to(index, out)
        predecessor = self.chain.predecessor(self.id)
        if predecessor is not None:
            out.send(predecessor, Ack(self.epoch, index))

    def _resend_sent(self, out: Out) -> None:
        """The Sent list again — or, to a joining tail that has not acknowledged
        anything in this epoch, the state transfer again (it may have come before the
        joiner heard of the epoch, and been dropped)."""
        successor = self.chain.successor(self.id)
        if successor is None:
            return
        if successor == self.chain.joining and not self.joiner_acked:
            out.send(successor, StateTransfer(self.epoch, tuple(self.applied)))
            return
        last = min(len(self.applied), self.acked + RESEND_MAX)
        for index in range(self.acked + 1, last + 1):
            out.send(successor, Forward(self.epoch, index, self.applied[index - 1]))

    def _acked(self, src: NodeId, index: int, out: Out) -> None:
        if self.id not in self.chain.chain or src != self.chain.successor(self.id):
            self.note("not from the successor")
            return
        if not self.acting(out.now):
            self.note("stopped")
            return
        self.joiner_acked = True
        if index <= self.acked:
            if self.acked >= len(self.applied):
                self.waiting_since = None
            return
        self.acked = min(index, len(self.applied))
        self.waiting_since = out.now if self.acked < len(self.applied) else None
        self._answer_up_to(self.acked, out)
        predecessor = self.chain.predecessor(self.id)
        if predecessor is not None:
            out.send(predecessor, Ack(self.epoch, self.acked))

    def _answer_up_to(self, index: int, out: Out) -> None:
        """The head answers, through whoever brought them, the updates it admitted that
        are now committed (the tail answered their clients already, but in a real
        cluster the tail may have no connection to them)."""
        for i in [i for i in self.answer if i <= index]:
            dst = self.answer.pop(i)
            command = self.applied[i - 1]
            fresh = self.service.freshness(command.client, command.seq)
            if fresh is Freshness.DUPLICATE:  # still the client's latest command
                result = self.service.cached_result(command.client, command.seq)
                out.send(dst, ClientReply(command.client, command.seq, result))

    def _check_successor(self, out: Out) -> None:
        """Every heartbeat period: resend the Sent list if acknowledgements are late (a
        successor that had not yet adopted the epoch dropped it), and stop — suspecting
        the successor — once the oldest update has waited the whole time-out."""
        since = self.waiting_since
        if since is None or not self.acting(out.now):
            return
        if out.now - since <= self.config.timing.ack_timeout_s:
            self._resend_sent(out)
            return
        successor = self.chain.successor(self.id)
        if self.config.safe:
            self.stopped = True
            self.suspect = successor
            return
        # The broken variant: no master asked, it makes itself the tail.
        kept = self.chain.chain[: self.chain.chain.index(self.id) + 1]
        self.chain = ChainConfig(self.epoch, kept)
        self._became_tail(out)

    # --- the master ---------------------------------------------------------------------

    def _heartbeat(self, out: Out) -> None:
        epoch = self.epoch if self.installed or self.epoch > FRESH else FRESH
        heartbeat = Heartbeat(epoch, out.now, self.suspect, self.installed)
        out.send_all(self.config.masters, heartbeat)
        out.set_timer(HEARTBEAT, self.config.timing.heartbeat_s)
        horizon = out.now - self.config.timing.lease_s
        self.grants = {t: g for t, g in self.grants.items() if t > horizon}

    def _granted(self, src: NodeId, epoch: int, sent_at: float, out: Out) -> None:
        if epoch != self.epoch or src not in self.config.masters:
            self.note("grant of another epoch")
            return
        granted = self.grants.setdefault(sent_at, [])
        if src not in granted:
            granted.append(src)
        until = sent_at + self.config.timing.lease_s
        if len(granted) >= self.config.majority and until > self.lease_until:
            self.lease_until = until
            out.set_timer_at(LEASE, until)
            if self.ahead and self.acting(out.now):
                self._drain_ahead(out)

    def _new_config(self, config: ChainConfig, out: Out) -> None:
        if config.epoch <= self.epoch:
            if config.epoch < self.epoch:
                self.note("older epoch")
            return
        if self.id not in config.chain:
            if self.installed:
                out.halt(f"removed from the chain in epoch {config.epoch}")
            else:  # a fresh incarnation (or a join that failed) waits to be asked to join
                self.epoch, self.chain = FRESH, ChainConfig(FRESH, ())
            return
        if not self.installed and config.joining != self.id:
            return  # it holds no state to act on; the master will notice
        self.chain = config
        self.epoch = config.epoch
        self.stopped = False
        self.suspect = None
        self.joiner_acked = False
        self.grants = {}
        self._heartbeat(out)  # a lease for the new epoch at once
        if not self.installed:
            return
        successor = config.successor(self.id)
        if successor is None:
            self._became_tail(out)
        elif successor == config.joining:
            out.send(successor, StateTransfer(self.epoch, tuple(self.applied)))
            self.waiting_since = out.now  # until the joiner acknowledges its state
        else:
            # A new successor (its predecessor was removed) or the same one: resend the
            # Sent list; it applies what it lacks.
            self._resend_sent(out)
            self.waiting_since = out.now if self.acked < len(self.applied) else None
        if config.head == self.id:
            hint = ChainHint(config.epoch, config.chain)
            out.send_all(self.service.clients_to_tell(self.config.clients), hint)

    def _became_tail(self, out: Out) -> None:
        """Everything in the log is committed now: acknowledge it up the chain."""
        self.acked = len(self.applied)
        self.waiting_since = None
        self._answer_up_to(self.acked, out)
        predecessor = self.chain.predecessor(self.id)
        if predecessor is not None:
            out.send(predecessor, Ack(self.epoch, self.acked))

    def _install(self, src: NodeId, log: tuple[Command, ...], out: Out) -> None:
        if self.installed or self.chain.joining != self.id:
            self.note("unexpected state transfer")
            return
        if src != self.chain.predecessor(self.id):
            self.note("not from the predecessor")
            return
        for command in log:
            self.service.execute(command)
            self.last_index[command.client] = len(self.applied)
        self.installed = True
        self.ahead = {i: c for i, c in self.ahead.items() if i > len(self.applied)}
        self._became_tail(out)
        if self.acting(out.now):
            self._drain_ahead(out)
