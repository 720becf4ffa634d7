"""Models of Byzantine agreement for ``smrkit explore``: every behaviour of a bounded
adversary, in lock-step rounds.

* ``dolev-strong`` — n processes (default 4), the sender p1 broadcasting 1, and f of
  them (default 2; ``--byzantine`` names which, default the first f: the sender and a
  relay) replaced by :class:`~smrkit.protocols.byzantine.dolev_strong.ChainAdversary`,
  which may send, between any two rounds, any chain it can make valid for the round —
  on value 0 or 1 if it is the sender — to any set of processes.
* ``eig`` — n processes (default 4) proposing 0 and 1 alternately, f of them (default 1,
  the last: ``--byzantine`` names others) replaced by
  :class:`~smrkit.protocols.byzantine.eig.AnyLevel`, which sends each process, in each
  round, any assignment of 0, 1 or nothing to the labels it relays.

Properties (the Byzantine specifications: only correct processes are bound):
``agreement`` (always: no two correct processes decided differently), ``validity``
(always: a correct process decides the correct sender's value — or, for consensus, the
value every correct process proposed, when they all proposed one) and ``termination``
(always: once the last round has passed, every correct process has decided). The rounds
run up to f + 2 (the decision round), so a search is complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from smrkit.core.byzantine import AdversaryConfig, ByzantineNode
from smrkit.core.ids import NodeId, server_ids
from smrkit.core.node import ConsensusProcess, Node
from smrkit.core.ops import Value
from smrkit.explore.models import Model, ModelError
from smrkit.explore.properties import View, always
from smrkit.explore.space import LOCK_STEP, SpaceConfig
from smrkit.protocols.byzantine import dolev_strong as ds
from smrkit.protocols.byzantine import eig

BYZANTINE_MODELS = ("dolev-strong", "eig")

SENDER_VALUE = 1


def _byzantine_set(
    ids: Sequence[NodeId], f: int, byzantine: Sequence[NodeId] | None, default: Sequence[NodeId]
) -> tuple[NodeId, ...]:
    chosen = tuple(default if byzantine is None else byzantine)
    unknown = [p for p in chosen if p not in ids]
    if unknown:
        raise ModelError(f"--byzantine names {', '.join(unknown)}, not in {', '.join(ids)}")
    if len(set(chosen)) != len(chosen) or len(chosen) > f:
        raise ModelError(f"--byzantine must name at most f = {f} distinct processes")
    return chosen


def _wrap(
    nodes: list[Node], bad: Sequence[NodeId], adversary: type[ByzantineNode], name: str
) -> list[Node]:
    ids = tuple(node.id for node in nodes)
    config = AdversaryConfig(ids, name)
    return [adversary(node, config) if node.id in bad else node for node in nodes]


def _properties(correct: Sequence[NodeId], expected: Any, last_round: int) -> tuple[Any, ...]:
    def decisions(view: View) -> list[Any]:
        out = []
        for p in correct:
            node = view.node(p)
            assert isinstance(node, ConsensusProcess)
            if node.decided:
                out.append(node.decision)
        return out

    def agreement(view: View) -> bool:
        return len(set(map(repr, decisions(view)))) <= 1

    def validity(view: View) -> bool:
        return expected is None or all(d == expected for d in decisions(view))

    def termination(view: View) -> bool:
        return view.now < last_round or len(decisions(view)) == len(correct)

    return (
        always("agreement", agreement),
        always("validity", validity),
        always("termination", termination),
    )


def dolev_strong_model(n: int = 4, f: int = 2, byzantine: Sequence[NodeId] | None = None) -> Model:
    if not 0 <= f < n:
        raise ModelError(f"dolev-strong needs 0 <= f < n; got n = {n}, f = {f}")
    ids = server_ids(n)
    bad = _byzantine_set(ids, f, byzantine, ids[:f])
    correct = [p for p in ids if p not in bad]
    sender = ids[0]

    def nodes() -> list[Node]:
        honest: list[Node] = [
            ds.DolevStrong(p, ids, sender, f, SENDER_VALUE if p == sender else None) for p in ids
        ]
        return _wrap(honest, bad, ds.ChainAdversary, ds.ChainAdversary.strategy)

    expected = None if sender in bad else SENDER_VALUE
    return Model(
        "dolev-strong",
        nodes,
        SpaceConfig(timing=LOCK_STEP, horizon_s=float(f + 2)),
        _properties(correct, expected, f + 2),
        parameters={"model": "dolev-strong", "servers": n, "f": f, "byzantine": list(bad)},
    )


def eig_model(
    n: int = 4,
    f: int = 1,
    byzantine: Sequence[NodeId] | None = None,
    inputs: Sequence[Value] | None = None,
) -> Model:
    """``inputs``: each process's proposal (default 0, 1, 0, 1, …)."""
    if n < 1 or f < 0:
        raise ModelError(f"eig needs n >= 1 and f >= 0; got n = {n}, f = {f}")
    ids = server_ids(n)
    bad = _byzantine_set(ids, f, byzantine, ids[n - f :])
    correct = [p for p in ids if p not in bad]
    if inputs is not None and len(inputs) != n:
        raise ModelError(f"{len(inputs)} inputs for {n} processes")
    proposals = [i % 2 for i in range(n)] if inputs is None else list(inputs)
    inputs_of = dict(zip(ids, proposals, strict=True))

    def nodes() -> list[Node]:
        honest: list[Node] = [eig.Eig(p, ids, f, inputs_of[p]) for p in ids]
        return _wrap(honest, bad, eig.AnyLevel, eig.AnyLevel.strategy)

    proposed = {inputs_of[p] for p in correct}
    expected = next(iter(proposed)) if len(proposed) == 1 else None
    return Model(
        "eig",
        nodes,
        SpaceConfig(timing=LOCK_STEP, horizon_s=float(f + 2)),
        _properties(correct, expected, f + 2),
        parameters={
            "model": "eig",
            "servers": n,
            "f": f,
            "byzantine": list(bad),
            "inputs": proposals,
        },
    )


def byzantine_model(
    name: str,
    n: int | None,
    f: int | None,
    byzantine: Sequence[NodeId] | None,
    inputs: Sequence[Value] | None = None,
) -> Model:
    """The model ``name`` (one of :data:`BYZANTINE_MODELS`) with its defaults filled in;
    ``inputs`` (EIG only) the proposals."""
    n = 4 if n is None else n
    f = {"dolev-strong": 2, "eig": 1}[name] if f is None else f
    if name == "eig":
        return eig_model(n, f, byzantine, inputs)
    return dolev_strong_model(n, f, byzantine)
