"""Node states as immutable values: what a search stores, compares and hashes.

A search holds hundreds of thousands of worlds, and most of a world does not change from
one state to the next. So the explorer never copies a node: it keeps each node's state as
a *frozen value* — built from the node's state fields (:mod:`smrkit.core.state`) with
lists, dicts, sets and state objects replaced by tagged tuples and frozensets — interned
in a table, so that a world is a tuple of small ints and comparing two worlds compares
ints. To take a step, :func:`thaw` rebuilds the live objects (into a scratch node that
keeps the shared configuration), the node's handler runs, and :func:`freeze` stores the
result.

Freezing is exact where the kernel's canonical text is not: a dict keeps its insertion
order (a protocol may depend on it: the reply cache evicts its oldest entry), and an
object referenced twice is frozen once and referenced again (``Replica.applied`` *is*
its service's log), so thawing rebuilds the same sharing. Two states are equal exactly
when they freeze to equal values. Sets are unordered, as in Python.

Frozen dataclasses, enums, ``None``, numbers, strings and bytes are immutable and stand
for themselves; a tuple is frozen item by item. Anything that is not plain data (a
random generator, a handle, a closure) raises :class:`NotPlainDataError`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Hashable
from typing import Any

from smrkit.core.byzantine import ByzantineNode
from smrkit.core.node import Node
from smrkit.sim.kernel.fingerprint import NotPlainDataError, not_plain_reason

_ATOMIC: frozenset[type] = frozenset({int, str, float, bool, type(None), bytes})

_TUPLE = "\x00tuple"
_LIST = "\x00list"
_DICT = "\x00dict"
_SET = "\x00set"
_OBJECT = "\x00object"
_REF = "\x00ref"


class _Freezer:
    """One freezing pass: remembers the mutable objects it met, by identity, so a
    second reference becomes ``(_REF, k)``, and thawing rebuilds the sharing."""

    __slots__ = ("inner_nodes", "seen")

    def __init__(self, inner_nodes: bool = False) -> None:
        self.seen: dict[int, int] = {}
        self.inner_nodes = inner_nodes
        """Whether a node may hold another node in its state: a Byzantine node holds the
        honest node it replaced (:class:`~smrkit.core.byzantine.ByzantineNode`)."""

    def _shared(self, value: object) -> tuple[str, int] | None:
        key = id(value)
        index = self.seen.get(key)
        if index is not None:
            return (_REF, index)
        self.seen[key] = len(self.seen)
        return None

    def freeze(self, value: Any, path: str) -> Any:
        kind = type(value)
        if kind in _ATOMIC:
            return value
        if kind is tuple or (isinstance(value, tuple) and hasattr(kind, "_fields")):
            items = tuple(self.freeze(item, f"{path}[{i}]") for i, item in enumerate(value))
            if all(a is b for a, b in zip(items, value, strict=True)):
                return value
            return (_TUPLE, kind, *items)
        if kind is list:
            return self._shared(value) or (
                _LIST,
                *(self.freeze(item, f"{path}[{i}]") for i, item in enumerate(value)),
            )
        if kind is dict:
            return self._shared(value) or (
                _DICT,
                *(
                    (self.freeze(k, f"{path} key"), self.freeze(v, f"{path}[{k!r}]"))
                    for k, v in value.items()
                ),
            )
        if kind is set:
            return self._shared(value) or (_SET, frozenset(value))
        if kind is frozenset or isinstance(value, enum.Enum):
            return value
        if dataclasses.is_dataclass(value) and kind.__dataclass_params__.frozen:
            try:
                hash(value)
            except TypeError:
                what = f"a frozen {kind.__name__} holding mutable data"
                raise NotPlainDataError(path, what) from None
            return value
        reason = not_plain_reason(value)
        if reason is not None:
            raise NotPlainDataError(path, reason)
        if hasattr(value, "__dict__") and (self.inner_nodes or not isinstance(value, Node)):
            ref = self._shared(value)
            if ref is not None:
                return ref
            shared = getattr(kind, "config_fields", ())
            fields = vars(value)
            config = tuple((name, fields[name]) for name in shared if name in fields)
            state = tuple(
                (name, self.freeze(item, f"{path}.{name}"))
                for name, item in fields.items()
                if name not in shared
            )
            return (_OBJECT, kind, config, state)
        raise NotPlainDataError(path, f"a {kind.__module__}.{kind.__qualname__}")


def freeze_node(node: Node) -> Hashable:
    """The frozen value of ``node``'s state (its configuration left out)."""
    shared = type(node).config_fields
    freezer = _Freezer(inner_nodes=isinstance(node, ByzantineNode))
    return tuple(
        (name, freezer.freeze(value, f"{node.id}.{name}"))
        for name, value in vars(node).items()
        if name not in shared
    )


def freeze(value: Any, path: str = "value") -> Any:
    """The frozen value of any plain-data value."""
    return _Freezer().freeze(value, path)


class _Thawer:
    __slots__ = ("made",)

    def __init__(self) -> None:
        self.made: list[Any] = []

    def thaw(self, value: Any) -> Any:
        if type(value) is not tuple or not value:
            return value
        tag = value[0]
        if type(tag) is not str or not tag.startswith("\x00"):
            return value  # a tuple of immutable values stands for itself
        if tag == _REF:
            return self.made[value[1]]
        if tag == _LIST:
            made: list[Any] = []
            self.made.append(made)
            made.extend(self.thaw(item) for item in value[1:])
            return made
        if tag == _DICT:
            table: dict[Any, Any] = {}
            self.made.append(table)
            for k, v in value[1:]:
                table[self.thaw(k)] = self.thaw(v)
            return table
        if tag == _SET:
            members = set(value[1])
            self.made.append(members)
            return members
        if tag == _TUPLE:
            kind = value[1]
            items = [self.thaw(item) for item in value[2:]]
            return tuple(items) if kind is tuple else kind(*items)
        _, cls, config, state = value
        obj = object.__new__(cls)
        self.made.append(obj)
        fields = obj.__dict__
        for name, item in config:
            fields[name] = item
        for name, item in state:
            fields[name] = self.thaw(item)
        return obj


def thaw_into(node: Node, frozen: Hashable) -> None:
    """Load ``frozen`` (from :func:`freeze_node`) into ``node``, a scratch node of the
    same class that keeps the configuration."""
    thawer = _Thawer()
    fields = node.__dict__
    shared = type(node).config_fields
    for name in [name for name in fields if name not in shared]:
        del fields[name]
    for name, value in frozen:  # type: ignore[attr-defined]
        fields[name] = thawer.thaw(value)


class Interner:
    """Values ↔ small ints: equal values get the same int, so a world made of ints is
    compared and hashed in C. Never forgets (a search needs every value it stored)."""

    __slots__ = ("ids", "values")

    def __init__(self) -> None:
        self.ids: dict[Hashable, int] = {}
        self.values: list[Any] = []

    def __call__(self, value: Hashable) -> int:
        ids = self.ids
        number = ids.get(value)
        if number is None:
            number = ids[value] = len(self.values)
            self.values.append(value)
        return number

    def __len__(self) -> int:
        return len(self.values)
