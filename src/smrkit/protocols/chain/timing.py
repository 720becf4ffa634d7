"""The time-outs of chain replication and its master, derived from δ and τ.

The lease is what makes a stop safe: a replica acts in an epoch only while a majority of
master nodes has granted it a lease, and the master decides a new configuration only
after every lease of the old one has run out. A replica renews its lease every
heartbeat period, so the lease must outlast a period and a round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

LEASE_PERIODS = 3
"""A lease lasts this many heartbeat periods, and 2δ (one period and a round trip is
the least)."""
SILENT_PERIODS = 2
"""The master removes a replica it has not heard from in this many periods (plus 2δ)."""


@dataclass(frozen=True)
class ChainTiming:
    heartbeat_s: float
    """τ: replicas heartbeat the master nodes, master nodes check for changes."""
    lease_s: float
    silent_s: float
    ack_timeout_s: float
    """A replica whose oldest unacknowledged update is older than this suspects its
    successor (and stops)."""
    retry_s: float
    """How long the master's leader waits for a proposed reconfiguration to be applied
    before it proposes again: a lease and a few round trips."""

    @classmethod
    def derive(cls, delta_s: float, tau_s: float, replicas: int) -> ChainTiming:
        if delta_s <= 0 or tau_s <= 0:
            raise ValueError(f"δ and τ must be positive, got {delta_s} and {tau_s}")
        lease = LEASE_PERIODS * tau_s + 2 * delta_s  # outlasts a period and a round trip
        return cls(
            heartbeat_s=tau_s,
            lease_s=lease,
            silent_s=SILENT_PERIODS * tau_s + 2 * delta_s,
            ack_timeout_s=2 * (replicas + 1) * delta_s + tau_s,
            retry_s=lease + 8 * delta_s,
        )
