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
from smrkit.explore.space import (
    ASYNC,
    AUX,
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
        self._memo: dict[tuple[Any, ...], int] = {}

    def __call__(self, state: State) -> State:
        space = self.space
        nodes = state[NODES]
        positions = self.positions
        snaps = space.snaps.values
        try:
            order = sorted(positions, key=lambda i: snaps[nodes[i]])
        except TypeError:  # states that do not compare (None beside a name): by their number
            order = sorted(positions, key=lambda i: nodes[i])
        if all(a == b for a, b in zip(order, positions, strict=True)):
            return state
        perm = list(range(len(nodes)))
        for new, old in zip(positions, order, strict=True):
            perm[old] = new
        names = {space.ids[old]: space.ids[new] for old, new in enumerate(perm) if old != new}
        key = tuple(perm)
        new_nodes = list(nodes)
        for old, new in enumerate(perm):
            new_nodes[new] = self._rename(key, "snap", nodes[old], names)
        storage = [0] * len(nodes)
        down = [0] * len(nodes)
        for old, new in enumerate(perm):
            storage[new] = self._rename(key, "store", state[STORAGE][old], names)
            down[new] = state[DOWN][old]
        envs = space.envs.values
        pool = []
        for env in state[POOL]:
            memo = (key, "env", env)
            renamed = self._memo.get(memo)
            if renamed is None:
                src, dst, msg = envs[env]
                renamed = self._memo[memo] = space.envs((perm[src], perm[dst], _rename(msg, names)))
            pool.append(renamed)
        timers = []
        for timer in state[TIMERS]:
            memo = (key, "timer", timer)
            renamed = self._memo.get(memo)
            if renamed is None:
                node, name = space.timer_ids.values[timer]
                renamed = self._memo[memo] = space.timer_ids((perm[node], _rename(name, names)))
            timers.append(renamed)
        rebuilt = list(state)
        rebuilt[NODES] = tuple(new_nodes)
        rebuilt[STORAGE] = tuple(storage)
        rebuilt[DOWN] = tuple(down)
        rebuilt[POOL] = tuple(sorted(pool))
        rebuilt[TIMERS] = tuple(sorted(timers))
        rebuilt[AUX] = self._rename(key, "aux", state[AUX], names)
        return tuple(rebuilt)

    def _rename(self, key: tuple[int, ...], table: str, value: int, names: dict[str, str]) -> int:
        memo = (key, table, value)
        renamed = self._memo.get(memo)
        if renamed is None:
            interner = {
                "snap": self.space.snaps,
                "store": self.space.stores,
                "aux": self.space.auxes,
            }[table]
            renamed = self._memo[memo] = interner(_rename(interner.values[value], names))
        return renamed


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
