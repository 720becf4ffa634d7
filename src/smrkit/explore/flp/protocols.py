"""Which binary protocol a name means: a registered one
(:data:`~smrkit.protocols.consensus.binary.BINARY_PROTOCOLS`) or the user's own
``module.path:Class``, a :class:`~smrkit.protocols.consensus.binary.BinaryProcess`."""

from __future__ import annotations

from smrkit.protocols.consensus.binary import BinaryProcess, BinaryProtocol
from smrkit.protocols.consensus.binary_registry import BINARY_PROTOCOLS
from smrkit.sim.user_code import UserCodeError, split_reference
from smrkit.sim.user_code import resolve as resolve_user


class FlpProtocolError(ValueError):
    """A name that is no binary protocol; the message says what to write instead."""


def resolve_binary(name: str) -> BinaryProtocol:
    if name in BINARY_PROTOCOLS:
        return BINARY_PROTOCOLS[name]
    parts = split_reference(name) if ":" in name else None
    if parts is None:
        known = ", ".join(sorted(BINARY_PROTOCOLS))
        raise FlpProtocolError(
            f"unknown protocol {name!r}; use one of {known}, or module.path:Class"
        )
    try:
        found = resolve_user(parts[0], parts[1], "a BinaryProcess subclass")
    except UserCodeError as error:
        raise FlpProtocolError(str(error)) from None
    if not (isinstance(found, type) and issubclass(found, BinaryProcess)):
        raise FlpProtocolError(
            f"{name} is not a BinaryProcess subclass; subclass "
            "smrkit.protocols.consensus.binary.BinaryProcess"
        )
    return BinaryProtocol(name, found, "a user protocol")
