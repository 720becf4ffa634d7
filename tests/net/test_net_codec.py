"""The wire codec: every registered message survives the round trip, and no input
makes the decoder do anything but return a value or raise CodecError."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smrkit.core.messages import ClientReply, ClientRequest, PrimaryHint
from smrkit.core.ops import Command, Op
from smrkit.core.sizes import encoded_bytes_bound
from smrkit.net import codec
from smrkit.net.codec import CodecError, decode, encode
from smrkit.protocols.primary_backup import crash, quorum


def test_messages_round_trip_with_their_types() -> None:
    command = Command("c7", 3, Op("cas", "x", ("a", ("b", 1.5, None, True))))
    samples = [
        ClientRequest("c1", 1, Op("put", "k", "v")),
        ClientReply("c1", 1, None, "bad op"),
        PrimaryHint("p2", 2),
        crash.Heartbeat(4, 10),
        crash.Update(11, command),
        crash.Sync(3, (command, command)),
        crash.Takeover(9, 12, 0.25),
        ("m", "p1", 1.25, crash.SyncRequest(2)),
        frozenset({1, 2}),
    ]
    for sample in samples:
        back = decode(encode(sample))
        assert back == sample and type(back) is type(sample)


def test_every_registered_message_class_is_one_the_protocols_use() -> None:
    codec.refresh_registry()
    names = set(codec._CLASSES)
    assert "smrkit.protocols.primary_backup.crash:Heartbeat" in names
    assert "smrkit.protocols.primary_backup.simple:Heartbeat" in names
    for cls in codec._CLASSES.values():
        assert dataclasses.is_dataclass(cls)


def test_unknown_types_wrong_arity_and_stray_tags_are_refused() -> None:
    import msgpack  # type: ignore[import-untyped]

    def tag(name: str) -> msgpack.ExtType:
        return msgpack.ExtType(1, name.encode())

    with pytest.raises(CodecError, match="unknown message type"):
        decode(msgpack.packb([tag("os:system"), "echo hi"]))
    with pytest.raises(CodecError, match="takes 2 fields"):
        decode(msgpack.packb([tag("smrkit.core.messages:PrimaryHint"), "p1"]))
    hint = tag("smrkit.core.messages:PrimaryHint")
    strays = (
        [1, hint],
        {"k": hint},
        {hint: 1},
        hint,
        [msgpack.ExtType(9, b"")],
        [hint, "p1", hint],  # a tag as a message's field
        [[hint, "p1", 1], hint],
    )
    for stray in strays:
        with pytest.raises(CodecError):
            decode(msgpack.packb(stray))
    with pytest.raises(CodecError):
        encode(object())


def test_deep_nesting_is_refused_not_recursed_into() -> None:
    with pytest.raises(CodecError):
        decode(b"\x91" * 100_000 + b"\xc0")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_decode_or_raise_codec_error(data: bytes) -> None:
    with contextlib.suppress(CodecError):
        decode(data)


def test_the_client_is_exported_lazily() -> None:
    import smrkit
    from smrkit.net.client import Client

    assert smrkit.Client is Client


_values: st.SearchStrategy[object] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=6).map(tuple),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    client=st.text(max_size=12),
    seq=st.integers(0, 2**63 - 1),
    key=st.none() | st.text(max_size=20),
    value=_values,
    parts=st.integers(0, 4),
)
def test_the_size_bound_the_protocols_use_holds_for_real_encodings(
    client: str, seq: int, key: str | None, value: object, parts: int
) -> None:
    """Protocols cut their log into messages by ``encoded_bytes_bound``; a message so
    cut must fit the frame it is sent in."""
    command = Command(client, seq, Op("put", key, value))  # type: ignore[arg-type]
    commands = (command,) * parts
    sync = quorum.Sync(2**40, 7, (2**40,) * parts, commands, 3, 9)
    for sample in (command, sync, ("b", "p1", 1.5, (sync, command))):
        assert len(encode(sample)) <= encoded_bytes_bound(sample)
