"""Replication protocols, sans-I/O: they run unchanged in every runtime."""

from smrkit.protocols.registry import (
    ProtocolConfig,
    ProtocolSpec,
    Targets,
    get_protocol,
    protocol_names,
)

__all__ = ["ProtocolConfig", "ProtocolSpec", "Targets", "get_protocol", "protocol_names"]
