"""The wire frame, and an authenticated channel over one TCP connection.

A frame is ``length (4 bytes, big-endian) ‖ version (1 byte) ‖ MAC (32 bytes) ‖ body``,
where the length counts everything after itself and the body is msgpack
(:mod:`smrkit.net.codec`). A length above ``frame_bytes_max`` is refused before
anything is read, so a peer cannot make us buffer an arbitrary amount.

The side that connects opens with a *hello* ``{"role": …, "id": …}``; the role picks
the key every later frame of the connection is authenticated with (the cluster secret
for peers and admins, the client token for clients). Any frame that is truncated, too
large, of another version, badly authenticated or malformed raises :class:`FrameError`,
and whoever reads it counts it and closes the connection.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from smrkit.net import auth
from smrkit.net.codec import CodecError, decode, encode

VERSION = 1
FRAME_BYTES_MAX_DEFAULT = 8 * 1024 * 1024
_HEAD = struct.Struct(">IB")
_OVERHEAD = 1 + auth.MAC_BYTES

TO_ACCEPTOR = b"to-acceptor"
TO_CONNECTOR = b"to-connector"

ROLE_PEER = "peer"
ROLE_CLIENT = "client"
ROLE_ADMIN = "admin"
ROLES = (ROLE_PEER, ROLE_CLIENT, ROLE_ADMIN)


class FrameError(Exception):
    """A frame we refuse. ``kind`` is the counter it is counted under."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


async def read_raw(reader: asyncio.StreamReader, frame_bytes_max: int) -> tuple[bytes, bytes]:
    """``(mac, body)`` of the next frame. Raises :class:`FrameError`, or
    ``asyncio.IncompleteReadError`` with nothing partial read when the peer closed."""
    head = await reader.readexactly(4)
    (length,) = struct.unpack(">I", head)
    if length > frame_bytes_max:
        raise FrameError("oversize", f"{length} bytes > frame_bytes_max {frame_bytes_max}")
    if length < _OVERHEAD:
        raise FrameError("malformed", f"frame of {length} bytes is shorter than its header")
    try:
        data = await reader.readexactly(length)
    except asyncio.IncompleteReadError as error:
        raise FrameError("truncated", f"{len(error.partial)} of {length} bytes") from None
    if data[0] != VERSION:
        raise FrameError("version", f"frame version {data[0]}, expected {VERSION}")
    return data[1:_OVERHEAD], data[_OVERHEAD:]


def pack(key: bytes, direction: bytes, counter: int, body: bytes) -> bytes:
    tag = auth.mac(key, direction, counter, body)
    return _HEAD.pack(len(body) + _OVERHEAD, VERSION) + tag + body


def decode_body(body: bytes) -> Any:
    try:
        return decode(body)
    except CodecError as error:
        raise FrameError("malformed", str(error)) from None


class Channel:
    """One authenticated connection: numbered frames in each direction."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        key: bytes,
        *,
        acceptor: bool,
        frame_bytes_max: int,
        recv_counter: int = 0,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.key = key
        self.frame_bytes_max = frame_bytes_max
        self.send_dir = TO_CONNECTOR if acceptor else TO_ACCEPTOR
        self.recv_dir = TO_ACCEPTOR if acceptor else TO_CONNECTOR
        self.send_counter = 0
        self.recv_counter = recv_counter

    def send(self, value: Any) -> int:
        """Queue one frame on the socket; returns its size. Raises :class:`FrameError`
        (kind ``oversize_out``) for a frame too large to send, ``CodecError``, and
        ``ConnectionResetError`` once the connection is closing."""
        if self.writer.is_closing():
            raise ConnectionResetError("the connection is closed")
        body = encode(value)
        if len(body) + _OVERHEAD > self.frame_bytes_max:
            raise FrameError("oversize_out", f"{len(body)} bytes of {type(value).__name__}")
        frame = pack(self.key, self.send_dir, self.send_counter, body)
        self.send_counter += 1
        self.writer.write(frame)
        return len(frame)

    async def recv(self) -> Any:
        tag, body = await read_raw(self.reader, self.frame_bytes_max)
        if not auth.verify(self.key, self.recv_dir, self.recv_counter, body, tag):
            raise FrameError("bad_mac", f"frame {self.recv_counter} fails authentication")
        self.recv_counter += 1
        return decode_body(body)

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()


async def connect(
    host: str,
    port: int,
    key: bytes,
    *,
    role: str,
    node_id: str | None,
    frame_bytes_max: int,
    timeout_s: float,
) -> Channel:
    """Open a connection and say hello; the caller closes it."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    channel = Channel(reader, writer, key, acceptor=False, frame_bytes_max=frame_bytes_max)
    channel.send({"role": role, "id": node_id, "v": VERSION})
    return channel


async def accept(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    keys: dict[str, bytes],
    *,
    frame_bytes_max: int,
) -> tuple[Channel, str, str | None]:
    """Read and check the hello of an incoming connection: ``(channel, role, id)``."""
    tag, body = await read_raw(reader, frame_bytes_max)
    hello = decode_body(body)
    if not isinstance(hello, dict) or hello.get("role") not in ROLES:
        raise FrameError("malformed", "the first frame is not a hello")
    role = hello["role"]
    node_id = hello.get("id")
    if node_id is not None and not isinstance(node_id, str):
        raise FrameError("malformed", "hello id is not a string")
    key = keys[role]
    if not auth.verify(key, TO_ACCEPTOR, 0, body, tag):
        raise FrameError("bad_mac", f"hello of a {role} fails authentication")
    channel = Channel(
        reader, writer, key, acceptor=True, frame_bytes_max=frame_bytes_max, recv_counter=1
    )
    return channel, role, node_id
