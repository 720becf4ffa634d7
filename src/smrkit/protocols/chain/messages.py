"""The messages of chain replication and of its master (:mod:`smrkit.protocols.chain`).

Every message between chain replicas carries the configuration epoch its sender acts
in; a receiver in another epoch counts and drops it. The master nodes agree among
themselves with Raft's own messages (:mod:`smrkit.protocols.raft.messages`).
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.ops import Command
from smrkit.protocols.chain.config import ChainConfig

# --- between chain replicas -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Forward(Message):
    """An update on its way down the chain: the ``index``-th command of the log."""

    epoch: int
    index: int
    command: Command


@dataclass(frozen=True, slots=True)
class Ack(Message):
    """Travelling up the chain: the tail has applied every command up to ``index``, so
    each replica may drop them from its Sent list (and the head may answer retries)."""

    epoch: int
    index: int


@dataclass(frozen=True, slots=True)
class StateTransfer(Message):
    """From the old tail to a new tail joining in ``epoch``: the whole applied log, which
    the new tail replays before it serves."""

    epoch: int
    log: tuple[Command, ...]


@dataclass(frozen=True, slots=True)
class ChainHint(Message):
    """Tells a client the chain of ``epoch``: updates go to its head, queries to its tail."""

    epoch: int
    chain: tuple[NodeId, ...]


# --- between chain replicas and the master ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """A replica to every master node, every heartbeat period: the epoch it acts in (0: a
    fresh incarnation that holds no state and asks to join), the time it sent this (a
    lease granted on it runs from then), and the successor it suspects, if any."""

    epoch: int
    sent_at: float
    suspect: NodeId | None = None
    installed: bool = True
    """False for a joining tail still waiting for the old tail's state."""


@dataclass(frozen=True, slots=True)
class Grant(Message):
    """A master node's answer to a heartbeat: the replica may act in ``epoch`` until
    ``sent_at`` + the lease, once a majority of master nodes granted the same heartbeat."""

    epoch: int
    sent_at: float


@dataclass(frozen=True, slots=True)
class NewConfig(Message):
    """The configuration the master decided (to replicas, and between master nodes)."""

    config: ChainConfig
