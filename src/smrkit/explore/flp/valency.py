"""The valency oracle: from a configuration, which decisions the adversary can reach —
each with a witness schedule — and never a guess.

Seed 004 calls a configuration a 0-configuration when every schedule (and every move of
the faulty node) ends in the all-0 outcome, a 1-configuration likewise, and ambiguous
when both outcomes are reachable. The oracle searches breadth first from the
configuration over the adversary's moves (:func:`~smrkit.explore.flp.configuration.moves`),
each configuration once (fingerprints), and stops as soon as it has seen both values
decided. Along the way it notes a configuration that breaks safety (two values decided,
or a value no node had) and one that is *blocked* (nothing left to deliver, a live node
undecided: termination broken by a finite run). Its answer:

* ``ambiguous`` — a witness schedule reaching a decision of 0 and one reaching 1;
* ``0-valent`` / ``1-valent`` — the whole reachable space was searched and only that
  value is ever decided (``blocked``: some schedule decides nothing);
* ``unknown`` — past the bound of configurations, and the witnesses found do not show
  ambiguity. Then seeded random schedules (``walks`` of up to ``walk_steps`` moves, no
  crash) look for the missing outcome: a schedule found so is as good a witness as any,
  but not finding one proves nothing, so the answer stays ``unknown``.

Answers are memoized by fingerprint: a search that meets a configuration again asks once.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from smrkit.explore.flp.configuration import Setup
from smrkit.explore.space import Move, State

AMBIGUOUS = "ambiguous"
UNKNOWN = "unknown"
NONE = "no decision"


@dataclass
class Valency:
    """What the oracle found from one configuration (schedules are from it)."""

    witnesses: dict[int, list[Move]] = field(default_factory=dict)
    """A schedule reaching a decision of each value found reachable."""
    blocked: list[Move] | None = None
    """A schedule to a blocked configuration, if one was met."""
    violation: tuple[str, list[Move]] | None = None
    """A safety violation met, and the schedule to it."""
    exhaustive: bool = False
    explored: int = 0

    @property
    def label(self) -> str:
        if self.violation is not None:
            return "violation"
        if len(self.witnesses) == 2:
            return AMBIGUOUS
        if not self.exhaustive:
            return UNKNOWN
        if not self.witnesses:
            return NONE
        (value,) = self.witnesses
        return f"{value}-valent"

    @property
    def ambiguous(self) -> bool:
        return self.label == AMBIGUOUS

    def text(self) -> str:
        extra = ", may block" if self.blocked is not None and self.label != AMBIGUOUS else ""
        if self.label == UNKNOWN and self.witnesses:
            (value,) = self.witnesses
            extra = f" ({value} reachable; {1 - value} not found within the bound){extra}"
        return self.label + extra


@dataclass
class Oracle:
    """Classifies the configurations of one setup (see the module docstring)."""

    setup: Setup
    bound: int = 20_000
    """Configurations a breadth-first search visits before it answers ``unknown``."""
    walks: int = 64
    walk_steps: int = 60
    explored: int = 0
    """Configurations visited over every query (a memo hit visits none)."""
    memo: dict[tuple[State, bool], Valency] = field(default_factory=dict)
    progress: Callable[[int], None] | None = None

    def classify(self, state: State, *, thorough: bool = False) -> Valency:
        """The valency of ``state``. ``thorough``: do not stop at the first two witnesses —
        search on (up to the bound) for a safety violation, as Lemma 1 does before FLP
        applies."""
        found = self.memo.get((state, thorough))
        if found is None:
            found = self._search(state, thorough)
            if found.label == UNKNOWN:
                self._walk(state, found)
            self.memo[(state, thorough)] = found
        return found

    def _search(self, root: State, thorough: bool) -> Valency:
        result = Valency()
        seen = {root}
        queue: deque[tuple[State, list[Move]]] = deque([(root, [])])
        while queue:
            state, path = queue.popleft()
            result.explored += 1
            self.explored += 1
            if self.progress is not None and self.explored % 5000 == 0:
                self.progress(self.explored)
            if self._note(state, path, result) and (not thorough or result.violation):
                return result
            if result.explored >= self.bound:
                return result
            for move, child in self.setup.moves(state):
                if child not in seen:
                    seen.add(child)
                    queue.append((child, [*path, move]))
        result.exhaustive = True
        return result

    def _note(self, state: State, path: list[Move], result: Valency) -> bool:
        """Record what ``state`` shows; whether the search can stop."""
        setup = self.setup
        problem = setup.safety_violation(state)
        if problem is not None:
            result.violation = (problem, path)
            return True
        for value in set(setup.decisions(state).values()):
            result.witnesses.setdefault(value, path)
        if result.blocked is None and setup.blocked(state):
            result.blocked = path
        return len(result.witnesses) == 2

    def _walk(self, root: State, result: Valency) -> None:
        rng = random.Random(f"{self.setup.inputs}/{result.explored}/{len(self.memo)}")
        for _ in range(self.walks):
            state, path = root, []
            for _ in range(self.walk_steps):
                choices = [(m, s) for m, s in self.setup.moves(state) if m.kind != "crash"]
                if not choices:
                    break
                move, state = rng.choice(choices)
                path.append(move)
                self.explored += 1
                if self.setup.decisions(state):
                    break
            if self._note(state, path, result):
                return
