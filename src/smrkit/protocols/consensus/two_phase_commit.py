"""Two-phase commit, as Stateright's ``examples/2pc.rs`` models it (after Gray and Lamport,
"Consensus on Transaction Commit") — the model whose state counts (288 with three
resource managers, 8,832 with five, 665 with five under symmetry) the explorer
reproduces.

Algorithm. A transaction manager (TM) and n resource managers (RMs, the servers). Each RM,
while working, either prepares (tells the TM ``Prepared``) or chooses to abort. The TM
records each ``Prepared``; once every RM prepared it may commit, and while it has not
decided it may abort; either way it tells every RM (``Commit`` or ``Abort``), and an RM
does what it is told.

Failure and timing model. No failures: the protocol blocks if the TM fails after the RMs
prepared (this is why Gray and Lamport replace it with Paxos Commit). Asynchronous.
Safety: no RM commits while another aborts ("consistent").

How Stateright's model maps onto nodes. Stateright's 2PC is one global state, not actors:
a set of messages that are never consumed and actions enabled by guards. Here:

* the set of messages is a *duplicating* network: a message sent stays in flight and may
  be delivered again (the explorer's ``network="duplicating"``); ``Commit`` and ``Abort``
  go to every RM, so "``Commit`` is in the set" is "``Commit`` is in flight to every RM";
* the spontaneous actions are timers under the ``async`` chooser, which fires any pending
  timer at any moment: an RM arms ``prepare`` and ``abort`` while working, the TM arms
  ``abort`` while undecided and ``commit`` once every RM prepared;
* an action that changes nothing (a second ``Prepared``, a ``Commit`` to an RM that has
  committed) is a no-op, not a step.

The RM's state is one :class:`RmState`, ordered as Stateright's enum is declared, because
symmetry reduction sorts the RMs by their state (Stateright's ``RewritePlan``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Node, Out, Timer

TM = "tm"
"""The transaction manager's node id."""


class RmState(enum.IntEnum):
    WORKING = 0
    PREPARED = 1
    COMMITTED = 2
    ABORTED = 3


class TmState(enum.IntEnum):
    INIT = 0
    COMMITTED = 1
    ABORTED = 2


@dataclass(frozen=True, slots=True)
class Prepared(Message):
    rm: NodeId


@dataclass(frozen=True, slots=True)
class Commit(Message):
    pass


@dataclass(frozen=True, slots=True)
class Abort(Message):
    pass


PREPARE = "prepare"
ABORT = "abort"
COMMIT = "commit"


@dataclass(frozen=True)
class TmConfig:
    rms: tuple[NodeId, ...]


class TransactionManager(Node):
    def __init__(self, rms: tuple[NodeId, ...], node_id: NodeId = TM) -> None:
        super().__init__(node_id)
        self.config = TmConfig(rms)
        self.state = TmState.INIT
        self.prepared: frozenset[NodeId] = frozenset()

    def on_start(self, out: Out) -> None:
        out.set_timer(ABORT, 0.0)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, Prepared) and self.state is TmState.INIT:
            self.prepared = self.prepared | {msg.rm}
            if self.prepared == frozenset(self.config.rms):
                out.set_timer(COMMIT, 0.0)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if self.state is not TmState.INIT:
            return
        if timer == COMMIT:
            self.state = TmState.COMMITTED
            out.cancel_timer(ABORT)
            out.send_all(self.config.rms, Commit())
        elif timer == ABORT:
            self.state = TmState.ABORTED
            out.cancel_timer(COMMIT)
            out.send_all(self.config.rms, Abort())


class ResourceManager(Node):
    def __init__(self, node_id: NodeId, tm: NodeId = TM) -> None:
        super().__init__(node_id)
        self.config = tm
        self.state = RmState.WORKING

    def on_start(self, out: Out) -> None:
        out.set_timer(PREPARE, 0.0)
        out.set_timer(ABORT, 0.0)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if self.state is not RmState.WORKING:
            return
        out.cancel_timer(ABORT if timer == PREPARE else PREPARE)
        if timer == PREPARE:
            self.state = RmState.PREPARED
            out.send(self.config, Prepared(self.id))
        else:
            self.state = RmState.ABORTED

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, Commit):
            self.state = RmState.COMMITTED
        elif isinstance(msg, Abort):
            if self.state is RmState.WORKING:
                out.cancel_timer(PREPARE)
                out.cancel_timer(ABORT)
            self.state = RmState.ABORTED
