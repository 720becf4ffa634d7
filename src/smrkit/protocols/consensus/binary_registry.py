"""The binary consensus protocols ``smrkit flp`` knows by name (one line each; a module
of protocols adds its own here)."""

from __future__ import annotations

from smrkit.protocols.consensus.binary import BINARY_PROTOCOLS, BinaryProtocol, register_binary
from smrkit.protocols.consensus.paxos_single import PaxosSingle
from smrkit.protocols.consensus.wait_values import FloodsetAll, FloodsetNMinus1, WaitMajority
from smrkit.protocols.registry import protocol_names

# Importing ben_or registers its ``smrkit sim`` spec too: load every built-in spec first,
# so that the registry is never left holding ben-or alone (a test that snapshots and
# restores it would then lose the others for good).
protocol_names()

from smrkit.protocols.consensus.ben_or import BEN_OR  # noqa: E402 - after the load above

register_binary(
    BinaryProtocol(
        "wait-majority",
        WaitMajority,
        "wait for n - 1 values, decide the majority: terminates, so FLP's search breaks agreement",
    )
)
register_binary(
    BinaryProtocol(
        "paxos-single",
        PaxosSingle,
        "single-decree Paxos, fixed proposer order: safe, so the search builds dueling proposers",
    )
)
register_binary(
    BinaryProtocol(
        "floodset-all",
        FloodsetAll,
        "floodset in asynchrony waiting for all n values: blocks once one process crashes",
    )
)
register_binary(
    BinaryProtocol(
        "floodset-n-1",
        FloodsetNMinus1,
        "floodset in asynchrony waiting for n - 1 values: disagrees",
    )
)

register_binary(BEN_OR)

__all__ = ["BINARY_PROTOCOLS"]
