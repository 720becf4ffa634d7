"""Messages to msgpack bytes and back, without pickle.

Messages are frozen dataclasses (DESIGN.md). Each one travels as a msgpack extension
value whose payload is ``[type name, field, field, …]``; the receiver rebuilds it only
if the name is in the registry of known classes — every :class:`Message` subclass of
the registered protocols, plus :class:`Op` and :class:`Command` — so a peer can never
make us construct anything else. Tuples travel as msgpack arrays and come back as
tuples (values are tuples, never lists); frozensets have their own extension code.

Names are ``module:qualname``: two protocols may both have a ``Heartbeat``.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import msgpack  # type: ignore[import-untyped]

from smrkit.core.messages import Message
from smrkit.core.ops import Command, Op
from smrkit.protocols.registry import protocol_names

_EXT_DATACLASS = 1
_EXT_FROZENSET = 2

# Nesting a peer may send; deeper payloads are refused rather than recursed into.
DEPTH_MAX = 32


class CodecError(ValueError):
    """Bytes that do not decode to a known message (counted and dropped, never raised
    out of the runtime)."""


_CLASSES: dict[str, type] = {}
_NAMES: dict[type, str] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _register(cls: type) -> None:
    # ``dataclass(slots=True)`` replaces the class it decorates, and the replaced one
    # lingers among the base's subclasses: only the class its module exports counts.
    module = sys.modules.get(cls.__module__)
    if not dataclasses.is_dataclass(cls) or getattr(module, cls.__qualname__, None) is not cls:
        return
    name = _name(cls)
    _CLASSES[name] = cls
    _NAMES[cls] = name
    _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))


def refresh_registry() -> None:
    """Register every message class defined so far (the protocols are loaded first)."""
    protocol_names()  # imports the built-in protocols, which defines their messages
    pending: list[type] = [Op, Command, Message]
    while pending:
        cls = pending.pop()
        _register(cls)
        pending.extend(cls.__subclasses__())


def _default(value: Any) -> Any:
    cls = type(value)
    if cls not in _NAMES:
        refresh_registry()
    name = _NAMES.get(cls)
    if name is not None:
        fields = [getattr(value, f) for f in _FIELDS[cls]]
        return msgpack.ExtType(_EXT_DATACLASS, _packb([name, *fields]))
    if isinstance(value, frozenset):
        return msgpack.ExtType(_EXT_FROZENSET, _packb(list(value)))
    raise TypeError(f"cannot encode {cls.__name__} (not a registered message)")


def _packb(value: Any) -> bytes:
    data: bytes = msgpack.packb(value, default=_default, use_bin_type=True, datetime=False)
    return data


def encode(value: Any) -> bytes:
    """msgpack bytes of a message (or any structure of plain values and messages)."""
    try:
        return _packb(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise CodecError(f"cannot encode {type(value).__name__}: {error}") from None


class _Decoder:
    """One decode call: tracks nesting so hostile input cannot recurse without bound."""

    def __init__(self) -> None:
        self.depth = 0

    def ext_hook(self, code: int, data: bytes) -> Any:
        self.depth += 1
        try:
            if self.depth > DEPTH_MAX:
                raise CodecError(f"nested deeper than {DEPTH_MAX}")
            items = self.unpack(data)
            if code == _EXT_FROZENSET:
                if not isinstance(items, tuple):
                    raise CodecError("frozenset payload is not an array")
                return frozenset(items)
            if code != _EXT_DATACLASS:
                raise CodecError(f"unknown extension code {code}")
            if not isinstance(items, tuple) or not items or not isinstance(items[0], str):
                raise CodecError("message payload is not [name, fields...]")
            cls = _CLASSES.get(items[0])
            if cls is None:
                refresh_registry()
                cls = _CLASSES.get(items[0])
            if cls is None:
                raise CodecError(f"unknown message type {items[0]!r}")
            fields = _FIELDS[cls]
            if len(items) - 1 != len(fields):
                raise CodecError(f"{items[0]} takes {len(fields)} fields, got {len(items) - 1}")
            return cls(*items[1:])
        finally:
            self.depth -= 1

    def unpack(self, data: bytes) -> Any:
        try:
            return msgpack.unpackb(
                data,
                ext_hook=self.ext_hook,
                use_list=False,
                raw=False,
                strict_map_key=False,
                timestamp=0,
            )
        except CodecError:
            raise
        except Exception as error:  # msgpack raises several unrelated types
            raise CodecError(f"malformed msgpack: {type(error).__name__}: {error}") from None


def decode(data: bytes) -> Any:
    """The value :func:`encode` made; :class:`CodecError` for anything else."""
    return _Decoder().unpack(data)


refresh_registry()
