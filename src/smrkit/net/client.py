"""The client library: ``smrkit.Client`` (asyncio) and :class:`BlockingClient`.

A client keeps ``Dest`` (property Pb2 of seed 001), the replica it believes is the
primary, and sends each command there. A :class:`~smrkit.core.PrimaryHint` with a
higher view than any seen moves ``Dest`` and resends at once; a refused connection or
``rotate_after`` time-outs in a row (by default one) move it to the next replica. Every
resend reuses the command's ``(client id, sequence number)`` (a resend after a time-out
also names the server that left it unanswered, ``ClientRequest.previous``, and a backup
of the omission protocols then relays it to the primary, so a client whose link to the
primary fails is still served: :mod:`smrkit.protocols.primary_backup.client_relay`): the
replicas keep a reply cache per client id, replicated with the state, and answer a retry
of a command that already took effect from it, so each command takes effect exactly once.

The client keeps a connection to every replica and names its client ids on each
(a ``sessions`` frame), so a new primary's hint reaches it wherever it was sent.

A client id has one command outstanding at a time (the replicas' cache holds one
reply per id), so a :class:`Client` keeps a pool of *sessions*, each its own client
id, and concurrent calls on one ``Client`` use different sessions. A session's first
command opens it (``SESSION_OPEN``, which changes nothing), so that every command of
the caller's has a sequence number above 1: if the service forgets the session
(:mod:`smrkit.protocols.service`), a retry of one is refused, never applied twice.

Outcomes: a call returns the command's result; raises :class:`CommandError` when the
service rejected it (it definitely did not take effect); raises :class:`OutcomeUnknownError`
when no answer came within ``op_timeout_s`` (it may or may not have taken effect), and
:class:`SessionExpiredError`, one of those, when the service had forgotten the session
of a command that was sent before (a first attempt refused so is sent again on a new
session).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import secrets
import time
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from smrkit.core.messages import ClientReply, ClientRequest, PrimaryHint
from smrkit.core.ops import Op, Value
from smrkit.core.sizes import encoded_bytes_bound
from smrkit.net.codec import CodecError
from smrkit.net.config import ClusterConfig, load_config
from smrkit.net.frames import ROLE_CLIENT, Channel, FrameError, connect
from smrkit.protocols.primary_backup.client_relay import RELAY_ROTATE_AFTER
from smrkit.protocols.service import SESSION_EXPIRED, SESSION_OPEN

RETRY_BACKOFF_S = 0.05
"""Pause before resending after a refused connection or a hint that changed nothing."""
SESSIONS_MAX_DEFAULT = 4096
DIAL_EVERY_S = 1.0
SESSIONS_PER_FRAME = 1000
REQUESTS_PER_FRAME_MAX = 256
FRAME_SLACK_BYTES = 256
"""Room in a frame for what surrounds the requests."""
REQUEST_BYTES_BEYOND_OP = encoded_bytes_bound(
    ClientRequest("c" + "9" * 16, 2**53, None, "p999")  # type: ignore[arg-type]
) - encoded_bytes_bound(None)
"""A bound on what a request adds to its op when encoded (the longest client id, the
largest sequence number, a previous server): the bound of a request is this plus its
op's, computed once per command rather than by walking a whole request each time."""


class CommandError(Exception):
    """The service rejected the command: it did not take effect."""


class OutcomeUnknownError(TimeoutError):
    """No answer in time: the command may or may not have taken effect."""


class SessionExpiredError(OutcomeUnknownError):
    """The service forgot the session while the command was under way: it may or may
    not have taken effect before."""

    def __init__(self, detail: str, *, first_attempt: bool) -> None:
        super().__init__(detail)
        self.first_attempt = first_attempt


_REDIRECT = object()  # Dest changed: resend now
_NUDGE = object()  # a replica answered with a hint that changed nothing: resend soon
_LOST = object()  # the connection the request went out on broke
_TIMED_OUT = object()  # no answer within retry_s


def _time_out(future: asyncio.Future[object]) -> None:
    if not future.done():
        future.set_result(_TIMED_OUT)


class Client:
    """An asyncio client of one cluster. Use ``async with Client(DIR) as c``."""

    def __init__(
        self,
        cluster: ClusterConfig | str | Path,
        *,
        op_timeout_s: float = 10.0,
        retry_s: float | None = None,
        rotate_after: int = RELAY_ROTATE_AFTER,
        sessions_max: int = SESSIONS_MAX_DEFAULT,
    ) -> None:
        self.config = cluster if isinstance(cluster, ClusterConfig) else load_config(Path(cluster))
        self.token = self.config.token()
        self.servers = self.config.protocol_servers
        self.op_timeout_s = op_timeout_s
        self.retry_s = self.config.client_timeout_s() if retry_s is None else retry_s
        self.rotate_after = rotate_after
        self.sessions_max = sessions_max
        self.dest = self.servers[0]
        self.view = 0
        self.retries = 0
        self._idle: collections.deque[list[Any]] = collections.deque()
        self._sessions = 0
        self._session_free = asyncio.Condition()
        self._session_waiters = 0
        """Calls waiting for a session (all ``sessions_max`` are busy)."""
        self._pending: dict[str, tuple[int, asyncio.Future[object]]] = {}
        """Client id → the sequence number it waits for and the future of its answer."""
        self._conns: dict[str, Channel] = {}
        self._connecting: dict[str, asyncio.Lock] = {s: asyncio.Lock() for s in self.servers}
        self._readers: set[asyncio.Task[None]] = set()
        self._closed = False
        self._next_dial = 0.0
        self._session_ids: list[str] = []
        self._outgoing: dict[Channel, list[tuple[ClientRequest, int]]] = {}
        """Requests to send at the end of this turn of the loop, each with its size
        bound, by connection."""
        self.bad_frames = 0
        """Frames from a replica that were not reply frames (dropped)."""

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- the operations of the kv application ----------------------------------------------

    async def put(self, key: str, value: Value) -> None:
        await self.call(Op("put", key, value))

    async def get(self, key: str) -> Value:
        return await self.call(Op("get", key))

    async def append(self, key: str, value: str) -> None:
        await self.call(Op("append", key, value))

    async def cas(self, key: str, old: Value, new: Value) -> bool:
        return bool(await self.call(Op("cas", key, (old, new))))

    # --- one command -----------------------------------------------------------------------

    async def call(self, op: Op) -> Value:
        """Run ``op`` exactly once; see the module docstring for the outcomes."""
        if self._closed:
            raise RuntimeError("the client is closed")
        bound = self._check_size(op)
        self._dial_all()
        try:
            return await self._call_in_a_session(op, bound)
        except SessionExpiredError as error:
            if not error.first_attempt:
                raise
            return await self._call_in_a_session(op, bound)  # never applied: again, anew

    async def _call_in_a_session(self, op: Op, bound: int) -> Value:
        session = self._idle.popleft() if self._idle else await self._take_session()
        alive = True
        try:
            if not session[2]:
                await self._open(session)
            session[1] += 1
            return await self._run(ClientRequest(session[0], session[1], op), bound)
        except SessionExpiredError:
            alive = False
            raise
        finally:
            if alive:
                self._idle.append(session)
            else:
                self._sessions -= 1
                self._session_ids.remove(session[0])
            if self._session_waiters:
                async with self._session_free:
                    self._session_free.notify()

    async def _open(self, session: list[Any]) -> None:
        """Open a session with its sequence number 1: a command that changes nothing."""
        session[1] = 1
        try:
            open_ = Op(SESSION_OPEN)
            await self._run(ClientRequest(session[0], 1, open_), self._check_size(open_))
        except OutcomeUnknownError as error:
            raise CommandError(f"could not open a session ({error}); nothing was sent") from None
        session[2] = True

    def _check_size(self, op: Op) -> int:
        """A bound on the encoded size of any request carrying ``op``; raises
        :class:`CommandError` if such a request cannot fit a frame."""
        size = REQUEST_BYTES_BEYOND_OP + encoded_bytes_bound(op)
        if size + FRAME_SLACK_BYTES > self.config.client_frame_bytes_max:
            raise CommandError(
                f"a request of up to {size} bytes does not fit the cluster's "
                f"client_frame_bytes_max ({self.config.client_frame_bytes_max})"
            )
        return size

    async def _take_session(self) -> list[Any]:
        async with self._session_free:
            while not self._idle and self._sessions >= self.sessions_max:
                self._session_waiters += 1
                try:
                    await self._session_free.wait()
                finally:
                    self._session_waiters -= 1
            if self._idle:
                return self._idle.popleft()
            self._sessions += 1
            session: list[Any] = [f"c{secrets.randbits(52) + 1}", 0, False]
            self._session_ids.append(session[0])
            for channel in list(self._conns.values()):
                with contextlib.suppress(OSError, FrameError):
                    channel.send(("sessions", (session[0],)))
            return session

    async def _run(self, request: ClientRequest, bound: int) -> Value:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.op_timeout_s
        timeouts = 0
        sends = 0
        previous: str | None = None
        """The server whose last attempt went unanswered for ``retry_s``: the next
        attempt names it (``ClientRequest.previous``), as the simulator's client does."""
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise OutcomeUnknownError(f"no answer to {request.op} in {self.op_timeout_s} s")
            if sends:
                self.retries += 1
            dest = self.dest
            future: asyncio.Future[object] = loop.create_future()
            self._pending[request.client] = (request.seq, future)
            attempt = (
                request if request.previous == previous else replace(request, previous=previous)
            )
            previous = None
            try:
                channel = self._conns.get(dest) or await self._connection(dest, remaining)
                self._send(channel, attempt, bound)
                sends += 1
            except (OSError, TimeoutError, FrameError, CodecError):
                self._pending.pop(request.client, None)
                self._move_on_from(dest)
                await asyncio.sleep(min(RETRY_BACKOFF_S, max(0.0, remaining)))
                continue
            timer = loop.call_later(min(self.retry_s, remaining), _time_out, future)
            try:
                answer = await future
            finally:
                timer.cancel()
                self._pending.pop(request.client, None)
            if answer is _TIMED_OUT:
                previous = dest  # it left this attempt unanswered
                timeouts += 1
                if timeouts >= self.rotate_after:
                    timeouts = 0
                    self._move_on_from(dest)
                continue
            if answer is _REDIRECT:
                continue
            if answer is _NUDGE or answer is _LOST:
                if answer is _LOST:
                    self._move_on_from(dest)
                await asyncio.sleep(min(RETRY_BACKOFF_S, max(0.0, deadline - loop.time())))
                continue
            assert isinstance(answer, ClientReply)
            if answer.error is not None:
                if answer.error.startswith(SESSION_EXPIRED):
                    raise SessionExpiredError(answer.error, first_attempt=sends == 1)
                raise CommandError(answer.error)
            return answer.result

    def _send(self, channel: Channel, request: ClientRequest, bound: int | None = None) -> None:
        """Queue ``request`` (``bound``: a bound on its encoded size, if known); the
        requests queued in one turn of the event loop go out together, as one frame
        per connection."""
        if channel.writer.is_closing():
            raise ConnectionResetError("the connection is closed")
        batch = self._outgoing.get(channel)
        if batch is None:
            batch = self._outgoing[channel] = []
            asyncio.get_running_loop().call_soon(self._flush, channel)
        batch.append((request, encoded_bytes_bound(request) if bound is None else bound))

    def _flush(self, channel: Channel) -> None:
        """Send the queued requests, as few frames as fit ``client_frame_bytes_max``."""
        batch = self._outgoing.pop(channel, [])
        room = self.config.client_frame_bytes_max - FRAME_SLACK_BYTES
        chunk: list[ClientRequest] = []
        size = 0
        for request, bound in batch:
            if chunk and (size + bound > room or len(chunk) >= REQUESTS_PER_FRAME_MAX):
                self._send_frame(channel, chunk)
                chunk, size = [], 0
            chunk.append(request)
            size += bound
        if chunk:
            self._send_frame(channel, chunk)

    @staticmethod
    def _send_frame(channel: Channel, requests: list[ClientRequest]) -> None:
        with contextlib.suppress(OSError, FrameError, CodecError):
            channel.send(("b", "", time.time(), tuple(requests)))  # lost: the retry resends it

    def _move_on_from(self, dest: str) -> None:
        if self.dest == dest:
            self.dest = self.servers[(self.servers.index(dest) + 1) % len(self.servers)]

    # --- connections -----------------------------------------------------------------------

    def _dial_all(self) -> None:
        """Keep a connection to every replica, not only ``Dest``: a new primary's hint
        reaches the client at once (as it does in the simulator), and a retry finds its
        connection ready. Replicas that refuse are tried again after ``DIAL_EVERY_S``."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_dial or len(self._conns) == len(self.servers):
            return
        self._next_dial = loop.time() + DIAL_EVERY_S
        for server in self.servers:
            if server not in self._conns and not self._connecting[server].locked():
                task = asyncio.ensure_future(self._dial(server))
                self._readers.add(task)
                task.add_done_callback(self._readers.discard)

    async def _dial(self, server: str) -> None:
        with contextlib.suppress(OSError, TimeoutError):
            await self._connection(server, self.config.connect_timeout_s)

    async def _connection(self, server: str, timeout_s: float) -> Channel:
        channel = self._conns.get(server)
        if channel is not None:
            return channel
        async with self._connecting[server]:
            channel = self._conns.get(server)
            if channel is not None:
                return channel
            host, port = self.config.replicas[server]
            channel = await connect(
                host,
                port,
                self.token,
                role=ROLE_CLIENT,
                node_id=None,
                frame_bytes_max=self.config.frame_bytes_max,
                timeout_s=min(timeout_s, self.config.connect_timeout_s),
            )
            ids = self._session_ids
            for start in range(0, len(ids), SESSIONS_PER_FRAME):
                channel.send(("sessions", tuple(ids[start : start + SESSIONS_PER_FRAME])))
            self._conns[server] = channel
            task = asyncio.ensure_future(self._read(server, channel))
            self._readers.add(task)
            task.add_done_callback(self._readers.discard)
            return channel

    async def _read(self, server: str, channel: Channel) -> None:
        try:
            while True:
                frame = await channel.recv()
                if not _is_reply_frame(frame):
                    self.bad_frames += 1  # counted and dropped; the connection serves on
                    continue
                for session, msgs in frame[3]:
                    for msg in msgs:
                        self._on_message(session, msg)
        except (OSError, FrameError, asyncio.IncompleteReadError):
            pass
        finally:
            channel.close()
            if self._conns.get(server) is channel:
                del self._conns[server]
            for _, future in list(self._pending.values()):
                if not future.done():
                    future.set_result(_LOST)

    def _on_message(self, session: object, msg: object) -> None:
        """A message for one of our client ids (``session``)."""
        if isinstance(msg, ClientReply):
            entry = self._pending.get(msg.client)
            if entry is not None and entry[0] == msg.seq and not entry[1].done():
                entry[1].set_result(msg)
        elif isinstance(msg, PrimaryHint):
            # A new Dest for every pending command: a newer view, or the same view's
            # primary when Dest is another server (the simulator's client does the same;
            # the omission protocols' first primary has view 0, the client's start).
            if msg.view > self.view or (msg.view == self.view and msg.primary != self.dest):
                self.view = msg.view
                self.dest = msg.primary
                for _, future in list(self._pending.values()):
                    if not future.done():
                        future.set_result(_REDIRECT)
                return
            # the answer of a replica that is not the primary, to this session only
            entry = self._pending.get(session) if isinstance(session, str) else None
            if entry is not None and not entry[1].done():
                entry[1].set_result(_NUDGE)

    async def close(self) -> None:
        self._closed = True
        for channel in list(self._conns.values()):
            channel.close()
        for task in list(self._readers):
            task.cancel()
        if self._readers:
            await asyncio.gather(*self._readers, return_exceptions=True)
        self._conns.clear()


def _is_reply_frame(frame: object) -> bool:
    """Whether a replica's frame is ``("r", id, time, ((client id, messages), …))``:
    the answers of one batch for every session of this connection."""
    return (
        isinstance(frame, tuple)
        and len(frame) == 4
        and frame[0] == "r"
        and isinstance(frame[3], tuple)
        and all(
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], tuple)
            for item in frame[3]
        )
    )


class BlockingClient:
    """The same operations for code without an event loop (one private loop)."""

    def __init__(self, cluster: ClusterConfig | str | Path, **options: Any) -> None:
        self._runner = asyncio.Runner()
        self._client: Client = self._runner.run(_make(cluster, options))

    def put(self, key: str, value: Value) -> None:
        self._runner.run(self._client.put(key, value))

    def get(self, key: str) -> Value:
        return self._runner.run(self._client.get(key))

    def append(self, key: str, value: str) -> None:
        self._runner.run(self._client.append(key, value))

    def cas(self, key: str, old: Value, new: Value) -> bool:
        return self._runner.run(self._client.cas(key, old, new))

    def close(self) -> None:
        self._runner.run(self._client.close())
        self._runner.close()

    def __enter__(self) -> BlockingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _make(cluster: ClusterConfig | str | Path, options: dict[str, Any]) -> Client:
    return Client(cluster, **options)
