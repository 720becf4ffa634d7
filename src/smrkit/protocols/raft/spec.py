"""``raft`` and ``raft-unsafe-commit`` in the registry, and :func:`build_raft_group`, the
builder that runs Raft over any deterministic state machine.

Timing. The leader's period is τ (``--tau``); an election time-out is drawn uniformly
from ``[T, 2T]`` with ``T = 2τ + 2δ``: a follower hears its leader at least every τ + δ
after GST, so a correct leader is never deposed after GST, and two time-outs drawn
from a range 2τ + 2δ wide rarely fall within the 2δ a vote takes (a split vote costs
one more time-out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId
from smrkit.core.state_machine import StateMachine
from smrkit.protocols.claims import PartialSyncClaims
from smrkit.protocols.raft.node import PART_OVERHEAD_BYTES, RaftConfig, RaftNode
from smrkit.protocols.registry import (
    MESSAGE_BYTES_MAX_DEFAULT,
    ProtocolConfig,
    ProtocolSpec,
    register,
)
from smrkit.protocols.service import CLIENTS_MAX_DEFAULT


def election_min_s(delta_s: float, tau_s: float) -> float:
    """The shortest election time-out, ``2τ + 2δ`` (see the module docstring)."""
    return 2 * tau_s + 2 * delta_s


def build_raft_group(
    servers: Sequence[NodeId],
    state_machine: str | Callable[[], StateMachine],
    *,
    delta_s: float,
    tau_s: float,
    clients: Sequence[NodeId] = (),
    message_bytes_max: int = MESSAGE_BYTES_MAX_DEFAULT,
    sessions_max: int = CLIENTS_MAX_DEFAULT,
    commit_by_counting: bool = False,
    pre_vote: bool = True,
    check_quorum: bool = True,
) -> list[RaftNode]:
    """A Raft group of ``servers`` replicating ``state_machine`` — an application's name
    or a factory of any deterministic :class:`~smrkit.core.state_machine.StateMachine`
    (each server calls it once). Clients talk to it with ``ClientRequest`` as to any
    smrkit service (:mod:`smrkit.protocols.client`); commands are applied exactly once
    per ``(client, seq)``. ``clients`` are told of each new leader. ``pre_vote`` and
    ``check_quorum`` are :class:`RaftConfig`'s (off: the Raft paper's Figure 2)."""
    ordered = tuple(sorted(servers, key=lambda s: (len(s), s)))  # p2 before p10; any ids
    if len(set(ordered)) != len(ordered) or not ordered:
        raise ValueError(f"a Raft group needs distinct servers, got {list(servers)}")
    if delta_s <= 0 or tau_s <= 0:
        raise ValueError(f"δ and τ must be positive, got δ = {delta_s}, τ = {tau_s}")
    return [
        RaftNode(
            server,
            RaftConfig(
                servers=ordered,
                others=tuple(s for s in ordered if s != server),
                clients=tuple(clients),
                app=state_machine,
                sessions_max=sessions_max,
                heartbeat_s=tau_s,
                election_min_s=election_min_s(delta_s, tau_s),
                part_bytes_max=max(1, message_bytes_max - PART_OVERHEAD_BYTES),
                commit_by_counting=commit_by_counting,
                pre_vote=pre_vote,
                check_quorum=check_quorum,
            ),
        )
        for server in ordered
    ]


def client_timeout(delta_s: float, tau_s: float) -> float:
    """Longer than a command takes with a leader: δ there, 2δ to replicate, δ back —
    and twice that for slack; a client that times out asks another server."""
    return 8 * delta_s


def claims(f: int, delta_s: float, tau_s: float) -> PartialSyncClaims:
    return PartialSyncClaims(replicas_min=2 * f + 1)


def _spec(name: str, title: str, *, commit_by_counting: bool) -> ProtocolSpec:
    def build(config: ProtocolConfig) -> list[RaftNode]:
        return build_raft_group(
            config.servers,
            config.app,
            delta_s=config.delta_s,
            tau_s=config.tau_s,
            clients=config.clients,
            message_bytes_max=config.message_bytes_max,
            sessions_max=config.sessions_max,
            commit_by_counting=commit_by_counting,
        )

    return ProtocolSpec(
        name=name,
        title=title,
        failure_model=FailureModel.GENERAL_OMISSION,
        replicas_default=3,
        build=build,
        tolerated=lambda n: (n - 1) // 2,
        replicas_problem=lambda n: None if n >= 1 else f"{name} needs at least 1 server",
        claims=claims,
        client_timeout_s=client_timeout,
        restartable=True,
        recovers=True,
        timings=("partial-sync", "synchronous", "async"),
    )


RAFT = register(
    _spec(
        "raft",
        "Raft: leader election, log replication, n = 2f + 1 (seed 003, OFT-SMR)",
        commit_by_counting=False,
    )
)
RAFT_UNSAFE_COMMIT = register(
    _spec(
        "raft-unsafe-commit",
        "Raft, broken: commits an earlier term's entry by counting (Raft §5.4.2, Figure 8)",
        commit_by_counting=True,
    )
)
