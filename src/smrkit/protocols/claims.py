"""What a protocol promises, one shape per protocol family.

A run is judged against two things: what the theory allows (the lower bounds of the
seeds) and what its protocol claims. Each family claims different things, so each has
its own claims object, derived in the protocol's module docstring:

* :class:`PrimaryBackupClaims` — seed 001's figures: failover time, blocking time and
  the (k, Δ) of a bofo service (Pb4);
* :class:`ConsensusClaims` — seed 002's agreement protocols: which specification holds
  (consensus, or terminating reliable broadcast) and by which round every correct
  process decides ("decides by round f + 1", in the seeds' round numbering);
* :class:`ActiveReplicationClaims` — seed 002's recipe with voting: the servers it
  needs, the replies a vote needs, and how many rounds a request waits;
* :class:`PartialSyncClaims` — seed 003's replication under partial synchrony: the
  replication it needs ("n = 2f + 1"), safety under any timing, liveness after GST;
* :class:`FaultSafeClaims` — seed 003's fault-safe replication (OFS-SMR, chain
  replication): f + 1 replicas, safe always, live only while its master is available.

A protocol's :class:`~smrkit.protocols.registry.ProtocolSpec` builds its claims from
``(f, delta_s, tau_s)``; ``None`` in a field means the protocol promises nothing there.
:func:`smrkit.check.claims.judge_claims` judges a run against the consensus and
partial-synchrony claims; :func:`smrkit.check.pb.verdicts` against primary-backup ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias


@dataclass(frozen=True)
class PrimaryBackupClaims:
    """What a primary-backup protocol achieves.

    ``outage_count``/``outage_s`` are the (k, Δ) of property Pb4: every request gets a
    response except those sent during at most k periods, each no longer than Δ.
    """

    family: ClassVar[str] = "primary-backup"
    failover_s: float | None = None
    blocking_s: float | None = None
    outage_count: int | None = None
    outage_s: float | None = None


@dataclass(frozen=True)
class ConsensusClaims:
    """What an agreement protocol guarantees (seed 002).

    ``specification`` is ``consensus``, ``reliable-broadcast`` or
    ``terminating-reliable-broadcast``; ``uniform`` binds faulty processes too;
    ``decides_by_round`` bounds the round of every correct process's decision under
    ``lock-step`` (the seeds' numbering: the round whose messages it decided on);
    ``early_stopping`` promises more, in a run where f' processes crash: every correct
    process decides by round min(f' + 2, ``decides_by_round``). ``sender`` is the
    broadcaster of a (terminating) reliable broadcast."""

    family: ClassVar[str] = "consensus"
    specification: str = "consensus"
    decides_by_round: int | None = None
    uniform: bool = False
    early_stopping: bool = False
    sender: str | None = None


@dataclass(frozen=True)
class PartialSyncClaims:
    """What a replication protocol for partial synchrony guarantees (seed 003):
    ``replicas_min`` servers for f faults (``2f + 1`` for Paxos and Raft), safety under
    every timing, and liveness once the network is synchronous (after GST)."""

    family: ClassVar[str] = "partially-synchronous replication"
    replicas_min: int | None = None
    safe_in_asynchrony: bool = True
    live_after_gst: bool = True
    live_within_s: float | None = None
    """After GST, how soon every correct process decides (a consensus protocol), or every
    request sent after GST is answered (a replicated service); ``None``: eventually."""


@dataclass(frozen=True)
class ActiveReplicationClaims:
    """What an actively replicated service guarantees (seed 002's recipe): every correct
    replica applies the same sequence, clients get linearizable answers once ``votes``
    replicas agree, with at least ``replicas_min`` servers for its f, each request
    answered within ``answered_within_rounds`` lock-step rounds."""

    family: ClassVar[str] = "active replication"
    replicas_min: int | None = None
    votes: int | None = None
    voter: str = "client"
    """Where the vote runs: at each ``client``, or at the named server."""
    answered_within_rounds: int | None = None


@dataclass(frozen=True)
class FaultSafeClaims:
    """What a fault-safe replication protocol guarantees (seed 003's OFS-SMR):
    ``replicas_min`` = f + 1 replicas, reconfigured by a master of ``master_nodes``
    nodes; safe under every fault (a replica that cannot make progress stops, and none
    makes progress again without the master); live only while the master is available
    and the chain has a correct replica, a failure costing at most
    ``reconfigure_within_s`` after GST."""

    family: ClassVar[str] = "fault-safe replication"
    replicas_min: int | None = None
    master_nodes: int | None = None
    safe_always: bool = True
    live_with_master: bool = True
    reconfigure_within_s: float | None = None


Claims: TypeAlias = (
    PrimaryBackupClaims
    | ConsensusClaims
    | PartialSyncClaims
    | ActiveReplicationClaims
    | FaultSafeClaims
)
