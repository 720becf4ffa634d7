"""Symmetry reduction over interchangeable servers, as Stateright does it.

When servers are interchangeable — renaming them maps every behaviour to a behaviour —
a search needs to visit only one state of each class of states equal up to renaming.
Stateright's ``Representative`` picks the class member by a ``RewritePlan``: sort the
servers by their state (a *stable* sort: servers in equal states keep their order), move
each server's state to its sorted position, and rename every server id everywhere else
— in other nodes' states, in messages, timers and the history — to match.

That representative is not a canonical form: two symmetric states whose equal-state
servers differ elsewhere (the TM heard from one and not the other) may keep different
representatives, so the reduced count depends on the plan and on the order states are
met. Stateright's 665 states for 2PC with five resource managers depend on both; the
explorer reproduces them by sorting the same way and searching in the same order.
Node states are ordered as their frozen values compare (a protocol that wants the
symmetric count of a Stateright model orders its state as the Rust ``Ord`` does — 2PC's
``RmState`` is an ``IntEnum`` in the declared order).

Node ids are renamed wherever a string equal to a server id appears: in node states,
messages (dataclass fields), timers, saved data and the model's history.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from smrkit.core.ids import NodeId
from smrkit.explore.frozen import Interner
from smrkit.explore.space import (
    ASYNC,
    AUX,
    BUDGET,
    DOWN,
    NODES,
    POOL,
    STORAGE,
    TIMERS,
    Space,
    State,
)


class Symmetry:
    """The representative of each state of ``space`` under renaming ``servers``."""

    def __init__(self, space: Space, servers: tuple[NodeId, ...]) -> None:
        if space.config.timing != ASYNC:
            raise ValueError("symmetry reduction is implemented for async worlds only")
        unknown = [s for s in servers if s not in space.index]
        if unknown:
            raise ValueError(f"symmetric nodes {unknown} are not in the world")
        self.space = space
        self.positions = tuple(space.index[s] for s in servers)
        self._plans: dict[tuple[int, ...], _Plan | None] = {}
        """The plan for each tuple of the servers' (interned) states: the sort depends
        on nothing else, so it is made once per tuple, not once per state."""
        self._by_perm: dict[tuple[int, ...], _Plan] = {}

    def __call__(self, state: State) -> State:
        nodes = state[NODES]
        servers = tuple([nodes[i] for i in self.positions])
        plan = self._plans.get(servers, _UNPLANNED)
        if plan is _UNPLANNED:
            plan = self._plans[servers] = self._plan(servers)
        if plan is None:
            return state
        assert isinstance(plan, _Plan)
        perm = plan.perm
        rename_snap = plan.snap
        new_nodes = [0] * len(nodes)
        storage = [0] * len(nodes)
        down = [0] * len(nodes)
        old_storage, old_down = state[STORAGE], state[DOWN]
        for old, new in enumerate(perm):
            new_nodes[new] = rename_snap(nodes[old])
            storage[new] = plan.store(old_storage[old])
            down[new] = old_down[old]
        rename_env = plan.env
        rename_timer = plan.timer
        return (
            tuple(new_nodes),
            tuple(storage),
            tuple(down),
            state[BUDGET],
            plan.aux(state[AUX]),
            tuple(sorted([rename_env(env) for env in state[POOL]])),
            tuple(sorted([rename_timer(timer) for timer in state[TIMERS]])),
            *state[TIMERS + 1 :],
        )

    def _plan(self, servers: tuple[int, ...]) -> _Plan | None:
        """Stateright's ``RewritePlan``: servers sorted (stably) by their state."""
        snaps = self.space.snaps.values
        by_position = dict(zip(self.positions, servers, strict=True))
        try:
            order = sorted(self.positions, key=lambda i: snaps[by_position[i]])
        except TypeError:  # states that do not compare (None beside a name): by their number
            order = sorted(self.positions, key=lambda i: by_position[i])
        if all(a == b for a, b in zip(order, self.positions, strict=True)):
            return None
        perm = list(range(len(self.space.ids)))
        for new, old in zip(self.positions, order, strict=True):
            perm[old] = new
        key = tuple(perm)
        plan = self._by_perm.get(key)
        if plan is None:
            plan = self._by_perm[key] = _Plan(self.space, key)
        return plan


_UNPLANNED: Any = object()


class _Plan:
    """One renaming of the servers (``perm[old] == new``), applied to interned values
    and memoized per value: each node state, message, timer, store and history is
    renamed once per search and plan."""

    def __init__(self, space: Space, perm: tuple[int, ...]) -> None:
        self.space = space
        self.perm = perm
        self.names = {space.ids[old]: space.ids[new] for old, new in enumerate(perm) if old != new}
        self._snaps: dict[int, int] = {}
        self._stores: dict[int, int] = {}
        self._auxes: dict[int, int] = {}
        self._envs: dict[int, int] = {}
        self._timers: dict[int, int] = {}

    def snap(self, value: int) -> int:
        return self._renamed(self._snaps, self.space.snaps, value)

    def store(self, value: int) -> int:
        return self._renamed(self._stores, self.space.stores, value)

    def aux(self, value: int) -> int:
        return self._renamed(self._auxes, self.space.auxes, value)

    def _renamed(self, memo: dict[int, int], interner: Interner, value: int) -> int:
        found = memo.get(value)
        if found is None:
            found = memo[value] = interner(_rename(interner.values[value], self.names))
        return found

    def env(self, value: int) -> int:
        found = self._envs.get(value)
        if found is None:
            envs = self.space.envs
            src, dst, msg = envs.values[value]
            perm = self.perm
            found = self._envs[value] = envs((perm[src], perm[dst], _rename(msg, self.names)))
        return found

    def timer(self, value: int) -> int:
        found = self._timers.get(value)
        if found is None:
            timer_ids = self.space.timer_ids
            node, name = timer_ids.values[value]
            found = self._timers[value] = timer_ids((self.perm[node], _rename(name, self.names)))
        return found


def _rename(value: Any, names: dict[str, str]) -> Any:
    kind = type(value)
    if kind is str:
        return names.get(value, value)
    if kind in (int, float, bool, bytes) or value is None or isinstance(value, enum.Enum):
        return value
    if kind is tuple:
        return tuple(_rename(item, names) for item in value)
    if kind is frozenset:
        return frozenset(_rename(item, names) for item in value)
    if isinstance(value, tuple):  # NamedTuple
        return kind(*(_rename(item, names) for item in value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return kind(*(_rename(getattr(value, f.name), names) for f in dataclasses.fields(value)))
    return value  # a class or configuration: not state
