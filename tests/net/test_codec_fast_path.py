"""The codec's fast path (:mod:`smrkit.net.codec`: the hot messages encoded with one
hook call each) writes exactly the bytes of the general path, and fails alike on what
the general path cannot encode; decoding gives back equal messages."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest

from smrkit.core.messages import ClientReply, ClientRequest
from smrkit.core.ops import Command, Op
from smrkit.net import codec
from smrkit.net.codec import CodecError, decode, encode
from smrkit.protocols.raft.messages import AppendEntries, AppendReply

_COMMANDS = (
    Command("c1", 1, Op("put", "k1", 7)),
    None,  # a leader's no-op
    Command("c2", 2**40, Op("append", "ключ", ("x", 1.5, None, True, ("nested",)))),
    Command("c3", 3, Op("get")),
)

HOT: list[Any] = [
    AppendEntries(3, 100, 2, (2, 3, 3, 3), _COMMANDS, 99),
    AppendEntries(3, 100, 3, (), (), 100),  # a heartbeat
    AppendEntries(3, 100, 3, (3,), [_COMMANDS[0]], 100),  # type: ignore[arg-type]
    AppendReply(3, True, 104, 0, 0),
    AppendReply(3, False, 0, 90, 2),
    ClientRequest("c1", 5, Op("put", "k", 1)),
    ClientRequest("c1", 5, Op("cas", "k", (1, 2)), "p2"),
    ClientReply("c1", 5, ("a", 1), None),
    ClientReply("c1", 5, None, "session expired"),
    _COMMANDS[0],
    (3, _COMMANDS[2]),  # a log entry as raft saves it
    (
        "b",
        "p1",
        1.5,
        (AppendEntries(1, 0, 0, (1,), (_COMMANDS[0],), 0), AppendReply(1, True, 1, 0, 0)),
    ),
]


def _general(value: Any, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(codec, "_ROWS", {})
        return encode(value)


@pytest.mark.parametrize("value", HOT, ids=lambda v: type(v).__name__)
def test_the_fast_path_writes_the_general_paths_bytes(
    value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = encode(value)
    assert fast == _general(value, monkeypatch)
    expected = value
    if isinstance(value, AppendEntries):  # a list of commands comes back a tuple
        expected = dataclasses.replace(value, commands=tuple(value.commands))
    assert decode(fast) == expected


class _Stranger:
    """Not a registered message: neither path may encode it."""


ODD: list[Any] = [
    AppendEntries(3, 0, 0, (3,), (_Stranger(),), 0),  # type: ignore[arg-type]
    AppendEntries(3, 0, 0, (3,), (Command("c1", 1, _Stranger()),), 0),  # type: ignore[arg-type]
    ClientRequest("c1", 1, _Stranger()),  # type: ignore[arg-type]
    Command("c1", 1, Op("put", "k", _Stranger())),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("value", ODD, ids=lambda v: type(v).__name__)
def test_what_the_general_path_refuses_the_fast_path_refuses_alike(
    value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CodecError) as fast:
        encode(value)
    with pytest.raises(CodecError) as general:
        _general(value, monkeypatch)
    assert str(fast.value) == str(general.value)


def test_an_op_that_is_not_an_op_is_encoded_by_the_general_path_inside_the_fast_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A peer's command whose op is some other registered message: the fast path leaves
    # it to the hook, as the general path does, and the receiver's checks reject it.
    odd = AppendEntries(3, 0, 0, (3,), (Command("c1", 1, AppendReply(1, True, 0, 0, 0)),), 0)  # type: ignore[arg-type]
    assert encode(odd) == _general(odd, monkeypatch)
    assert decode(encode(odd)) == odd


def test_a_reused_packer_starts_clean_after_a_failure_in_another_thread_and_nested() -> None:
    expected = msgpack.packb(("b", 1, (2.5, "x")), use_bin_type=True)
    with pytest.raises(CodecError):
        encode(("b", 1, _Stranger()))  # fails half-way through the array
    assert encode(("b", 1, (2.5, "x"))) == expected
    results: list[bytes] = []
    workers = [
        threading.Thread(target=lambda: results.extend(encode(v) for v in HOT)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == [encode(v) for v in HOT] * 4


def test_an_encode_inside_an_encode_gets_its_own_packer(monkeypatch: pytest.MonkeyPatch) -> None:
    inner: list[bytes] = []

    def row(command: Command) -> Any:
        inner.append(encode(command.op))  # the outer packer is busy
        return codec._command_row(command)

    monkeypatch.setattr(codec, "_ROWS", {Command: row})
    command = _COMMANDS[0]
    assert command is not None
    assert decode(encode((1, command, 2))) == (1, command, 2)
    assert inner == [_general(command.op, monkeypatch)]
