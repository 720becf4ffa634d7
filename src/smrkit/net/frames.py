"""The wire frame, the handshake, and an authenticated channel over one TCP connection.

A frame is ``length (4 bytes, big-endian) ‖ version (1 byte) ‖ MAC (32 bytes) ‖ body``,
where the length counts everything after itself. Nothing of a frame is decoded before
its length and its MAC have been checked: a length above the limit is refused before
the body is read, and the body is only parsed once its MAC holds.

Handshake. The side that connects sends a *hello*: ``role (1 byte) ‖ nonce (32 bytes) ‖
id`` in plain bytes, no msgpack, at most :data:`HELLO_BYTES_MAX` — the only frame an
unauthenticated party can make us read, so the cap is small. Its MAC is under the key
of the role it names (the cluster secret for peers and admins, the client token for
clients). The acceptor answers with its own nonce, MAC'd together with the connector's.
Both then derive the connection's keys from the role's key and the two nonces
(:func:`smrkit.net.auth.session_keys`), one per direction, and number the frames of
each direction from 0. A frame captured on one connection therefore fails on any other
(its keys differ) and, replayed on its own, fails its number: nothing replays — a
captured hello included, since its replayer cannot derive the keys that follow.

Every later frame is msgpack (:mod:`smrkit.net.codec`), decoded after its MAC holds.
Any frame that is truncated, too large, of another version, badly authenticated or
malformed raises :class:`FrameError`, and whoever reads it counts it and closes the
connection.
"""

from __future__ import annotations

import asyncio
import secrets
import struct
from typing import Any

from smrkit.net import auth
from smrkit.net.codec import CodecError, decode, encode

VERSION = 2
FRAME_BYTES_MAX_DEFAULT = 8 * 1024 * 1024
NONCE_BYTES = 32
ID_BYTES_MAX = 32
_HEAD = struct.Struct(">IB")
_OVERHEAD = 1 + auth.MAC_BYTES
HELLO_BYTES_MAX = _OVERHEAD + 1 + NONCE_BYTES + ID_BYTES_MAX
"""The largest frame read from a party that has not authenticated yet."""
ANSWER_BYTES = 4 + _OVERHEAD + NONCE_BYTES
"""The acceptor's answer to a hello, whole."""

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


class HandshakeError(ConnectionError):
    """The other side did not complete the handshake: it closed, or does not hold the
    key. A connection error like any other for whoever connects."""


class ByteBudget:
    """Bytes that the readers of some connections may hold at once: a reader reserves
    a large frame's length before it reads the body, and waits while the budget is
    spent. A body must then arrive within ``read_timeout_s``: a sender that trickles
    cannot keep its share of the budget for long.

    Frames of at most ``small_bytes`` (every ordinary request) reserve nothing: the
    connection cap already bounds them (connections × ``small_bytes``), and so clients
    that send half of a large frame each, filling the budget, cannot keep the small
    requests of everyone else waiting (they did, for up to ``read_timeout_s``, before)."""

    SMALL_BYTES = 64 * 1024

    def __init__(
        self, bytes_max: int, read_timeout_s: float = 10.0, small_bytes: int = SMALL_BYTES
    ) -> None:
        self.bytes_max = bytes_max
        self.read_timeout_s = read_timeout_s
        self.small_bytes = small_bytes
        self.used = 0
        self._freed = asyncio.Condition()

    async def reserve(self, count: int) -> None:
        async with self._freed:
            await self._freed.wait_for(lambda: self.used + count <= self.bytes_max)
            self.used += count

    async def release(self, count: int) -> None:
        async with self._freed:
            self.used -= count
            self._freed.notify_all()


async def read_raw(
    reader: asyncio.StreamReader, frame_bytes_max: int, budget: ByteBudget | None = None
) -> tuple[bytes, bytes]:
    """``(mac, body)`` of the next frame. Raises :class:`FrameError`, or
    ``asyncio.IncompleteReadError`` with nothing partial read when the peer closed."""
    head = await reader.readexactly(4)
    (length,) = struct.unpack(">I", head)
    if length > frame_bytes_max:
        raise FrameError("oversize", f"{length} bytes > the limit of {frame_bytes_max}")
    if length < _OVERHEAD:
        raise FrameError("malformed", f"frame of {length} bytes is shorter than its header")
    timeout_s = None if budget is None else budget.read_timeout_s
    reserved = 0 if budget is None or length <= budget.small_bytes else length
    if budget is not None and reserved:
        await budget.reserve(reserved)
    try:
        data = await asyncio.wait_for(reader.readexactly(length), timeout_s)
    except asyncio.IncompleteReadError as error:
        raise FrameError("truncated", f"{len(error.partial)} of {length} bytes") from None
    except TimeoutError:
        raise FrameError("slow", f"{length} bytes not read in {timeout_s} s") from None
    finally:
        if budget is not None and reserved:
            await budget.release(reserved)
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


def hello_body(role: str, nonce: bytes, node_id: str | None) -> bytes:
    """The connector's hello: plain bytes, so that it is checked without decoding."""
    name = (node_id or "").encode()
    if len(name) > ID_BYTES_MAX:
        raise ValueError(f"id {node_id!r} longer than {ID_BYTES_MAX} bytes")
    return bytes([ROLES.index(role)]) + nonce + name


class Channel:
    """One authenticated connection: numbered frames in each direction, under the
    connection's own keys."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        keys: tuple[bytes, bytes],
        *,
        acceptor: bool,
        frame_bytes_max: int,
        budget: ByteBudget | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        to_acceptor, to_connector = keys
        self.send_key, self.recv_key = (to_connector, to_acceptor) if acceptor else keys
        self.frame_bytes_max = frame_bytes_max
        self.send_dir = TO_CONNECTOR if acceptor else TO_ACCEPTOR
        self.recv_dir = TO_ACCEPTOR if acceptor else TO_CONNECTOR
        self.send_counter = 0
        self.recv_counter = 0
        self.budget = budget
        self.peer_id: str | None = None
        """Who is at the other end, if the hello named it."""

    def send(self, value: Any) -> int:
        """Queue one frame on the socket; returns its size. Raises :class:`FrameError`
        (kind ``oversize_out``) for a frame too large to send, ``CodecError``, and
        ``ConnectionResetError`` once the connection is closing."""
        return self.send_encoded(encode(value))

    def fits(self, body: bytes) -> bool:
        """Whether a frame of this body is within the limit."""
        return len(body) + _OVERHEAD <= self.frame_bytes_max

    def send_encoded(self, body: bytes) -> int:
        """:meth:`send` for a body already encoded."""
        if self.writer.is_closing():
            raise ConnectionResetError("the connection is closed")
        if len(body) + _OVERHEAD > self.frame_bytes_max:
            raise FrameError("oversize_out", f"a frame of {len(body)} bytes")
        frame = pack(self.send_key, self.send_dir, self.send_counter, body)
        self.send_counter += 1
        self.writer.write(frame)
        return len(frame)

    async def recv(self) -> Any:
        tag, body = await read_raw(self.reader, self.frame_bytes_max, self.budget)
        if not auth.verify(self.recv_key, self.recv_dir, self.recv_counter, body, tag):
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
    """Open a connection and shake hands; the caller closes it. Raises
    :class:`HandshakeError` if the other side does not prove it holds ``key``."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    try:
        nonce = secrets.token_bytes(NONCE_BYTES)
        writer.write(pack(key, TO_ACCEPTOR, 0, hello_body(role, nonce, node_id)))
        try:
            tag, theirs = await asyncio.wait_for(read_raw(reader, HELLO_BYTES_MAX), timeout_s)
        except (asyncio.IncompleteReadError, FrameError) as error:
            raise HandshakeError(f"no answer to our hello ({error}); a wrong key?") from None
        if len(theirs) != NONCE_BYTES or not auth.verify(key, TO_CONNECTOR, 0, nonce + theirs, tag):
            raise HandshakeError("the answer to our hello fails authentication")
    except BaseException:
        writer.close()
        raise
    keys = auth.session_keys(key, ROLES.index(role), nonce, theirs)
    return Channel(reader, writer, keys, acceptor=False, frame_bytes_max=frame_bytes_max)


async def accept(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    keys: dict[str, bytes],
) -> tuple[str, str | None, tuple[bytes, bytes]]:
    """Read and check the hello of an incoming connection — its length, then its MAC,
    then its fields — and answer it: ``(role, id, the connection's keys)``."""
    tag, body = await read_raw(reader, HELLO_BYTES_MAX)
    if not body or body[0] >= len(ROLES) or len(body) < 1 + NONCE_BYTES:
        raise FrameError("malformed", "the first frame is not a hello")
    role = ROLES[body[0]]
    key = keys[role]
    if not auth.verify(key, TO_ACCEPTOR, 0, body, tag):
        raise FrameError("bad_mac", f"hello of a {role} fails authentication")
    theirs = body[1 : 1 + NONCE_BYTES]
    try:
        node_id = body[1 + NONCE_BYTES :].decode() or None
    except UnicodeDecodeError:
        raise FrameError("malformed", "hello id is not text") from None
    nonce = secrets.token_bytes(NONCE_BYTES)
    tag = auth.mac(key, TO_CONNECTOR, 0, theirs + nonce)
    writer.write(_HEAD.pack(len(nonce) + _OVERHEAD, VERSION) + tag + nonce)
    return role, node_id, auth.session_keys(key, body[0], theirs, nonce)
