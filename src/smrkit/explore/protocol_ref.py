"""A protocol named on the command line: a registered name, or the user's own code.

``pb-crash`` names a registered protocol. ``module.path:Name`` imports ``module.path``
(:mod:`smrkit.sim.user_code`: the current directory is searched first, as ``python -m``
does, so a file beside the user needs no installing) and takes ``Name`` from it, which
must be either

* a :class:`~smrkit.core.node.Replica` subclass, constructed for every server as
  ``Name(node_id, config)`` with ``config`` a
  :class:`~smrkit.protocols.registry.ProtocolConfig` — exactly how the built-in replicas
  are built (``CrashReplica(node_id, config)``) — or, for a subclass with no ``__init__``
  of its own (the README's ``EchoPrimary``), as ``Name(node_id)`` with ``self.config``
  set to that configuration; or
* a :class:`~smrkit.protocols.registry.ProtocolSpec` (it need not be registered), for a
  protocol that wants to state its own failure model, its ``n`` and its client time-out.

A Replica class says nothing about the failures it claims to tolerate, so it carries no
claim; its clients retry after ``4δ + τ`` (a request, a round trip between servers, the
reply, and one heartbeat period of slack). Every way this can go wrong is a
:class:`ProtocolRefError` whose message names the problem and the fix.

:func:`ensure_registered` also registers a ``module.path:Name`` under that very name, so
a :class:`~smrkit.sim.world.SimConfig` (and so a trace, a sweep's worker process, a
replay command) can name the user's protocol exactly as the user did.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from smrkit.core.failure_models import FailureModel
from smrkit.core.node import Replica
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.protocols.registry import (
    ProtocolConfig,
    ProtocolSpec,
    get_protocol,
    protocol_names,
    register,
)
from smrkit.sim.user_code import UserCodeError, resolve, split_reference
from smrkit.sim.world import ConfigError

FIX = "write --protocol NAME (a registered protocol) or --protocol module.path:ClassName"


class ProtocolRefError(ValueError):
    """A protocol reference that cannot be resolved; the message says what to change."""


@dataclass(frozen=True)
class ResolvedProtocol:
    """The spec to build the servers from; ``declared`` is false for a bare Replica class,
    whose failure model and ``f`` nobody stated."""

    spec: ProtocolSpec
    declared: bool


def resolve_protocol(ref: str) -> ResolvedProtocol:
    """The protocol ``ref`` names (see the module docstring)."""
    if ":" not in ref:
        try:
            return ResolvedProtocol(get_protocol(ref), declared=True)
        except KeyError as error:
            raise ProtocolRefError(f"{error.args[0]}; or {FIX}") from None
    parts = split_reference(ref)
    if parts is None:
        raise ProtocolRefError(f"bad protocol reference {ref!r}: {FIX}")
    module_name, attribute = parts
    try:
        target = resolve(module_name, attribute, f"class {attribute}(Replica)")
    except UserCodeError as error:
        raise ProtocolRefError(str(error)) from None
    if isinstance(target, ProtocolSpec):
        return ResolvedProtocol(target, declared=True)
    if target is Replica:
        raise ProtocolRefError(
            f"{ref} is smrkit's Replica base class, which does nothing; name your subclass of it"
        )
    if isinstance(target, type) and issubclass(target, Replica):
        return ResolvedProtocol(_spec_for_class(ref, target), declared=False)
    raise ProtocolRefError(
        f"{ref} is of type {type(target).__name__}, not a Replica subclass or a ProtocolSpec; "
        f"define class {attribute}(Replica) with __init__(self, node_id, config)"
    )


def ensure_registered(ref: str) -> ResolvedProtocol:
    """Resolve ``ref`` and make ``get_protocol(ref)`` find it in this process."""
    resolved = resolve_protocol(ref)
    if ref in protocol_names():
        return ResolvedProtocol(get_protocol(ref), resolved.declared)
    spec = replace(resolved.spec, name=ref)
    register(spec)
    return ResolvedProtocol(spec, resolved.declared)


def _spec_for_class(ref: str, replica: type[Replica]) -> ProtocolSpec:
    doc = (replica.__doc__ or "").strip()
    title = doc.splitlines()[0] if doc else f"the user's protocol {ref}"

    own_init = replica.__init__ is not Replica.__init__

    def build(config: ProtocolConfig) -> list[Replica]:
        # The contract is the subclass's (node_id, config). A class with no __init__ of its
        # own (the README's EchoPrimary) has Replica's (node_id): it is built with that,
        # and finds the configuration in self.config as every replica does.
        if own_init:
            try:
                return [replica(server, config) for server in config.servers]  # type: ignore[call-arg]
            except TypeError as error:
                raise ConfigError(
                    f"{ref}({config.servers[0]!r}, config) failed: {error}; give "
                    f"{replica.__name__} an __init__(self, node_id, config)"
                ) from None
        nodes: list[Replica] = []
        for server in config.servers:
            node = replica(server)
            node.config = config  # type: ignore[attr-defined]
            nodes.append(node)
        return nodes

    return ProtocolSpec(
        name=ref,
        title=title,
        failure_model=FailureModel.CRASH,  # unused: ``declared`` is false
        replicas_default=2,
        build=build,
        tolerated=lambda n: 0,
        replicas_problem=lambda n: None,
        claims=lambda f, delta_s, tau_s: PrimaryBackupClaims(),
        client_timeout_s=lambda delta_s, tau_s: 4 * delta_s + tau_s,
    )
