"""The Byzantine agreement protocols, registered for ``smrkit sim``.

``smrkit sim --protocol dolev-strong --timing lock-step --replicas 4 --fault
byzantine:p1=equivocate`` builds n processes p1 … pn; the sender p1 broadcasts 1 and f =
n − 1 (Dolev-Strong tolerates any f < n: it decides after round n). ``eig`` builds n
processes proposing 0, 1, 0, 1, … with f = ⌊(n − 1) / 3⌋, the most n > 3f allows. Neither
serves clients.
"""

from __future__ import annotations

from collections.abc import Callable

from smrkit.core.failure_models import FailureModel
from smrkit.core.node import Node
from smrkit.protocols.byzantine.dolev_strong import DolevStrong
from smrkit.protocols.byzantine.eig import Eig
from smrkit.protocols.claims import ConsensusClaims
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, register

SENDER = "p1"
SENDER_VALUE = 1


def _any_but_one(n: int) -> int:
    return n - 1


def _third(n: int) -> int:
    return (n - 1) // 3


def _build_dolev_strong(config: ProtocolConfig) -> list[Node]:
    ids = config.servers
    f = _any_but_one(len(ids))
    return [DolevStrong(p, ids, SENDER, f, SENDER_VALUE if p == SENDER else None) for p in ids]


def _build_eig(config: ProtocolConfig) -> list[Node]:
    ids = config.servers
    return [Eig(p, ids, _third(len(ids)), i % 2) for i, p in enumerate(ids)]


def _spec(
    name: str,
    title: str,
    build: Callable[[ProtocolConfig], list[Node]],
    tolerated: Callable[[int], int],
    least: int,
    claims: Callable[[int], ConsensusClaims],
) -> ProtocolSpec:
    """A lock-step Byzantine agreement protocol without clients, for ``smrkit sim``."""
    return register(
        ProtocolSpec(
            name=name,
            title=title,
            failure_model=FailureModel.BYZANTINE,
            replicas_default=4,
            build=build,
            tolerated=tolerated,
            replicas_problem=lambda n: None if n >= least else f"{name} needs n >= {least}",
            claims=lambda f, delta_s, tau_s: claims(f),
            client_timeout_s=lambda delta_s, tau_s: 4 * delta_s,
            timings=("lock-step",),
            serves_clients=False,
        )
    )


DOLEV_STRONG = _spec(
    "dolev-strong",
    "Dolev-Strong: authenticated broadcast from p1 in f + 1 rounds, any f < n",
    _build_dolev_strong,
    _any_but_one,
    2,
    lambda f: ConsensusClaims(
        specification="terminating-reliable-broadcast", decides_by_round=f + 1, sender=SENDER
    ),
)
EIG = _spec(
    "eig",
    "EIG: Byzantine consensus without signatures, n > 3f, f + 1 rounds",
    _build_eig,
    _third,
    4,  # n > 3f with f >= 1
    lambda f: ConsensusClaims(decides_by_round=f + 1),
)

__all__ = ["DOLEV_STRONG", "EIG"]
