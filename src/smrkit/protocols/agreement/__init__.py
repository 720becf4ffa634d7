"""Seed 002's agreement protocols in lock-step rounds, under crash failures.

* :mod:`~smrkit.protocols.agreement.naive` — ``consensus-naive``: one round, decide the
  least value received (the seed's "simple consensus algorithm"; no crash tolerated);
* :mod:`~smrkit.protocols.agreement.floodset` — ``floodset``: values are echoed and the
  least is decided after f + 1 rounds; ``floodset-early``: early stopping, deciding by
  round min(f' + 2, f + 1) when f' processes actually crash;
* :mod:`~smrkit.protocols.agreement.trb` — ``trb``: terminating reliable broadcast of a
  sender's value (or SF, "sender faulty"), with the same early stopping.

Every process is a :class:`~smrkit.core.node.ConsensusProcess` built as
``Class(node_id, config)`` with a :class:`~smrkit.protocols.agreement.rounds.
RoundConfig` (its peers, f, the round R after which it must decide, its proposal): the
contract ``smrkit rounds`` also holds a user's protocol to. :data:`ROUND_PROTOCOLS`
names the built-in ones; :mod:`~smrkit.protocols.agreement.specs` registers them for
``smrkit sim``.
"""

from smrkit.protocols.agreement.floodset import EarlyFloodSet, FloodSet
from smrkit.protocols.agreement.naive import NaiveConsensus
from smrkit.protocols.agreement.rounds import Decided, Known, RoundConfig, round_processes
from smrkit.protocols.agreement.trb import TerminatingBroadcast

ROUND_PROTOCOLS = {
    "consensus-naive": NaiveConsensus,
    "floodset": FloodSet,
    "floodset-early": EarlyFloodSet,
    "trb": TerminatingBroadcast,
}
"""The built-in lock-step crash-failure protocols, by their command-line names."""

__all__ = [
    "ROUND_PROTOCOLS",
    "Decided",
    "EarlyFloodSet",
    "FloodSet",
    "Known",
    "NaiveConsensus",
    "RoundConfig",
    "TerminatingBroadcast",
    "round_processes",
]
