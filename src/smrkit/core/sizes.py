"""How large a value is on the wire, bounded from above without encoding it.

A protocol that ships parts of its log (a catch-up, a vote, a takeover) must keep every
message under the runtime's frame limit, yet it is sans-I/O and never sees bytes. It
asks :func:`encoded_bytes_bound` instead: an upper bound on the size of the wire codec's
msgpack form of a value (``smrkit.net.codec``: a message is an array whose first item is
an extension value naming its class). Each container header and number is counted at
msgpack's largest size, so the bound holds whatever the values; a test of the codec
checks it against real encodings.

It runs once per log entry a leader appends, so the common types are tested first by
exact type, and a dataclass's fields are read with one precomputed getter.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any

HEADER_BYTES_MAX = 5
"""The largest msgpack header of a string, binary, array or map (type byte + 32-bit length)."""
NUMBER_BYTES_MAX = 9
_ARRAY_BYTES_MAX = HEADER_BYTES_MAX + 6
"""An array's header, counted as generously as a message's (header + extension tag)."""

_CLASSES: dict[type, tuple[int, Callable[[Any], tuple[Any, ...]]]] = {}
"""Per dataclass: the bytes of its array header and tag, and a getter of its fields."""


def dataclass_header_bytes(cls: type) -> int:
    """What a dataclass's encoding adds to its fields': its array header and tag."""
    return _class_bound(cls)[0]


def _class_bound(cls: type) -> tuple[int, Callable[[Any], tuple[Any, ...]]]:
    found = _CLASSES.get(cls)
    if found is None:
        name = f"{cls.__module__}:{cls.__qualname__}".encode()
        fields = tuple(f.name for f in dataclasses.fields(cls))
        getter: Callable[[Any], tuple[Any, ...]]
        if len(fields) > 1:
            getter = operator.attrgetter(*fields)
        elif fields:
            one = operator.attrgetter(fields[0])
            getter = lambda value: (one(value),)  # noqa: E731 - one field, as a tuple
        else:
            getter = lambda value: ()  # noqa: E731
        # array header + extension header (type byte, 32-bit length, code) + the name
        found = _CLASSES[cls] = (HEADER_BYTES_MAX + 6 + len(name), getter)
    return found


def encoded_bytes_bound(value: object) -> int:
    """An upper bound on the encoded size of ``value`` (plain values, tuples, lists,
    dicts, frozensets and message dataclasses)."""
    kind = type(value)
    if kind is str:
        text: str = value  # type: ignore[assignment]
        if text.isascii():
            return HEADER_BYTES_MAX + len(text)
        return HEADER_BYTES_MAX + len(text.encode("utf-8", "surrogatepass"))
    if kind is int or kind is float:
        return NUMBER_BYTES_MAX
    if value is None or kind is bool:
        return 1
    if kind is tuple:
        return _ARRAY_BYTES_MAX + sum(map(encoded_bytes_bound, value))  # type: ignore[call-overload]
    found = _CLASSES.get(kind)
    if found is not None:
        overhead, getter = found
        return overhead + sum(map(encoded_bytes_bound, getter(value)))
    return _other_bytes_bound(value)


def _other_bytes_bound(value: object) -> int:
    """:func:`encoded_bytes_bound` of the types it does not test first (subclasses too)."""
    if isinstance(value, bool):
        return 1
    if isinstance(value, int | float):
        return NUMBER_BYTES_MAX
    if isinstance(value, str):
        return HEADER_BYTES_MAX + len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return HEADER_BYTES_MAX + len(value)
    if isinstance(value, tuple | list | frozenset):
        return _ARRAY_BYTES_MAX + sum(encoded_bytes_bound(item) for item in value)
    if isinstance(value, dict):
        return HEADER_BYTES_MAX + sum(
            encoded_bytes_bound(k) + encoded_bytes_bound(v) for k, v in value.items()
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        overhead, getter = _class_bound(type(value))
        return overhead + sum(encoded_bytes_bound(item) for item in getter(value))
    raise TypeError(f"no size bound for {type(value).__name__}")
