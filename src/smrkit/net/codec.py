"""Messages to msgpack bytes and back, without pickle.

Messages are frozen dataclasses (DESIGN.md). Each one travels as a msgpack array
``[tag, field, field, …]`` whose first element, the tag, is a msgpack extension value
holding the class's name; the receiver rebuilds the message only if the name is in the
registry of known classes — every :class:`Message` subclass of the registered
protocols, plus :class:`Op` and :class:`Command` — so a peer can never make us
construct anything else. One ``packb``/``unpackb`` call handles a whole frame (the
tags are resolved in msgpack's hooks), which is what keeps the codec cheap.

What it costs (``bench/codec_speed.py``): the hooks run in Python, once per array, so
each does as little as it can. A class's fields are read with one precomputed
``attrgetter``; the decoder's array hook only looks at an array's first item, and a
tag anywhere else (an array's later item, a map's key or value, a bare tag) is found
by counting instead of scanning every array: each decode counts the tags its
extension hook made and those its array hook used, and refuses the frame when the
two differ. What remains is mostly building the message objects themselves. Tuples
travel as msgpack arrays and come back as tuples (values are tuples, never lists);
frozensets have their own tag.

A fast path, for the messages that carry a command per client operation (a raft
leader's ``AppendEntries``, a ``ClientRequest``, a ``Command`` in a saved log entry):
the encoder's hook returns the whole message with its commands and ops already as
tagged tuples — one hook call per message instead of one per nested object — which
msgpack writes as exactly the bytes the general path writes (a test compares them on
every hot message type, odd fields included).

Names are ``module:qualname``: two protocols may both have a ``Heartbeat``.
"""

from __future__ import annotations

import dataclasses
import operator
import sys
import threading
from collections.abc import Callable
from typing import Any

import msgpack  # type: ignore[import-untyped]

from smrkit.core.messages import ClientRequest, Message
from smrkit.core.ops import Command, Op
from smrkit.protocols.raft.messages import AppendEntries
from smrkit.protocols.registry import protocol_names

_EXT_DATACLASS = 1
_EXT_FROZENSET = 2


class CodecError(ValueError):
    """Bytes that do not decode to a known message (counted and dropped, never raised
    out of the runtime)."""


class _Tag:
    """The decoded tag of an array: which class (``None``: a frozenset) it builds."""

    __slots__ = ("arity", "cls")

    def __init__(self, cls: type | None, arity: int) -> None:
        self.cls = cls
        self.arity = arity


_CLASSES: dict[str, type] = {}
_TAGS: dict[type, msgpack.ExtType] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}
_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
_DECODE_TAGS: dict[bytes, _Tag] = {}
_FROZEN_TAG = _Tag(None, -1)
_FROZEN_EXT = msgpack.ExtType(_EXT_FROZENSET, b"")


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _register(cls: type) -> None:
    # ``dataclass(slots=True)`` replaces the class it decorates, and the replaced one
    # lingers among the base's subclasses: only the class its module exports counts.
    module = sys.modules.get(cls.__module__)
    if not dataclasses.is_dataclass(cls) or getattr(module, cls.__qualname__, None) is not cls:
        return
    name = _name(cls)
    fields = tuple(f.name for f in dataclasses.fields(cls))
    _CLASSES[name] = cls
    _TAGS[cls] = msgpack.ExtType(_EXT_DATACLASS, name.encode())
    _FIELDS[cls] = fields
    _GETTERS[cls] = _fields_getter(fields)
    _DECODE_TAGS[name.encode()] = _Tag(cls, len(fields))


def _fields_getter(fields: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function from an instance to the tuple of its fields' values, in order."""
    if len(fields) > 1:
        getter: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*fields)
        return getter
    if fields:
        one = operator.attrgetter(fields[0])
        return lambda value: (one(value),)
    return lambda value: ()


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
    row = _ROWS.get(cls)
    if row is not None:
        return row(value)
    tag = _TAGS.get(cls)
    if tag is None and not isinstance(value, frozenset):
        refresh_registry()
        tag = _TAGS.get(cls)
    if tag is not None:
        return (tag, *_GETTERS[cls](value))
    if isinstance(value, frozenset):
        return (_FROZEN_EXT, *value)
    raise TypeError(f"cannot encode {cls.__name__} (not a registered message)")


def _command_row(command: Command) -> Any:
    """A command as its tagged array, its op inside it (the general path's bytes)."""
    op = command.op
    if type(op) is Op:
        return (_TAGS[Command], command.client, command.seq, (_TAGS[Op], op.f, op.key, op.value))
    return (_TAGS[Command], command.client, command.seq, op)


def _client_request_row(request: ClientRequest) -> Any:
    op = request.op
    row: Any = (_TAGS[Op], op.f, op.key, op.value) if type(op) is Op else op
    return (_TAGS[ClientRequest], request.client, request.seq, row, request.previous)


def _append_entries_row(msg: AppendEntries) -> Any:
    """An AppendEntries with its commands as tagged arrays: one hook call per message."""
    commands = msg.commands
    if type(commands) is tuple:
        commands = tuple([_command_row(c) if type(c) is Command else c for c in commands])
    return (
        _TAGS[AppendEntries],
        msg.term,
        msg.prev_index,
        msg.prev_term,
        msg.terms,
        commands,
        msg.commit,
    )


_ROWS: dict[type, Callable[[Any], Any]] = {
    Command: _command_row,
    ClientRequest: _client_request_row,
    AppendEntries: _append_entries_row,
}
"""The encoder's fast paths: a class's whole tagged array, nested commands included."""

_PACKER_OPTIONS: dict[str, Any] = {"default": _default, "use_bin_type": True, "datetime": False}


_PACKERS = threading.local()
"""Each thread's idle packer: ``packb`` builds a new one per call, which costs more
than packing a small value (a saved log entry). A packer in use is taken out, so a
nested call (from another thread, or re-entrant) gets one of its own."""


def encode(value: Any) -> bytes:
    """msgpack bytes of a message (or any structure of plain values and messages)."""
    packer = _PACKERS.__dict__.pop("idle", None) or msgpack.Packer(**_PACKER_OPTIONS)
    try:
        data: bytes = packer.pack(value)  # resets the packer's buffer if it raises
    except (TypeError, ValueError, OverflowError) as error:
        raise CodecError(f"cannot encode {type(value).__name__}: {error}") from None
    finally:
        _PACKERS.idle = packer
    return data


def _tag_of(code: int, data: bytes) -> _Tag:
    if code == _EXT_FROZENSET and not data:
        return _FROZEN_TAG
    if code != _EXT_DATACLASS:
        raise CodecError(f"unknown extension code {code}")
    tag = _DECODE_TAGS.get(data)
    if tag is None:
        refresh_registry()
        tag = _DECODE_TAGS.get(data)
    if tag is None:
        raise CodecError(f"unknown message type {data[:100]!r}")
    return tag


def _build(tag: _Tag, args: tuple[Any, ...]) -> Any:
    """The value an array ``[tag, *args]`` stands for."""
    if tag.cls is None:
        try:
            return frozenset(args)
        except TypeError:
            raise CodecError("an unhashable item in a frozenset") from None
    if len(args) != tag.arity:
        raise CodecError(f"{_name(tag.cls)} takes {tag.arity} fields, got {len(args)}")
    return tag.cls(*args)


def decode(data: bytes) -> Any:
    """The value :func:`encode` made; :class:`CodecError` for anything else."""
    made = 0
    used = 0

    def ext_hook(code: int, ext: bytes) -> _Tag:
        nonlocal made
        made += 1
        tag = _DECODE_TAGS.get(ext) if code == _EXT_DATACLASS else None
        return _tag_of(code, ext) if tag is None else tag

    def list_hook(items: tuple[Any, ...]) -> Any:
        nonlocal used
        if items:
            tag = items[0]
            if type(tag) is _Tag:
                used += 1
                cls = tag.cls
                if cls is not None and len(items) == tag.arity + 1:  # _build's common case
                    return cls(*items[1:])
                return _build(tag, items[1:])
        return items

    try:
        value = msgpack.unpackb(
            data,
            ext_hook=ext_hook,
            list_hook=list_hook,
            use_list=False,
            raw=False,
            strict_map_key=False,
            timestamp=0,
        )
    except CodecError:
        raise
    except Exception as error:  # msgpack raises several unrelated types
        raise CodecError(f"malformed msgpack: {type(error).__name__}: {error}") from None
    if made != used:  # a tag that did not open an array: in a map, later in one, bare
        raise CodecError("a message tag out of place")
    return value


refresh_registry()
