"""The chain's master: master nodes that detect failures and agree on each next
configuration, one Paxos instance per epoch (Lamport's Vertical Paxos shape).

Each master node hears every replica's heartbeat (every τ). It grants a replica a lease
on its heartbeat when the replica acts in the master node's decided epoch and the node
has promised nothing for the next epoch; a replica that holds grants from a majority
acts until the heartbeat's send time plus the lease. When a master node sees a change is
needed (:func:`~smrkit.protocols.chain.config.next_config`: a silent member, a suspected
one, a fresh incarnation, a replica asking to join) it leads a ballot for the next
epoch: ``Prepare``; a majority of ``Promise`` — each saying until when the leases it
granted may run; it waits until all of them have run out, so that no replica of the old
epoch still acts; ``Accept`` of the highest-ballot configuration already accepted, or
its own; a majority of ``Accepted`` decides it, and the node sends ``NewConfig`` to the
other master nodes and to every replica. Master nodes stagger their ballots by rank (a
whole ballot, lease wait included), so after GST they do not duel.

Failure and timing model: crash of a minority of master nodes (3 tolerate 1); a master
node that restarts keeps what it promised, accepted and decided (``out.save``) and
grants and promises nothing for a lease period (the leases it granted are not saved).
Clocks are synchronized (seed 001's model), which leases need. Safety in any timing;
liveness after GST with a majority of master nodes up.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Node, Out, Timer
from smrkit.protocols.chain.config import ChainConfig, next_config
from smrkit.protocols.chain.messages import (
    Accept,
    Accepted,
    Ballot,
    Grant,
    Heartbeat,
    NewConfig,
    Prepare,
    Promise,
)
from smrkit.protocols.chain.timing import ChainTiming

TICK = "tick"
"""Every heartbeat period: does the configuration need to change?"""
ACCEPT = "accept"
"""Fires when the leases of the old epoch have run out: send the ``Accept``."""
MASTER_PREFIX = "m"


def master_ids(count: int) -> tuple[NodeId, ...]:
    return tuple(f"{MASTER_PREFIX}{i}" for i in range(1, count + 1))


@dataclass(frozen=True)
class MasterConfig:
    masters: tuple[NodeId, ...]
    replicas: tuple[NodeId, ...]
    initial: ChainConfig
    timing: ChainTiming
    rank: int

    @property
    def majority(self) -> int:
        return len(self.masters) // 2 + 1


class ChainMaster(Node):
    """One master node: acceptor and, when it sees a change is needed, proposer."""

    def __init__(self, node_id: NodeId, config: MasterConfig) -> None:
        super().__init__(node_id)
        self.config = config
        self.decided = config.initial
        self.promised: Ballot = (0, 0)
        """For epoch ``decided.epoch + 1``."""
        self.accepted: tuple[Ballot, ChainConfig] | None = None
        self.leases_until = 0.0
        """The latest a lease this node granted in ``decided.epoch`` may run."""
        self.quiet_until = 0.0
        self.heard: dict[NodeId, float] = {}
        self.heard_epoch: dict[NodeId, int] = {}
        self.suspects: dict[NodeId, NodeId | None] = {}
        self.need_since: float | None = None
        self.leading: Ballot = (0, 0)
        self.lead_started = 0.0
        self.proposal: ChainConfig | None = None
        self.promises: dict[NodeId, Promise] = {}
        self.accepts: list[NodeId] = []
        self.offered: ChainConfig | None = None
        self.decisions = 0

    # --- lifecycle ----------------------------------------------------------------------

    def on_start(self, out: Out) -> None:
        saved = out.saved
        if "decided" in saved:
            decided = saved["decided"]
            assert isinstance(decided, ChainConfig)
            self.decided = decided
            self.promised = _ballot(saved.get("promised", (0, 0)))
            accepted = saved.get("accepted")
            if isinstance(accepted, tuple) and len(accepted) == 2:
                self.accepted = (_ballot(accepted[0]), accepted[1])
            # The leases granted before the crash are not saved: grant and promise
            # nothing until any of them has run out.
            self.quiet_until = out.now + self.config.timing.lease_s
        else:
            out.save("decided", self.decided)
        for replica in self.config.replicas:
            self.heard[replica] = out.now
        out.set_timer(TICK, self.config.timing.heartbeat_s)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer == TICK:
            self._tick(out)
            out.set_timer(TICK, self.config.timing.heartbeat_s)
        elif isinstance(timer, tuple) and timer[0] == ACCEPT:
            self._send_accept(out)

    # --- messages -----------------------------------------------------------------------

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        nxt = self.decided.epoch + 1
        match msg:
            case Heartbeat():
                self._heartbeat(src, msg, out)
            case NewConfig(config=c) if c.epoch > self.decided.epoch:
                self._adopt(c, out)
            case Prepare(epoch=e) if e < nxt:
                out.send(src, NewConfig(self.decided))
            case Prepare(epoch=e, ballot=b) if e == nxt and b > self.promised:
                if out.now < self.quiet_until:
                    return
                self.promised = b
                out.save("promised", b)
                if src != self.id:
                    self.need_since = out.now  # another node leads: back off
                out.send(src, Promise(e, b, self.accepted, self.leases_until))
            case Promise(epoch=e, ballot=b) if e == nxt and b == self.leading:
                if self.offered is None:
                    self.promises[src] = msg
                    if len(self.promises) >= self.config.majority:
                        self._promised_by_majority(out)
            case Accept(ballot=b, config=c) if c.epoch == nxt and b >= self.promised:
                self.promised = b
                self.accepted = (b, c)
                out.save("promised", b)
                out.save("accepted", self.accepted)
                if src != self.id:
                    self.need_since = out.now
                out.send(src, Accepted(c.epoch, b))
            case Accepted(epoch=e, ballot=b) if e == nxt and b == self.leading:
                if self.offered is not None and src not in self.accepts:
                    self.accepts = sorted([*self.accepts, src])
                    if len(self.accepts) >= self.config.majority:
                        decided = self.offered
                        self._adopt(decided, out)
                        self.decisions += 1
                        others = [m for m in self.config.masters if m != self.id]
                        out.send_all([*others, *self.config.replicas], NewConfig(decided))
            case _:
                pass

    def _heartbeat(self, src: NodeId, msg: Heartbeat, out: Out) -> None:
        if src not in self.config.replicas:
            return
        self.heard[src] = out.now
        self.heard_epoch[src] = msg.epoch
        self.suspects[src] = msg.suspect
        decided = self.decided
        if msg.epoch == decided.epoch and src in decided.chain:
            if self.promised == (0, 0) and out.now >= self.quiet_until:
                lease_end = msg.sent_at + self.config.timing.lease_s
                self.leases_until = max(self.leases_until, lease_end)
                out.send(src, Grant(msg.epoch, msg.sent_at))
        elif msg.epoch < decided.epoch and (src in decided.chain or msg.epoch > 0):
            out.send(src, NewConfig(decided))

    # --- proposing ----------------------------------------------------------------------

    def wanted(self, now: float) -> ChainConfig | None:
        """The next configuration this node's observations call for, if any."""
        decided = self.decided
        silent_s = self.config.timing.silent_s
        recent = {r for r, t in self.heard.items() if now - t <= silent_s}
        members = set(decided.chain)
        silent = {r for r in members if r not in recent}
        fresh = {r for r in recent if self.heard_epoch.get(r, -1) == 0}
        suspected = {
            s
            for r, s in self.suspects.items()
            if s is not None and r in recent and r in members
            if self.heard_epoch.get(r) == decided.epoch
        }
        return next_config(decided, silent=silent, suspected=suspected, fresh=fresh)

    def _tick(self, out: Out) -> None:
        wanted = self.wanted(out.now)
        if wanted is None:
            self.need_since = None
            return
        if self.need_since is None:
            self.need_since = out.now
        stagger = self.config.timing.stagger_s
        due = self.need_since + (self.config.rank - 1) * stagger
        stalled = self.leading != (0, 0) and out.now >= self.lead_started + stagger
        if out.now >= due and (self.leading == (0, 0) or stalled):
            self._lead(wanted, out)

    def _lead(self, proposal: ChainConfig, out: Out) -> None:
        self.leading = (max(self.promised[0], self.leading[0]) + 1, self.config.rank)
        self.lead_started = out.now
        self.proposal = proposal
        self.promises = {}
        self.accepts = []
        self.offered = None
        out.send_all(self.config.masters, Prepare(proposal.epoch, self.leading))

    def _promised_by_majority(self, out: Out) -> None:
        assert self.proposal is not None
        prior = [p.accepted for p in self.promises.values() if p.accepted is not None]
        self.offered = max(prior, key=lambda a: a[0])[1] if prior else self.proposal
        leases_end = max(p.leases_until for p in self.promises.values())
        if leases_end > out.now:
            out.set_timer_at((ACCEPT, self.offered.epoch), leases_end)
        else:
            self._send_accept(out)

    def _send_accept(self, out: Out) -> None:
        if self.offered is None or self.offered.epoch != self.decided.epoch + 1:
            return
        out.send_all(self.config.masters, Accept(self.leading, self.offered))

    def _adopt(self, config: ChainConfig, out: Out) -> None:
        self.decided = config
        self.promised = (0, 0)
        self.accepted = None
        self.leases_until = 0.0
        self.leading = (0, 0)
        self.proposal = None
        self.promises = {}
        self.accepts = []
        self.offered = None
        self.need_since = None
        out.save("decided", config)
        out.save("promised", (0, 0))
        out.save("accepted", None)


def _ballot(value: object) -> Ballot:
    assert isinstance(value, tuple | list) and len(value) == 2
    return (int(value[0]), int(value[1]))
