"""Lemma 1, run: classify X_0 (all inputs 0) … X_n (all 1) and return the first
ambiguous one with its two witness schedules — or the safety violation met on the way.

Seed 004's argument: X_0 is a 0-configuration and X_n a 1-configuration (validity); take
the smallest i for which X_i is not a 0-configuration. If X_i is ambiguous, done. If it
were a 1-configuration, node i — the one whose input differs between X_(i−1) and X_i —
could hide its input: crashed from the start (the classic adversary), it leaves the
others in the same run from both, so one of the two must be ambiguous. A protocol for
which no X_i is ambiguous therefore fails to decide when its *pivot* node i crashes at
the start: :func:`pivot_run` builds that run. Every X_i is searched thoroughly (up to
the oracle's bound), so a protocol that breaks agreement or validity is caught here,
before FLP applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smrkit.explore.flp.configuration import BYZANTINE, Setup, inputs_x
from smrkit.explore.flp.valency import Oracle, Valency
from smrkit.protocols.consensus.binary import BinaryProtocol


@dataclass
class Lemma1:
    """Each X_i's valency (and its oracle, which later searches from X_i reuse), and
    what the walk concluded."""

    oracles: list[Oracle]
    valencies: list[Valency]
    ambiguous: int | None
    """The first i with X_i ambiguous."""
    violation: int | None
    """The first i from which a safety violation is reachable."""
    pivot: int | None
    """When no X_i is ambiguous and none breaks safety: the smallest i ≥ 1 with X_i not
    shown a 0-configuration (the node whose input flips the outcome; when the bound left
    X_0 … X_(i−1) ``unknown`` this is where the walk's proof stops, and the pivot's run
    is tried all the same: it shows the theorem only if it decides nothing)."""

    @property
    def setups(self) -> list[Setup]:
        return [oracle.setup for oracle in self.oracles]

    @property
    def explored(self) -> int:
        return sum(oracle.explored for oracle in self.oracles)


def lemma1(
    protocol: BinaryProtocol,
    n: int,
    adversary: str,
    bound: int,
    progress: Callable[[str], None] | None = None,
) -> Lemma1:
    """Walk X_0 … X_n (see the module docstring)."""
    oracles: list[Oracle] = []
    valencies: list[Valency] = []
    ambiguous = violation = None
    for i in range(n + 1):
        # Under the Byzantine adversary, the node whose input X_i flips is two-faced.
        byzantine = f"p{max(i, 1)}" if adversary == BYZANTINE else None
        setup = Setup(protocol, inputs_x(n, i), adversary, byzantine)
        oracle = Oracle(setup, bound=bound)
        if progress is not None:
            oracle.progress = lambda k, i=i: progress(f"Lemma 1, X_{i}: {k} configurations")
        valency = oracle.classify(setup.initial(), thorough=True)
        oracles.append(oracle)
        valencies.append(valency)
        if valency.violation is not None and violation is None:
            violation = i
        elif valency.ambiguous and ambiguous is None:
            ambiguous = i
    pivot = None
    if ambiguous is None and violation is None:
        later = (i for i in range(1, n + 1) if valencies[i].label != "0-valent")
        pivot = next(later, n)
    return Lemma1(oracles, valencies, ambiguous, violation, pivot)
