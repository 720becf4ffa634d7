"""Helpers for protocol tests: find the moment a fault should hit."""

from __future__ import annotations

from smrkit.core.messages import ClientRequest
from smrkit.sim import trace as tr
from smrkit.sim.world import SimConfig, run_simulation


def request_arrival(config: SimConfig, server: str, after: float, *, write: bool = True) -> float:
    """When the first (write) request after ``after`` reaches ``server`` in the fault-free
    run of ``config``. A fault planned at that instant hits exactly that step, because the
    run is identical up to the fault and faults come first among equal times."""
    run = run_simulation(config)
    for t, kind, node, _, _, msg in run.trace.events:
        if (
            kind == tr.DELIVER
            and node == server
            and t > after
            and isinstance(msg, ClientRequest)
            and (not write or msg.op.f != "get")
        ):
            return t
    raise AssertionError(f"no request reached {server} after {after}")
