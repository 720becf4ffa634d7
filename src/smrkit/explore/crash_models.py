"""Models of seed 002's lock-step crash protocols for ``smrkit explore``: every behaviour
of the lock-step world with up to f crashes.

* ``consensus-naive``, ``floodset``, ``floodset-early`` and ``trb``
  (:mod:`smrkit.protocols.agreement`) — n processes (``--servers``, default 4), p_i
  proposing i − 1 (the TRB sender p1 broadcasting 0), each built for f crashes (``--f``,
  default 1) and deciding after round R (``--rounds``, default the protocol's own:
  f + 1, or 1 for ``consensus-naive``, which has no other).

The moves are lock-step rounds, each with its crash pattern: no crash, or up to the
crashes left in the budget of f, each crashing process's messages of that round reaching
any subset of the processes that stay up — the crash patterns ``smrkit rounds``
enumerates (:meth:`~smrkit.explore.space.Space.round_patterns`), over the same frozen
states, so an exhaustive ``smrkit rounds`` search and a complete ``smrkit explore``
search meet the same states. The rounds run to the end of every run (every live process
done), or to round R + f + 2 at most (as ``smrkit rounds``).

Properties (``always``), each the verdict of :mod:`smrkit.check.agreement` over a
finished run — what its final state says, as records (:func:`~smrkit.explore.rounds.
state_records`): ``termination``, ``validity``, ``agreement`` and ``integrity`` of
consensus (of terminating reliable broadcast from p1 for ``trb``), and
``decides_by_round``, the protocol's registered claim (:mod:`smrkit.protocols.agreement.
specs`) with R as its round: every correct process decides by round R — by round
min(f' + 2, R) for the early-stopping ones, f' the crashes of the run (judged by
:func:`smrkit.check.agreement_run.evaluate_records`, as ``smrkit sim`` judges a run).
A state before the end of its run satisfies them all: they speak of whole runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from smrkit.check.agreement import PropertyCheck
from smrkit.check.agreement_run import TRB, evaluate_records
from smrkit.core.ids import NodeId, server_ids
from smrkit.core.node import ConsensusProcess, Node
from smrkit.explore.models import Model, ModelError
from smrkit.explore.properties import Property, View, always
from smrkit.explore.rounds import run_horizon, state_records
from smrkit.explore.space import LOCK_STEP, SpaceConfig, State
from smrkit.protocols.agreement import ROUND_PROTOCOLS, RoundConfig, round_processes
from smrkit.protocols.agreement import specs as registered
from smrkit.protocols.claims import ConsensusClaims
from smrkit.sim.kernel.records import Record

CRASH_MODELS = tuple(ROUND_PROTOCOLS)
"""``consensus-naive``, ``floodset``, ``floodset-early``, ``trb``."""

Make = Callable[[NodeId, RoundConfig], ConsensusProcess]


class _Verdicts:
    """The checkers' verdicts on a state, computed once per state (a search evaluates
    every property on one state before the next) — ``None`` before the run's end."""

    def __init__(self, processes: list[str], claims: ConsensusClaims) -> None:
        self.processes = processes
        self.claims = claims
        self.state: State | None = None
        self.checks: dict[str, PropertyCheck] | None = None

    def of(self, view: View) -> dict[str, PropertyCheck] | None:
        if view.state is not self.state:
            self.state = view.state
            self.checks = None
            if view.space.rounds_over(view.state):
                records = state_records(view.space, view.state)
                self.checks = evaluate_records(records, self.processes, self.claims).checks
        return self.checks

    def holds(self, name: str) -> Callable[[View], bool]:
        def condition(view: View) -> bool:
            checks = self.of(view)
            return checks is None or checks[name].ok

        return condition


def properties(processes: list[str], claims: ConsensusClaims) -> tuple[Property, ...]:
    """One ``always`` property per check of ``claims``' specification and round claim."""
    verdicts = _Verdicts(processes, claims)
    names = ["termination", "validity", "agreement", "integrity"]
    if claims.decides_by_round is not None:
        names.append("decides_by_round")
    return tuple(always(name, verdicts.holds(name)) for name in names)


def lock_step_model(
    name: str, make: Make, claims: ConsensusClaims, n: int, f: int, rounds: int
) -> Model:
    """``make``'s processes, n of them, built for f crashes and deciding after round
    ``rounds``, with up to f crashes, judged against ``claims``."""
    if n < 2:
        raise ModelError(f"{name} needs at least 2 processes (--servers); got {n}")
    if not 0 <= f < n:
        raise ModelError(f"--f {f} must lie in [0, n - 1 = {n - 1}]: one process stays correct")
    if rounds < 1:
        raise ModelError(f"--rounds {rounds}: a process decides after at least round 1")
    ids = list(server_ids(n))
    sender = claims.sender if claims.specification == TRB else None

    def nodes() -> list[Node]:
        return list(round_processes(make, ids, f, rounds, sender=sender))

    return Model(
        name,
        nodes,
        SpaceConfig(
            timing=LOCK_STEP,
            crash_budget=f,
            crashable=tuple(ids),
            mid_step_crashes=True,
            horizon_s=float(run_horizon(rounds, f)),
        ),
        properties(ids, claims),
        parameters={"model": name, "servers": n, "f": f, "rounds": rounds},
    )


def crash_claims(name: str, f: int, rounds: int) -> ConsensusClaims:
    """The registered claims of the built-in ``name`` built for f crashes, deciding after
    round ``rounds``: its specification, and ``rounds`` as the round it decides by."""
    spec = {s.name: s for s in registered.ROUND_SPECS}[name]
    claims = spec.claims(f, 0.0, 0.0)
    assert isinstance(claims, ConsensusClaims)
    return dataclasses.replace(claims, decides_by_round=rounds)


def crash_model(
    name: str, n: int | None = None, f: int | None = None, rounds: int | None = None
) -> Model:
    """The built-in model ``name`` (one of :data:`CRASH_MODELS`), defaults filled in."""
    n = 4 if n is None else n
    f = 1 if f is None else f
    naive = name == "consensus-naive"
    if naive and rounds not in (None, 1):
        raise ModelError("consensus-naive always decides after round 1: give --rounds 1")
    r = (1 if naive else f + 1) if rounds is None else rounds
    return lock_step_model(name, ROUND_PROTOCOLS[name], crash_claims(name, f, r), n, f, r)


def judge_run(
    parameters: dict[str, Any], records: Sequence[Record], processes: list[str]
) -> dict[str, PropertyCheck]:
    """A kernel run of the model ``parameters`` describe (a path replayed), judged as the
    search judges a finished run — with the rounds the kernel recorded."""
    claims = crash_claims(str(parameters["model"]), int(parameters["f"]), int(parameters["rounds"]))
    return evaluate_records(records, processes, claims).checks
