"""The model checker: breadth- or depth-first search over a space's states.

Stateright's checkers are the reference, and the figures are in its terms: ``states``
(every state generated, repeats included), ``unique`` (distinct states — the figure
Stateright's tests pin), ``max_depth`` (the longest path, counting the initial state as
depth 1), ``sec`` and ``states_per_s`` (unique states per second).

As in Stateright: a state is marked seen when it is generated; the frontier is a FIFO
queue (BFS: the first path found to anything is a shortest one) or a LIFO stack (DFS:
``pending.pop_back``, successors pushed in move order); properties are evaluated when a
state is taken from the frontier; the search stops once every property has a discovery
(a counterexample or an example); ``eventually`` is tracked per path with bits
(Stateright's ``EventuallyBits``, and its caveat: a state reached again by a second path
is not re-checked for that path). Where smrkit differs it says so: the first discovery
of a property is kept (BFS: a shortest path), ``max_states`` counts unique states, and a
state at ``max_depth`` is checked but not expanded, and ends its path for ``eventually``.

Symmetry (:mod:`smrkit.explore.symmetry`): the seen set holds each state's
representative, and the search continues from the state itself (Stateright's DFS does
the same; its BFS ignores symmetry).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smrkit.explore.properties import ALWAYS, EVENTUALLY, SOMETIMES, Property, View
from smrkit.explore.space import Move, Space, State

Path = tuple[Move, ...]

PROGRESS_EVERY_S = 1.0


@dataclass
class Discovery:
    """A property's finding: a counterexample (``always``, ``eventually``) or an example
    (``sometimes``), as the moves from the initial state."""

    name: str
    expectation: str
    path: Path

    @property
    def is_failure(self) -> bool:
        return self.expectation != SOMETIMES


@dataclass
class SearchResult:
    states: int
    unique: int
    max_depth: int
    sec: float
    complete: bool
    """Every reachable state was visited (no bound cut the search, no early stop)."""
    stopped_by: str | None
    """``max-states``, ``max-depth`` or ``discoveries`` when something stopped or cut the
    search; ``None`` when it ran out of states."""
    properties: Sequence[Property]
    horizon_cut: bool = False
    """Some paths ended at the model's own horizon (a timed world's time bound, part of
    the model: the search is complete up to it)."""
    discoveries: dict[str, Discovery] = field(default_factory=dict)
    initial: State | None = None

    @property
    def states_per_s(self) -> float:
        return self.unique / self.sec if self.sec > 0 else 0.0

    def verdict(self, prop: Property) -> str:
        """``holds``/``violated`` (``always``, ``eventually``), ``found``/``not found``
        (``sometimes``); a search that did not visit everything says ``holds so far``
        and ``not found so far``."""
        found = prop.name in self.discoveries
        if prop.expectation == SOMETIMES:
            return "found" if found else ("not found" if self.complete else "not found so far")
        if found:
            return "violated"
        return "holds" if self.complete else "holds so far"

    @property
    def ok(self) -> bool:
        """No counterexample, and every ``sometimes`` found."""
        for prop in self.properties:
            found = prop.name in self.discoveries
            if (prop.expectation == SOMETIMES) != found:
                return False
        return True


def search(
    space: Space,
    properties: Sequence[Property],
    *,
    bfs: bool = True,
    max_depth: int | None = None,
    max_states: int | None = None,
    symmetry: Callable[[State], Any] | None = None,
    initial: State | None = None,
    allow: Callable[[Move], bool] | None = None,
    progress: Callable[[int, int, int, float], None] | None = None,
) -> SearchResult:
    """Search ``space`` from ``initial`` (default: its initial state; any state of the
    space, e.g. the last of :func:`~smrkit.explore.replay.walk`), taking only the moves
    ``allow`` accepts (an adversary that withholds a message, as FLP's does)."""
    started = time.perf_counter()
    root = space.initial() if initial is None else initial
    key = symmetry if symmetry is not None else _identity
    seen = {key(root)}
    eventual = frozenset(i for i, p in enumerate(properties) if p.expectation == EVENTUALLY)
    pending: deque[tuple[State, int, frozenset[int], Any]] = deque()
    pending.append((root, 1, eventual, None))
    states = 1
    deepest = 0
    discoveries: dict[str, Discovery] = {}
    stopped_by: str | None = None
    cut = False
    horizon_cut = False
    take = pending.popleft if bfs else pending.pop
    successors = space.successors
    checks = [(i, p) for i, p in enumerate(properties)]
    next_report = started + PROGRESS_EVERY_S
    while pending:
        state, depth, bits, path = take()
        deepest = max(deepest, depth)
        view = View(space, state)
        for i, prop in checks:
            if prop.expectation == ALWAYS:
                if prop.name not in discoveries and not prop.condition(view):
                    discoveries[prop.name] = Discovery(prop.name, ALWAYS, _unwind(path))
            elif prop.expectation == SOMETIMES:
                if prop.name not in discoveries and prop.condition(view):
                    discoveries[prop.name] = Discovery(prop.name, SOMETIMES, _unwind(path))
            elif i in bits and prop.condition(view):
                bits = bits - {i}
        if len(discoveries) == len(properties) and properties:
            stopped_by = "discoveries"
            break
        if max_depth is not None and depth >= max_depth:
            cut = True
            _end_of_path(properties, bits, path, discoveries)
            continue
        following = successors(state)
        if allow is not None:
            following = [pair for pair in following if allow(pair[0])]
        if not following:
            if space.bounded(state):
                horizon_cut = True
            _end_of_path(properties, bits, path, discoveries)
            continue
        for move, after in following:
            states += 1
            k = key(after)
            if k in seen:
                continue
            seen.add(k)
            pending.append((after, depth + 1, bits, (move, path)))
        if max_states is not None and len(seen) >= max_states:
            stopped_by = "max-states"
            break
        if progress is not None:
            now = time.perf_counter()
            if now >= next_report:
                progress(states, len(seen), deepest, now - started)
                next_report = now + PROGRESS_EVERY_S
    if stopped_by is None and cut:
        stopped_by = "max-depth"
    return SearchResult(
        states=states,
        unique=len(seen),
        max_depth=deepest,
        sec=time.perf_counter() - started,
        complete=stopped_by is None,
        stopped_by=stopped_by,
        properties=properties,
        discoveries=discoveries,
        initial=root,
        horizon_cut=horizon_cut,
    )


def _identity(state: State) -> State:
    return state


def _unwind(path: Any) -> Path:
    moves: list[Move] = []
    while path is not None:
        move, path = path
        moves.append(move)
    moves.reverse()
    return tuple(moves)


def _end_of_path(
    properties: Sequence[Property],
    bits: frozenset[int],
    path: Any,
    discoveries: dict[str, Discovery],
) -> None:
    for i in bits:
        name = properties[i].name
        if name not in discoveries:
            discoveries[name] = Discovery(name, EVENTUALLY, _unwind(path))
