"""Registers ``chain`` and its broken variant ``chain-unsafe`` (:mod:`smrkit.protocols.chain`)."""

from __future__ import annotations

from smrkit.apps import SPECS
from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId
from smrkit.core.node import Node
from smrkit.protocols.chain.client import ChainClient
from smrkit.protocols.chain.config import ChainConfig
from smrkit.protocols.chain.master import MasterConfig, build_master, master_ids
from smrkit.protocols.chain.replica import ChainReplica, ChainReplicaConfig
from smrkit.protocols.chain.timing import ChainTiming
from smrkit.protocols.claims import FaultSafeClaims
from smrkit.protocols.client import OpSource
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, register

MASTER_NODES = 3
"""Master nodes of a chain: a majority of 3 survives one crash."""
RECONFIGURE_DELTAS = 5
"""Beside detection and the lease: the heartbeat that reports it reaches the leader (δ),
the proposal commits (2δ), a follower or the leader applies it, NewConfig reaches a
replica (δ), and a δ of slack."""


def build_chain(config: ProtocolConfig, *, safe: bool = True) -> list[Node]:
    """The chain replicas ``p1 … pn`` (head first) and the master nodes ``m1 … m3``."""
    timing = ChainTiming.derive(config.delta_s, config.tau_s, len(config.servers))
    masters = master_ids(MASTER_NODES)
    initial = ChainConfig(1, config.servers)
    replica_config = ChainReplicaConfig(
        masters, initial, config.clients, config.app, config.sessions_max, timing, safe
    )
    nodes: list[Node] = [ChainReplica(p, replica_config) for p in config.servers]
    master = MasterConfig(config.servers, initial, timing)
    nodes.extend(build_master(masters, master, delta_s=config.delta_s, tau_s=config.tau_s))
    return nodes


def chain_client(client: NodeId, config: ProtocolConfig, ops: OpSource) -> ChainClient:
    return ChainClient(
        client,
        config.servers,
        ops,
        timeout_s=client_timeout_s(config.delta_s, config.tau_s),
        read_only=SPECS[config.app].read_only,
    )


def client_timeout_s(delta_s: float, tau_s: float) -> float:
    """Longer than an update's trip along a chain of a few replicas, and than a lease
    renewal: a retry is then worth sending."""
    return 2 * tau_s + 10 * delta_s


def claims(f: int, delta_s: float, tau_s: float) -> FaultSafeClaims:
    timing = ChainTiming.derive(delta_s, tau_s, f + 1)
    detect = max(timing.silent_s, timing.ack_timeout_s + tau_s)
    return FaultSafeClaims(
        replicas_min=f + 1,
        master_nodes=MASTER_NODES,
        reconfigure_within_s=detect + tau_s + timing.lease_s + RECONFIGURE_DELTAS * delta_s,
    )


def _spec(name: str, title: str, *, safe: bool) -> ProtocolSpec:
    return ProtocolSpec(
        name=name,
        title=title,
        failure_model=FailureModel.CRASH_LINK,
        replicas_default=3,
        build=lambda config: build_chain(config, safe=safe),
        tolerated=lambda n: n - 1,
        replicas_problem=lambda n: None if n >= 1 else "a chain needs at least 1 replica",
        claims=claims,
        client_timeout_s=client_timeout_s,
        restartable=True,
        timings=("partial-sync", "synchronous"),
        client=chain_client,
        auxiliary=lambda n: master_ids(MASTER_NODES),
    )


CHAIN = register(
    _spec(
        "chain",
        "chain replication with a replicated master, n = f + 1 (fault-safe: OFS-SMR)",
        safe=True,
    )
)
CHAIN_UNSAFE = register(
    _spec(
        "chain-unsafe",
        "BROKEN chain replication: replicas act without the master's lease and promote "
        "themselves to tail",
        safe=False,
    )
)
