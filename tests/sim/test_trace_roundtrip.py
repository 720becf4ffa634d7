"""Every message of every protocol survives the trace format: written as a ``send`` line,
read back and written again, it gives the same line — which is what makes a replay's
trace hash equal the recorded one (``smrkit replay`` says DIFFERS otherwise). Client
messages, ops and commands come back as equal objects, ``ClientRequest.previous``
included; protocol messages come back as :class:`OpaqueMessage` with the same text."""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import pkgutil
import sys
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import smrkit.protocols
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.ops import Command, Op
from smrkit.sim.kernel.records import APPLY, COMPLETE, INVOKE, SEND, Record
from smrkit.sim.trace import OpaqueMessage, Trace, event_from_json, event_line, read_trace


def _load_every_protocol() -> None:
    for module in pkgutil.walk_packages(smrkit.protocols.__path__, "smrkit.protocols."):
        importlib.import_module(module.name)
    importlib.import_module("smrkit.explore.models")


def message_classes() -> list[type]:
    """Every :class:`Message` subclass that a protocol module exports (the classes the
    codec registers), except the trace's own :class:`OpaqueMessage`."""
    _load_every_protocol()
    found: dict[str, type] = {}
    pending: list[type] = list(Message.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        exported = getattr(sys.modules.get(cls.__module__), cls.__qualname__, None) is cls
        if exported and cls is not OpaqueMessage and dataclasses.is_dataclass(cls):
            found[f"{cls.__module__}:{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


CLASSES = message_classes()

values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3).map(tuple),
    max_leaves=8,
)
"""The :data:`~smrkit.core.ops.Value` s a client may put and read."""


def _for_type(hint: Any) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is type(None):
        return st.none()
    if origin in (typing.Union, types.UnionType):
        if (
            all(
                a in (bool, int, float, str, type(None)) or typing.get_origin(a) is tuple
                for a in args
            )
            and float in args
        ):
            return values  # Value: the recursive alias of plain data
        return st.one_of([_for_type(a) for a in args])
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_for_type(args[0]), max_size=3).map(tuple)
        return st.tuples(*[_for_type(a) for a in args])
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-(2**63), 2**63)
    if hint is float:
        return st.floats(allow_nan=True, allow_infinity=True)
    if hint is str:
        return st.text(max_size=8)
    if hint is Message:
        return st.deferred(lambda: st.one_of([message(c) for c in CLASSES if c is not hint]))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return message(hint)
    return values


@cache
def message(cls: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    fields = {f.name: _for_type(hints[f.name]) for f in dataclasses.fields(cls)}
    return st.builds(cls, **fields)


def _again(event: Record) -> tuple[str, Record]:
    """``event``'s line, and the event read back from it."""
    line = event_line(event)
    sent: dict[int, Message] = {}
    return line, event_from_json(json.loads(line), sent)


def test_every_protocol_registers_messages() -> None:
    names = {f"{c.__module__}:{c.__qualname__}" for c in CLASSES}
    assert "smrkit.core.messages:ClientRequest" in names
    assert "smrkit.protocols.consensus.paxos:Prepared" in names
    assert "smrkit.protocols.primary_backup.quorum:Vote" in names
    assert len(CLASSES) >= 40


@pytest.mark.parametrize(
    "cls", CLASSES, ids=lambda c: f"{c.__module__.split('.')[-1]}.{c.__name__}"
)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_message_round_trips_through_a_trace_line(cls: type, data: st.DataObject) -> None:
    msg = data.draw(message(cls))
    line, back = _again(Record(1.5, SEND, "p1", "c1", 7, msg))
    assert event_line(back) == line
    if cls in (ClientRequest, ClientReply, PrimaryHint):
        assert _same(back.data, msg)


def _same(a: Any, b: Any) -> bool:
    """Equality that takes NaN as equal to itself and a float text as what JSON made."""
    return json.dumps(_plain(a)) == json.dumps(_plain(b))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            type(value).__name__,
            *[_plain(getattr(value, f.name)) for f in dataclasses.fields(value)],
        ]
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


@settings(max_examples=50, deadline=None)
@given(request=message(ClientRequest), result=values)
def test_client_records_round_trip(request: ClientRequest, result: Any) -> None:
    command = Command(request.client, request.seq, request.op)
    for event in (
        Record(0.25, INVOKE, "c1", None, 3, request.op),
        Record(0.5, APPLY, "p2", None, 4, command),
        Record(0.75, COMPLETE, "c1", None, 3, ("ok", result)),
    ):
        line, back = _again(event)
        assert event_line(back) == line
    # JSON has no inf or NaN: such a float is written as its repr, a string, and read back
    # as that string (the line, hence the hash, is the same).
    assert _same(_again(Record(0.5, APPLY, "p2", None, 4, command))[1].data, command)
    assert isinstance(_again(Record(0.25, INVOKE, "c1", None, 3, request.op))[1].data, Op)


def test_a_retry_keeps_its_previous_server(tmp_path: Path) -> None:
    """The defect of issue 9: ``previous`` was dropped when a trace was read back."""
    retry = ClientRequest("c1", 4, Op("put", "x", 1), previous="p1")
    trace = Trace({"servers": ["p1", "p2"]}, [Record(0.5, SEND, "c1", "p2", 1, retry)])
    for name in ("t.jsonl", "t.jsonl.gz"):
        trace.write(tmp_path / name)
        back = read_trace(tmp_path / name)
        assert back.events[0].data == retry
        assert back.trace_hash() == trace.trace_hash()
