"""What the rest of smrkit needs to know about a protocol, and the registry of them.

A :class:`ProtocolSpec` says which failure model a protocol tolerates, how many failures
``f`` it tolerates with ``n`` servers, which timing models it is built for, how to build
its replicas, and what it promises — its claims (:mod:`smrkit.protocols.claims`: one
shape per family, derived in its module docstring) — so that a run can be measured
against both the promise and the seeds' lower bounds. Running a protocol under a timing
model or a fault plan outside what it is built for is allowed, and flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId
from smrkit.core.node import Node
from smrkit.protocols.claims import Claims
from smrkit.protocols.client import OpSource
from smrkit.protocols.service import CLIENTS_MAX_DEFAULT

MESSAGE_BYTES_MAX_DEFAULT = 4 * 1024 * 1024
"""Half the TCP runtime's default frame limit: room for the frame's envelope and for
several messages batched into one frame."""

TIMINGS = ("synchronous", "partial-sync", "lock-step", "async")
"""The timing models (DESIGN.md, "The kernel, and timing models as choosers")."""


@dataclass(frozen=True)
class ProtocolConfig:
    """Everything a protocol's replicas are built from."""

    servers: tuple[NodeId, ...]
    clients: tuple[NodeId, ...]
    app: str
    delta_s: float
    tau_s: float
    message_bytes_max: int = MESSAGE_BYTES_MAX_DEFAULT
    """The largest message the runtime carries (bounded by ``encoded_bytes_bound``): a
    protocol that ships parts of its log splits them to fit."""
    sessions_max: int = CLIENTS_MAX_DEFAULT
    """Client sessions the replicated service remembers (:mod:`smrkit.protocols.service`)."""
    clients_trusted: bool = True
    """Whether clients are correct, as every failure model of seed 001 assumes — so that
    a client's word (``ClientRequest.previous``) is evidence. A real deployment cannot
    assume it and turns it off."""
    inputs: tuple[int, ...] = ()
    """The processes' inputs, p1 first, for a protocol that ``takes_inputs``; empty
    otherwise."""


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    title: str
    failure_model: FailureModel
    replicas_default: int
    build: Callable[[ProtocolConfig], Sequence[Node]]
    tolerated: Callable[[int], int]
    """``f`` as a function of the number of servers."""
    replicas_problem: Callable[[int], str | None]
    """Why ``n`` servers cannot run this protocol, or ``None``."""
    claims: Callable[[int, float, float], Claims]
    """``(f, delta_s, tau_s) -> claims`` of the protocol's family."""
    client_timeout_s: Callable[[float, float], float]
    """A client time-out that exceeds the worst response time: ``(delta_s, tau_s)``."""
    restartable: bool = False
    """A replica started again with what it saved (``out.saved``) rejoins safely."""
    recovers: bool = False
    """The failure model includes recovery (seed 003's omission model, Raft): restarts
    are within it, and a cut link counts as the omissions of one of its ends (the sim's
    admissibility judges plans so)."""
    timings: tuple[str, ...] = ("synchronous",)
    """The timing models the protocol is built for; the first is its default."""
    client: Callable[[NodeId, ProtocolConfig, OpSource], Node] | None = None
    """Builds the protocol's own client (a voting one), ``(client_id, config, ops)``;
    ``None``: the standard client (:mod:`smrkit.protocols.client`)."""
    serves_clients: bool = True
    """Whether the protocol replicates a service for clients; an agreement protocol
    (seed 002's rounds) does not, and a run builds no clients for it."""
    takes_inputs: bool = False
    """An agreement protocol whose processes' inputs a run chooses (``--inputs``, in
    ``ProtocolConfig.inputs``)."""
    carried_value: Callable[[object], tuple[Hashable, Hashable] | None] | None = None
    """``(phase, value)`` a message carries, ``None`` for one that carries no value: what
    the ``split`` schedule reads to keep values split (``None``: not offered)."""
    untrusted_claims: Callable[[int, float, float, int], Claims] | None = None
    """``(f, delta_s, tau_s, clients) -> claims`` when clients are untrusted
    (``ProtocolConfig.clients_trusted`` off), for a protocol that otherwise takes a
    client's word; ``None``: the protocol never does, and claims the same either way."""

    def claims_for(
        self, f: int, delta_s: float, tau_s: float, *, clients: int, clients_trusted: bool
    ) -> Claims:
        """The protocol's claims for a run with ``clients`` clients, trusted or not."""
        if clients_trusted or self.untrusted_claims is None:
            return self.claims(f, delta_s, tau_s)
        return self.untrusted_claims(f, delta_s, tau_s, clients)

    def timing_problem(self, timing: str) -> str | None:
        """Why running under ``timing`` is outside what the protocol is built for."""
        if timing in self.timings:
            return None
        built = " and ".join(self.timings)
        return f"{self.name} is built for {built} timing; this run is {timing}"


_PROTOCOLS: dict[str, ProtocolSpec] = {}


def register(spec: ProtocolSpec) -> ProtocolSpec:
    if spec.name in _PROTOCOLS:
        raise ValueError(f"protocol {spec.name!r} registered twice")
    _PROTOCOLS[spec.name] = spec
    return spec


def protocol_names() -> list[str]:
    _load_builtins()
    return sorted(_PROTOCOLS)


def service_protocols() -> list[str]:
    """The registered protocols that replicate a service for clients (``serves_clients``),
    as opposed to seed 002's agreement protocols."""
    return [name for name in protocol_names() if _PROTOCOLS[name].serves_clients]


def restartable_protocols() -> list[str]:
    """The registered protocols whose replicas may be restarted (``restartable``)."""
    return [name for name in protocol_names() if _PROTOCOLS[name].restartable]


def get_protocol(name: str) -> ProtocolSpec:
    """The spec of a registered protocol; ``KeyError`` names the known ones."""
    _load_builtins()
    try:
        return _PROTOCOLS[name]
    except KeyError:
        raise KeyError(
            f"unknown protocol {name!r}; known: {', '.join(sorted(_PROTOCOLS))}"
        ) from None


def _load_builtins() -> None:
    from smrkit.protocols import active_replication  # noqa: F401 - registers smr-active
    from smrkit.protocols.agreement import specs  # noqa: F401 - importing registers them
    from smrkit.protocols.byzantine import specs as byzantine_specs  # noqa: F401
    from smrkit.protocols.consensus import (  # noqa: F401 - importing registers them
        ben_or,
        initially_dead,
        paxos_timeouts,
    )
    from smrkit.protocols.primary_backup import (  # noqa: F401 - importing registers them
        crash,
        general_omission,
        link,
        receive_omission,
        send_omission,
        simple,
    )
    from smrkit.protocols.raft import spec as raft_spec  # noqa: F401 - registers raft
