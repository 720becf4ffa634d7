"""Observers: what nodes expose, turned into records the checkers read.

The kernel records what the network and the faults did (sends, deliveries, drops,
crashes); what a protocol *means* — who is primary, what a replica applied, what a
process decided — is read off the nodes after each step by an observer and recorded
beside it. Checkers then work from the trace alone, for a simulated run and for a trace
file alike.

* :class:`PrimaryBackupObserver` — seed 001's observables: each replica's predicate Prmy
  (``is_primary``, recorded as ``primary`` when it changes, and as lost when the replica
  crashes or halts), its applied commands (``apply``, for log agreement) and each
  client's ``Dest`` (``dest``, property Pb2);
* :class:`HistoryObserver` — the client history: a client's first send of a command
  (``invoke``) and the first reply to reach it (``complete``), protocol-independent
  because client traffic is always ``ClientRequest``/``ClientReply``; it also knows
  which clients still have work (a run may stop when none has);
* :class:`ConsensusObserver` — seed 002's events for :class:`~smrkit.core.node.
  ConsensusProcess` nodes: ``proposed``, ``delivered`` and ``decided``, each with the
  round it happened in under ``lock-step`` (the seeds' numbering: a decision taken in
  ``on_round(r, …)`` on round r − 1's messages is a decision *in round r − 1*; 0 in
  ``on_start``), and ``None`` under the other timings (the record's time says when);
* :class:`LeaderLogObserver` — Raft's observables (:class:`~smrkit.protocols.raft.
  RaftNode`): each election won (``elected``, the term and the winner's log) and each
  advance of a commit index (``committed``, the entries newly committed), which the
  election-safety and leader-completeness checks read (:mod:`smrkit.check.raft`).

:func:`observers_for` picks the ones a set of nodes needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.node import ClientNode, ConsensusProcess, Node, Replica
from smrkit.core.ops import Command
from smrkit.protocols.raft.node import LEADER, RaftNode
from smrkit.sim.kernel.events import Deliver
from smrkit.sim.kernel.records import (
    APPLY,
    COMMITTED,
    COMPLETE,
    DECIDED,
    DELIVERED,
    DEST,
    ELECTED,
    INVOKE,
    PRIMARY,
    PROPOSED,
    Record,
)
from smrkit.sim.kernel.world import Observer, SimulationError, World
from smrkit.sim.network import ROUNDS

_new = tuple.__new__


class PrimaryBackupObserver(Observer):
    """Prmy and the applied log of each replica, ``Dest`` of each client."""

    def __init__(self) -> None:
        self.replicas: dict[NodeId, Replica] = {}
        self.clients: dict[NodeId, ClientNode] = {}
        """Clients still watched: one that is done or down keeps its last ``Dest``."""
        self.primary: dict[NodeId, bool] = {}
        self.applied: dict[NodeId, int] = {}
        self.dest: dict[NodeId, NodeId | None] = {}
        self.recovering: dict[NodeId, int] = {}
        """Restarted replicas still applying again entries already recorded: how many
        their earlier incarnations applied."""

    def attach(self, world: World) -> None:
        for node_id, node in world.nodes.items():
            if isinstance(node, Replica):
                self.replicas[node_id] = node
                self.applied[node_id] = node.applied_offset + len(node.applied)
            elif isinstance(node, ClientNode):
                self.clients[node_id] = node

    def watches(self, node_id: NodeId, node: Node) -> bool:
        return isinstance(node, Replica | ClientNode)

    def stepped(self, world: World, node_id: NodeId, node: Node) -> None:
        replica = self.replicas.get(node_id)
        if replica is not None:
            primary = replica.is_primary
            if primary != self.primary.get(node_id, False):
                self.primary[node_id] = primary
                world.log.append(_new(Record, (world.now, PRIMARY, node_id, None, None, primary)))
            applied = replica.applied
            before, count = self.applied[node_id], replica.applied_offset + len(applied)
            if self.recovering and node_id in self.recovering:
                floor = self.recovering[node_id]
                if count <= floor:  # applying again what it applied before a restart
                    self.applied[node_id] = count
                    return
                del self.recovering[node_id]
                before = floor
            if count != before:
                self._applied(world, node_id, applied, before, count)
            return
        client = self.clients.get(node_id)
        if client is not None:
            dest = client.dest
            if dest != self.dest.get(node_id):
                self.dest[node_id] = dest
                world.log.append(_new(Record, (world.now, DEST, node_id, dest, None, None)))
            if client.done:
                del self.clients[node_id]

    def _applied(
        self, world: World, node_id: NodeId, applied: list[Command], before: int, count: int
    ) -> None:
        """Record commands ``before + 1 … count``; those a snapshot brought
        (``applied_offset``) were never applied here one by one and are not recorded."""
        if count < before:
            raise SimulationError(f"{node_id}'s applied log shrank at t={world.now:.6f}")
        self.applied[node_id] = count
        log, now = world.log, world.now
        offset = count - len(applied)
        for index in range(max(before, offset), count):
            command = applied[index - offset]
            log.append(_new(Record, (now, APPLY, node_id, None, index + 1, command)))

    def stopped(self, world: World, node_id: NodeId) -> None:
        if self.primary.get(node_id):
            self.primary[node_id] = False
            world.log.append(Record(world.now, PRIMARY, node_id, None, None, False))
        self.clients.pop(node_id, None)

    def restarted(self, world: World, node_id: NodeId, node: Node) -> None:
        """A restarted replica rebuilds its state by applying its committed entries again:
        those were recorded already, so its ``apply`` records resume after the most any
        earlier incarnation applied."""
        if isinstance(node, Replica):
            self.replicas[node_id] = node
            floor = max(self.applied.get(node_id, 0), self.recovering.get(node_id, 0))
            self.recovering[node_id] = floor
            self.applied[node_id] = node.applied_offset + len(node.applied)
        elif isinstance(node, ClientNode):
            self.clients[node_id] = node


class HistoryObserver(Observer):
    """Invocations and completions of client commands; which clients still have work."""

    def __init__(self) -> None:
        self.pending: set[NodeId] = set()
        """Clients neither done nor down: their requests and replies are recorded."""
        self.open: set[tuple[NodeId, int]] = set()
        self.voters: dict[NodeId, int] = {}
        """Voting clients (``ClientNode.votes``): how many of their verdicts are recorded."""
        self.completed = 0
        """Client commands answered so far (what a progress bar counts)."""

    def attach(self, world: World) -> None:
        self.pending = {n for n, node in world.nodes.items() if isinstance(node, ClientNode)}
        self.voters = {
            n: 0 for n, node in world.nodes.items() if isinstance(node, ClientNode) and node.votes
        }

    def watches(self, node_id: NodeId, node: Node) -> bool:
        return isinstance(node, ClientNode)

    def delivered(self, world: World, message: Deliver) -> None:
        msg, dst = message.msg, message.dst
        if type(msg) is ClientReply and dst in self.pending and dst not in self.voters:
            key = (dst, msg.seq)
            if key in self.open and msg.client == dst:
                self.open.discard(key)
                self.completed += 1
                status = "ok" if msg.error is None else "fail"
                result = (status, msg.result)
                world.log.append(_new(Record, (world.now, COMPLETE, dst, None, msg.seq, result)))

    def sent(self, world: World, src: NodeId, dst: NodeId, msg: Message) -> None:
        if type(msg) is ClientRequest and src in self.pending:
            key = (src, msg.seq)
            if msg.client == src and key not in self.open:
                self.open.add(key)
                world.log.append(_new(Record, (world.now, INVOKE, src, None, msg.seq, msg.op)))

    def stepped(self, world: World, node_id: NodeId, node: Node) -> None:
        if node_id in self.voters:
            self._verdicts(world, node_id, node)
        if node.done and node_id in self.pending:
            self.pending.discard(node_id)

    def _verdicts(self, world: World, node_id: NodeId, node: Node) -> None:
        verdicts: list[ClientReply] = getattr(node, "verdicts", [])
        for reply in verdicts[self.voters[node_id] :]:
            key = (node_id, reply.seq)
            if key in self.open:
                self.open.discard(key)
                self.completed += 1
                status = "ok" if reply.error is None else "fail"
                record = (world.now, COMPLETE, node_id, None, reply.seq, (status, reply.result))
                world.log.append(_new(Record, record))
        self.voters[node_id] = len(verdicts)

    def stopped(self, world: World, node_id: NodeId) -> None:
        self.pending.discard(node_id)


class ConsensusObserver(Observer):
    """``proposed``, ``delivered`` and ``decided`` records of consensus processes."""

    def __init__(self) -> None:
        self.processes: set[NodeId] = set()
        self.proposed: set[NodeId] = set()
        self.deliveries: dict[NodeId, int] = {}
        self.decisions: dict[NodeId, int] = {}

    def attach(self, world: World) -> None:
        for node_id, node in world.nodes.items():
            if isinstance(node, ConsensusProcess):
                self.processes.add(node_id)
                self.deliveries[node_id] = 0
                self.decisions[node_id] = 0

    def watches(self, node_id: NodeId, node: Node) -> bool:
        return isinstance(node, ConsensusProcess)

    def stepped(self, world: World, node_id: NodeId, node: Node) -> None:
        if node_id not in self.processes:
            return
        assert isinstance(node, ConsensusProcess)
        log = world.log
        round_ = max(world.round - 1, 0) if world.network.clock == ROUNDS else None
        if node.proposed and node_id not in self.proposed:
            self.proposed.add(node_id)
            log.append(Record(world.now, PROPOSED, node_id, None, round_, node.proposal))
        seen = self.deliveries[node_id]
        for sender, value in node.delivered[seen:]:
            log.append(Record(world.now, DELIVERED, node_id, sender, round_, value))
        self.deliveries[node_id] = len(node.delivered)
        if node.decisions != self.decisions[node_id]:
            self.decisions[node_id] = node.decisions
            log.append(Record(world.now, DECIDED, node_id, None, round_, node.decision))


class LeaderLogObserver(Observer):
    """Elections won and commit indexes advanced, of Raft servers."""

    def __init__(self) -> None:
        self.led: dict[NodeId, int] = {}
        """The term each server last led, as recorded."""
        self.commit: dict[NodeId, int] = {}
        """Each server's commit index, as recorded (its incarnation's)."""

    def attach(self, world: World) -> None:
        for node_id, node in world.nodes.items():
            if isinstance(node, RaftNode):
                self.commit[node_id] = node.commit

    def watches(self, node_id: NodeId, node: Node) -> bool:
        return isinstance(node, RaftNode)

    def stepped(self, world: World, node_id: NodeId, node: Node) -> None:
        assert isinstance(node, RaftNode)
        log = node.log
        if node.role == LEADER and self.led.get(node_id) != node.term:
            self.led[node_id] = node.term
            data = (log.base_index, log.base_term, tuple(log.terms))
            world.log.append(Record(world.now, ELECTED, node_id, None, node.term, data))
        before = self.commit.get(node_id, 0)
        if node.commit > before:
            self.commit[node_id] = node.commit
            first = max(before, log.base_index) + 1
            entries: list[tuple[int | None, NodeId | None, int]] = []
            for index in range(first, node.commit + 1):
                command = log.command_at(index)
                term = log.term_at(index)
                if command is None:
                    entries.append((term, None, 0))
                else:
                    entries.append((term, command.client, command.seq))
            news = (node.term, first, tuple(entries))
            world.log.append(Record(world.now, COMMITTED, node_id, None, node.commit, news))

    def restarted(self, world: World, node_id: NodeId, node: Node) -> None:
        if isinstance(node, RaftNode):
            self.commit[node_id] = node.commit
            self.led.pop(node_id, None)


def observers_for(nodes: Sequence[Node]) -> list[Observer]:
    """The observers these nodes need, in the order their records must interleave."""
    observers: list[Observer] = []
    if any(isinstance(node, Replica | ClientNode) for node in nodes):
        observers.append(PrimaryBackupObserver())
    if any(isinstance(node, ClientNode) for node in nodes):
        observers.append(HistoryObserver())
    if any(isinstance(node, ConsensusProcess) for node in nodes):
        observers.append(ConsensusObserver())
    if any(isinstance(node, RaftNode) for node in nodes):
        observers.append(LeaderLogObserver())
    return observers
