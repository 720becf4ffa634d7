"""How large a value is on the wire, bounded from above without encoding it.

A protocol that ships parts of its log (a catch-up, a vote, a takeover) must keep every
message under the runtime's frame limit, yet it is sans-I/O and never sees bytes. It
asks :func:`encoded_bytes_bound` instead: an upper bound on the size of the wire codec's
msgpack form of a value (``smrkit.net.codec``: a message is an array whose first item is
an extension value naming its class). Each container header and number is counted at
msgpack's largest size, so the bound holds whatever the values; a test of the codec
checks it against real encodings.
"""

from __future__ import annotations

import dataclasses
from functools import cache

HEADER_BYTES_MAX = 5
"""The largest msgpack header of a string, binary, array or map (type byte + 32-bit length)."""
NUMBER_BYTES_MAX = 9


@cache
def _class_overhead(cls: type) -> tuple[int, tuple[str, ...]]:
    name = f"{cls.__module__}:{cls.__qualname__}".encode()
    fields = tuple(f.name for f in dataclasses.fields(cls))
    # array header + extension header (type byte, 32-bit length, code) + the name
    return HEADER_BYTES_MAX + 6 + len(name), fields


def encoded_bytes_bound(value: object) -> int:
    """An upper bound on the encoded size of ``value`` (plain values, tuples, lists,
    dicts, frozensets and message dataclasses)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, int | float):
        return NUMBER_BYTES_MAX
    if isinstance(value, str):
        return HEADER_BYTES_MAX + len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return HEADER_BYTES_MAX + len(value)
    if isinstance(value, tuple | list | frozenset):
        return HEADER_BYTES_MAX + 6 + sum(encoded_bytes_bound(item) for item in value)
    if isinstance(value, dict):
        return HEADER_BYTES_MAX + sum(
            encoded_bytes_bound(k) + encoded_bytes_bound(v) for k, v in value.items()
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        overhead, fields = _class_overhead(type(value))
        return overhead + sum(encoded_bytes_bound(getattr(value, f)) for f in fields)
    raise TypeError(f"no size bound for {type(value).__name__}")
