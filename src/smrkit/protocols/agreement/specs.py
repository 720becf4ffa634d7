"""The lock-step agreement protocols, registered for ``smrkit sim``.

``smrkit sim --protocol floodset --timing lock-step --replicas 4`` builds n processes
p1 … pn; p_i proposes i − 1 (distinct values, so a hidden one shows) and f = n − 1: the
protocols tolerate any number of crashes that leaves one process correct, so floodset
decides in round n = f + 1. The TRB sender is p1. These protocols serve no clients: a
run has none, whatever ``--clients`` says.
"""

from __future__ import annotations

from collections.abc import Callable

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId
from smrkit.core.node import ConsensusProcess, Node
from smrkit.protocols.agreement.floodset import EarlyFloodSet, FloodSet
from smrkit.protocols.agreement.naive import NaiveConsensus
from smrkit.protocols.agreement.rounds import RoundConfig, round_processes
from smrkit.protocols.agreement.trb import TerminatingBroadcast
from smrkit.protocols.claims import Claims, ConsensusClaims
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, register

SENDER = "p1"
"""The TRB sender of a ``smrkit sim`` run."""


def _problem(n: int) -> str | None:
    return None if n >= 2 else "agreement needs at least 2 processes"


def _builder(
    make: Callable[[NodeId, RoundConfig], ConsensusProcess], tolerated: Callable[[int], int]
) -> Callable[[ProtocolConfig], list[Node]]:
    def build(config: ProtocolConfig) -> list[Node]:
        f = tolerated(len(config.servers))
        sender = SENDER if make is TerminatingBroadcast else None
        return list(round_processes(make, config.servers, f, f + 1, sender=sender))

    return build


def _spec(
    name: str,
    title: str,
    make: Callable[[NodeId, RoundConfig], ConsensusProcess],
    tolerated: Callable[[int], int],
    claims: Callable[[int, float, float], Claims],
) -> ProtocolSpec:
    return register(
        ProtocolSpec(
            name=name,
            title=title,
            failure_model=FailureModel.CRASH,
            replicas_default=4,
            build=_builder(make, tolerated),
            tolerated=tolerated,
            replicas_problem=_problem,
            claims=claims,
            client_timeout_s=lambda delta_s, tau_s: 4 * delta_s,
            timings=("lock-step",),
            serves_clients=False,
        )
    )


def _all_but_one(n: int) -> int:
    return n - 1


NAIVE = _spec(
    "consensus-naive",
    "one round, decide the least value received (seed 002's simple algorithm)",
    NaiveConsensus,
    lambda n: 0,
    lambda f, delta_s, tau_s: ConsensusClaims(decides_by_round=1),
)
FLOODSET = _spec(
    "floodset",
    "floodset: relay every value for f + 1 rounds, decide the least",
    FloodSet,
    _all_but_one,
    lambda f, delta_s, tau_s: ConsensusClaims(decides_by_round=f + 1),
)
FLOODSET_EARLY = _spec(
    "floodset-early",
    "floodset with early stopping: decide by round min(f' + 2, f + 1)",
    EarlyFloodSet,
    _all_but_one,
    lambda f, delta_s, tau_s: ConsensusClaims(decides_by_round=f + 1, early_stopping=True),
)
TRB = _spec(
    "trb",
    "terminating reliable broadcast from p1 (m or SF), with early stopping",
    TerminatingBroadcast,
    _all_but_one,
    lambda f, delta_s, tau_s: ConsensusClaims(
        specification="terminating-reliable-broadcast",
        decides_by_round=f + 1,
        early_stopping=True,
        sender=SENDER,
    ),
)

ROUND_SPECS = (NAIVE, FLOODSET, FLOODSET_EARLY, TRB)
"""The four, as registered: their claims are what ``smrkit explore`` checks them by."""
