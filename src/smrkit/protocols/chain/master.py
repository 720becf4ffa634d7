"""The chain's master: a Raft group (:mod:`smrkit.protocols.raft`) whose replicated
state machine is the chain's configuration (:class:`~smrkit.protocols.chain.config.
ChainConfigMachine`), plus failure detection and leases.

Every master node hears every replica's heartbeat (every τ) and answers with a lease
``Grant`` when the replica acts in the epoch the node has applied and the node's log
holds no later reconfiguration; a replica with grants from a majority acts until the
heartbeat's send time plus the lease. The Raft leader watches for a needed change
(:func:`~smrkit.protocols.chain.config.next_config`: a silent member, a suspected one,
a fresh incarnation, a replica asking to join) and proposes it as a command of the
group, through its own log. Once a master node has applied the next configuration it
waits one lease before telling any replica (``NewConfig``).

Why the wait makes the stop safe: the reconfiguration committed at some t_c, held by a
majority C; every lease of the old epoch was granted by a majority G, and a node of
G ∩ C granted it before the entry reached its log (it grants nothing after), so before
t_c; the lease ran from a send time before its grant, so it has run out by t_c + lease
— before any master node, which applied the entry after t_c, tells a replica.

Failure and timing model: Raft's — a minority of master nodes may crash or omit, and
restart with what they saved; the leases also need synchronized clocks (seed 001's
model). Safe under every timing; live after GST with a majority of master nodes up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.node import Out, Timer
from smrkit.protocols.chain.config import (
    RECONFIGURE,
    ChainConfig,
    ChainConfigMachine,
    config_of,
    next_config,
    reconfigure_op,
)
from smrkit.protocols.chain.messages import Grant, Heartbeat, NewConfig
from smrkit.protocols.chain.timing import ChainTiming
from smrkit.protocols.raft import RaftConfig, RaftNode, build_raft_group
from smrkit.protocols.raft.node import LEADER

TICK = "chain-tick"
"""Every heartbeat period: does the configuration need to change?"""
TELL = "chain-tell"
"""A lease after a configuration was applied: tell the replicas."""
MASTER_PREFIX = "m"


def master_ids(count: int) -> tuple[NodeId, ...]:
    return tuple(f"{MASTER_PREFIX}{i}" for i in range(1, count + 1))


@dataclass(frozen=True)
class MasterConfig:
    replicas: tuple[NodeId, ...]
    initial: ChainConfig
    timing: ChainTiming


def build_master(
    masters: tuple[NodeId, ...], config: MasterConfig, *, delta_s: float, tau_s: float
) -> list[ChainMaster]:
    """The master's Raft group, its state machine the chain's configuration."""
    group = build_raft_group(
        masters, lambda: ChainConfigMachine(config.initial), delta_s=delta_s, tau_s=tau_s
    )
    return [ChainMaster(node.id, node.config, config) for node in group]


class ChainMaster(RaftNode):
    """A Raft server of the master group, also the chain's failure detector and lease
    granter."""

    config_fields: ClassVar[tuple[str, ...]] = ("id", "config", "chain")

    def __init__(self, node_id: NodeId, raft: RaftConfig, chain: MasterConfig) -> None:
        super().__init__(node_id, raft)
        self.chain = chain
        self.heard: dict[NodeId, float] = {}
        self.heard_epoch: dict[NodeId, int] = {}
        self.suspects: dict[NodeId, NodeId | None] = {}
        self.installing: set[NodeId] = set()
        """Replicas whose latest heartbeat said they wait for a state transfer."""
        self.applied_epoch = chain.initial.epoch
        self.tell_from = 0.0
        """When replicas may be told of ``applied_epoch`` (a lease after it applied)."""
        self.proposed: tuple[int, float] = (0, 0.0)
        """The epoch this node last proposed, and when."""

    @property
    def decided(self) -> ChainConfig:
        machine = self.service.app
        assert isinstance(machine, ChainConfigMachine)
        return machine.config

    # --- lifecycle ----------------------------------------------------------------------

    def on_start(self, out: Out) -> None:
        super().on_start(out)
        for replica in self.chain.replicas:
            self.heard[replica] = out.now
        out.set_timer(TICK, self.chain.timing.heartbeat_s)
        self._applied(out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer == TICK:
            self._tick(out)
            out.set_timer(TICK, self.chain.timing.heartbeat_s)
        elif timer == TELL:
            if out.now >= self.tell_from:
                out.send_all(self.chain.replicas, NewConfig(self.decided))
        else:
            super().on_timer(timer, out)
            self._applied(out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, Heartbeat):
            self._heartbeat(src, msg, out)
        elif isinstance(msg, ClientReply) and src == self.id:
            pass  # the answer to its own proposal: the applied configuration tells
        elif isinstance(msg, ClientRequest) and src != self.id:
            self.note("client request at the master")  # only its own proposals
        else:
            super().on_message(src, msg, out)
            self._applied(out)

    def _applied(self, out: Out) -> None:
        """After a Raft step: has a new configuration been applied here?"""
        epoch = self.decided.epoch
        if epoch != self.applied_epoch:
            self.applied_epoch = epoch
            self.tell_from = out.now + self.chain.timing.lease_s
            out.set_timer_at(TELL, self.tell_from)

    # --- the replicas -------------------------------------------------------------------

    def _heartbeat(self, src: NodeId, msg: Heartbeat, out: Out) -> None:
        if src not in self.chain.replicas:
            self.note("heartbeat from a stranger")
            return
        self.heard[src] = out.now
        self.heard_epoch[src] = msg.epoch
        self.suspects[src] = msg.suspect
        if msg.installed:
            self.installing.discard(src)
        else:
            self.installing.add(src)
        decided = self.decided
        if msg.epoch == decided.epoch and src in decided.chain:
            if not self._reconfiguring():
                out.send(src, Grant(msg.epoch, msg.sent_at))
        elif (
            msg.epoch < decided.epoch
            and out.now >= self.tell_from
            and (src in decided.chain or msg.epoch > 0)
        ):
            out.send(src, NewConfig(decided))

    def _reconfiguring(self) -> bool:
        """Whether this node's log holds a reconfiguration beyond the applied one: it
        grants no lease of the old epoch from the moment the entry reached its log."""
        log = self.log
        current = self.decided.epoch
        for index in range(log.last_index, log.base_index, -1):
            command = log.command_at(index)
            if command is not None and command.op.f == RECONFIGURE:
                return config_of(command.op).epoch > current
        return False

    # --- proposing (the Raft leader) ----------------------------------------------------

    def wanted(self, now: float) -> ChainConfig | None:
        """The next configuration this node's observations call for, if any."""
        decided = self.decided
        silent_s = self.chain.timing.silent_s
        recent = {r for r, t in self.heard.items() if now - t <= silent_s}
        members = set(decided.chain)
        fresh = {r for r in recent if self.heard_epoch.get(r, -1) == 0}
        suspected = {
            s
            for r, s in self.suspects.items()
            if s is not None and r in recent and r in members
            if self.heard_epoch.get(r) == decided.epoch
        }
        return next_config(
            decided,
            silent=members - recent,
            suspected=suspected,
            fresh=fresh,
            installing=self.installing,
        )

    def _tick(self, out: Out) -> None:
        if self.role != LEADER or self.applied_epoch != self.decided.epoch:
            return
        if out.now < self.tell_from:
            return  # the replicas have not been told of the current one yet
        wanted = self.wanted(out.now)
        if wanted is None:
            return
        epoch, at = self.proposed
        if epoch == wanted.epoch and out.now < at + self.chain.timing.retry_s:
            return  # proposed already: wait for it to commit
        self.proposed = (wanted.epoch, out.now)
        seq = wanted.epoch * 1000 + (epoch == wanted.epoch)
        # Handed to its own Raft node in this step (a runtime need not deliver a
        # message a node sends itself).
        super().on_message(self.id, ClientRequest(self.id, seq, reconfigure_op(wanted)), out)
