"""Operations, commands and the values they carry.

An :class:`Op` is what a client asks of the replicated service (``put x 1``); a
:class:`Command` is an op bound to the client and sequence number that issued it, which
is what replicas order, apply and log. Values are plain immutable data (``None``, bools,
numbers, strings and tuples of values) so that they hash, compare, print and serialize
the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from smrkit.core.ids import NodeId

Value: TypeAlias = "bool | int | float | str | tuple[Value, ...] | None"


@dataclass(frozen=True, slots=True)
class Op:
    """One operation of an application: a function name, an optional key, an argument."""

    f: str
    key: str | None = None
    value: Value = None

    def __str__(self) -> str:
        parts = [self.f]
        if self.key is not None:
            parts.append(self.key)
        if self.value is not None:
            parts.append(repr(self.value))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Command:
    """An op as issued: ``(client, seq)`` names it uniquely, so retries can be detected."""

    client: NodeId
    seq: int
    op: Op


def freeze(value: object) -> Value:
    """Turn JSON-shaped data (lists) into a :data:`Value` (tuples); reject anything else."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    raise TypeError(f"not a plain value: {value!r}")


def thaw(value: Value) -> object:
    """The JSON-shaped form of a value (tuples become lists)."""
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return value
