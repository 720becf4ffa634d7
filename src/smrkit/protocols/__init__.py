"""Replication protocols, sans-I/O: they run unchanged in every runtime."""

from smrkit.protocols.claims import (
    Claims,
    ConsensusClaims,
    PartialSyncClaims,
    PrimaryBackupClaims,
)
from smrkit.protocols.registry import (
    TIMINGS,
    ProtocolConfig,
    ProtocolSpec,
    get_protocol,
    protocol_names,
    service_protocols,
)

__all__ = [
    "TIMINGS",
    "Claims",
    "ConsensusClaims",
    "PartialSyncClaims",
    "PrimaryBackupClaims",
    "ProtocolConfig",
    "ProtocolSpec",
    "get_protocol",
    "protocol_names",
    "service_protocols",
]
