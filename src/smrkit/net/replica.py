"""One replica as a process: a sans-I/O protocol node behind asyncio TCP.

This is the second runtime behind ``Node``/``Out`` (the simulator is the first); the
protocol runs unchanged, built by its registry entry. What the runtime guarantees the
node, as the simulator does:

* handlers run one at a time, each to completion (one task drains the inbox);
* a step's effects are applied after the handler returns by the kernel's one applier
  (:func:`smrkit.sim.kernel.effects.apply_effects`, shared with the simulator and the
  explorer), with this server as its sink: saves are written, and made durable
  (:meth:`Storage.sync`) before any message of the step leaves; messages leave in the
  order they were sent; then timers change; then a halt stops the node;
* the commit runs off the event loop (group commit, :meth:`ReplicaServer._commit`):
  while one commit is on its way to the disk, in a worker thread, the loop goes on
  reading and taking steps; the next commit makes all of their saves durable together.
  Each held message carries the number of the last write its step depends on (its
  own step's, or an earlier one's): it leaves as soon as that write is durable and
  every message held before it has left — a step that saved nothing (a leader's
  answer to its clients once a majority holds the entry) does not wait behind the
  commit of later steps' saves. So a message never leaves before the saves of its own
  step and of every step before it, and never overtakes an earlier message;
* ``out.now`` is seconds since the cluster's start instant on the host's real-time
  clock, which the replicas of one host share (and hosts share through NTP): the
  protocols of seed 001 set timers at absolute round times ``k·τ`` and need clocks
  synchronized with real time;
* a replica whose protocol halts it (the translation of an omission into a crash)
  ends its process; its supervisor (:mod:`smrkit.net.supervisor`, another process,
  so that a ``kill -9`` of the replica leaves it alive) starts a new incarnation from
  the disk after a back-off if the protocol is ``restartable``;
* the timing the protocol assumes is watched, not trusted: a message handled more than
  δ after it was sent, and a timer that fired more than δ/10 after its instant, are
  counted (``timing`` in the status) — the protocol's guarantees hold only while both
  stay 0;
* every replica starts its node at that same instant, so round 0 is round 0 for all.
  A replica that arrives later is a restart: it runs only if its protocol is
  ``restartable`` (it rebuilds itself from what it saved, ``out.saved``, and rejoins);
  a crash-stop protocol's replica refuses (one that came back would be a second
  primary). What a restart recovered from disk is in the status (``recovered``).

Connections. Every replica listens on one port for peers, clients and the admin
endpoint; the hello of a connection says which, and the handshake gives the connection
its own keys (:mod:`smrkit.net.frames`). Everything is bounded: at most
``HANDSHAKES_MAX`` unauthenticated connections at once, each done within
``connect_timeout_s``; ``client_connections_max`` client connections (all clients share
one token), ``ADMIN_CONNECTIONS_MAX`` admin ones, ``PEER_CONNECTIONS_MAX`` per peer (a
peer's newest replaces its oldest); client and admin frames of at most
``client_frame_bytes_max``, those over 64 KiB read within one byte budget
(``client_buffer_bytes_max``).
To each peer it keeps one outgoing connection, reconnected with back-off, fed by a
queue of at most ``outbound_queue_max`` messages, batched into frames that fit. A frame
that is malformed, too large or fails authentication is counted under its kind and
its connection closed (the log says so at most so often: :mod:`.log_limit`); the
replica keeps serving. Client requests are checked field by field before the node sees
them, and a client's word (``ClientRequest.previous``) is not evidence here: the node
is built with ``clients_trusted`` off: a backup relays the requests of a client that says
the primary left it unanswered (:mod:`smrkit.protocols.primary_backup.client_relay`), and
those relayed requests wait in the clients' queue.

Faults on demand (the nemesis): the admin endpoint sets directed links to drop
(``block``) and clears them (``heal``); a partition or an omission is such a set. A
link may name a client id too (``p1->c42`` drops p1's replies to it, ``c42->p1`` its
requests to p1): a primary's omissions towards one client.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import os
import random
import resource
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from smrkit.core.ids import NodeId, is_client, is_server
from smrkit.core.messages import ClientRequest, Message, RelayedRequest
from smrkit.core.node import Out, Replica, Timer
from smrkit.core.ops import Op, Value
from smrkit.net.cluster import saved_blocks
from smrkit.net.codec import CodecError, encode
from smrkit.net.config import ClusterConfig
from smrkit.net.files import open_private, private_dir
from smrkit.net.frames import (
    ROLE_ADMIN,
    ROLE_CLIENT,
    ROLE_PEER,
    ROLES,
    ByteBudget,
    Channel,
    FrameError,
    accept,
    connect,
)
from smrkit.net.log_limit import RateLimit
from smrkit.net.log_storage import LogStorage
from smrkit.net.storage import STORAGE_FILES, SqliteStorage, Storage
from smrkit.net.supervisor import halt_path, read_life
from smrkit.protocols.registry import ProtocolConfig, get_protocol, restartable_protocols
from smrkit.sim.kernel.effects import apply_effects
from smrkit.sim.order import TimerQueue

log = logging.getLogger("smrkit.replica")

LATE_TIMER_FRACTION = 0.1
"""A timer that fires more than this fraction of δ after its instant is counted late
(the omission protocols stagger ranks by δ/10: a later timer may reorder them)."""
STEPS_PER_BATCH_MAX = 256
"""Timers and peer messages handled between two storage syncs (group commit) and
message releases; ``REQUESTS_PER_BATCH_MAX`` client requests follow them."""
REQUESTS_PER_BATCH_MAX = 64
RECONNECT_S_MIN = 0.02
RECONNECT_S_MAX = 0.5
CLIENT_IDS_MAX = 100_000
"""Client ids remembered for routing replies; the oldest is forgotten first."""
SESSIONS_PER_FRAME_MAX = 10_000
MESSAGES_PER_FRAME_MAX = 256
"""Messages to one peer that share a frame (one MAC, one write) when they queue up."""
HANDSHAKES_MAX = 64
"""Connections that have not authenticated yet, at once; more are closed at once."""
PEER_CONNECTIONS_MAX = 2
ADMIN_CONNECTIONS_MAX = 16


class _RealTimeOut(Out):
    """``Out`` for real time: a timer set for an instant that has already passed fires
    at once instead of being a protocol error. In the simulator that can only be a bug;
    here it means the host fell behind (a timer fired late, so the step that sets the
    next one ran late), which breaks the protocol's timing assumption rather than its
    code. The runtime counts it (``timers_set_in_the_past`` in the stats) instead of
    crashing the replica."""

    __slots__ = ("late",)

    def __init__(self, rng: random.Random, saved: dict[str, object]) -> None:
        super().__init__(rng, saved)
        self.late = 0

    def set_timer_at(self, timer: Timer, at: float) -> None:
        if at < self.now:
            self.late += 1
            at = self.now
        super().set_timer_at(timer, at)


class _Sink:
    """Where the kernel's applier puts a step's effects in a replica process: saves are
    written to storage and numbered (synced by :meth:`ReplicaServer._commit`: group
    commit), messages are held with the number of the last write before them (they
    leave once it is durable: :meth:`ReplicaServer._flush_soon`), timers join the node's
    :class:`~smrkit.sim.order.TimerQueue` (the simulator's order), a halt stops the node."""

    def __init__(self, server: ReplicaServer) -> None:
        self.server = server

    def persist(self, node: NodeId, saves: Sequence[tuple[str, object]]) -> None:
        self.server.storage.write(saves)
        self.server._written += 1

    def send(self, src: NodeId, dst: NodeId, msg: Message) -> None:
        server = self.server
        server._held.append((server._written, dst, msg, server._sent_at))

    def set_timer(self, node: NodeId, timer: Timer, at: float | None) -> None:
        self.server._set_timer(timer, at)

    def stop(self, node: NodeId, kind: str, reason: str) -> None:
        self.server.halted = reason
        log.warning("%s halts: %s", node, reason)


def open_storage(directory: Path, engine: str, fsync: str) -> Storage:
    """A replica's storage in ``directory``: the configured engine's file — unless
    only the other engine's file is there (the cluster ran with it), which is then
    the one that holds what the replica saved."""
    found = [name for name, file in STORAGE_FILES.items() if (directory / file).exists()]
    if found and engine not in found:
        log.warning("%s: keeping the %s storage found there", directory, found[0])
        engine = found[0]
    if engine == "sqlite":
        return SqliteStorage(directory / STORAGE_FILES["sqlite"], fsync)
    return LogStorage(directory / STORAGE_FILES["log"], fsync)


class StartError(RuntimeError):
    """The replica cannot start (too late for the cluster's start instant, …)."""


class ReplicaServer:
    """One replica process's runtime. Create it, then ``await serve()``."""

    def __init__(
        self,
        config: ClusterConfig,
        node_id: str,
        *,
        start_at: float,
        storage: Storage | None = None,
        incarnation: int = 1,
        earlier_halts: list[str] | None = None,
    ) -> None:
        if node_id not in config.replicas:
            raise StartError(f"{node_id} is not a replica of {config.path}")
        self.config = config
        self.id = node_id
        self.start_at = start_at
        self.secret = config.secret()
        self.token = config.token()
        self._keys = {ROLE_PEER: self.secret, ROLE_ADMIN: self.secret, ROLE_CLIENT: self.token}
        spec = get_protocol(config.protocol)
        self.restartable = spec.restartable
        nodes = spec.build(
            ProtocolConfig(
                servers=config.protocol_servers,
                clients=(),
                app=config.app,
                delta_s=config.delta_s,
                tau_s=config.tau_s,
                message_bytes_max=config.frame_bytes_max // 2,
                sessions_max=config.sessions_max,
                clients_trusted=False,  # they hold a shared token, nothing more
            )
        )
        node = next(n for n in nodes if n.id == node_id)
        if not isinstance(node, Replica):
            raise StartError(f"{config.protocol}'s {node_id} is not a replica of a service")
        self.node = node
        if storage is None:
            path = config.data_path(node_id)
            private_dir(path.parent)
            private_dir(path)
            storage = open_storage(path, config.storage, config.fsync)
        self.storage = storage
        saved = storage.load()
        # Each incarnation draws afresh: a restarted replica of a protocol with randomized
        # time-outs (Raft's elections) must not replay the draws of the one before it.
        self.out = _RealTimeOut(random.Random(f"{node_id}/{start_at}/{incarnation}"), saved)
        self.saved_keys = len(saved)
        self.incarnation = incarnation
        """1 for the first process of this replica; its supervisor counts the others."""
        self.earlier_halts = list(earlier_halts or [])
        """Why the earlier incarnations ended (halted, killed: :mod:`.supervisor`)."""
        self.recovered: dict[str, Any] | None = None
        """Set at start if there was saved state: the commands applied from it."""
        self.stats: collections.Counter[str] = collections.Counter()
        self.blocked: set[tuple[str, str]] = saved_blocks(config)
        """Links whose messages are dropped (the nemesis): those in force when this
        incarnation starts, then as the admin endpoint is told."""
        self.started = False
        self.halted: str | None = None
        self._control: collections.deque[tuple[Any, ...]] = collections.deque()
        self._requests: collections.deque[tuple[Any, ...]] = collections.deque()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._held: collections.deque[tuple[int, str, Message, float]] = collections.deque()
        """Messages waiting for the saves they depend on: ``(write number, destination,
        message, when sent)``, in the order sent (so in the order of write numbers)."""
        self._written = 0
        """Writes so far (one per step that saved anything), numbered from 1."""
        self._durable = 0
        """Every write up to this number is durable."""
        self._committer: asyncio.Task[None] | None = None
        """The group commit under way, if any (:meth:`_commit`)."""
        self._flush_error: BaseException | None = None
        self._sender: asyncio.Task[None] | None = None
        """Replies waiting until the peers' messages sent before them are in the
        kernel (:meth:`_send_released`); later releases queue behind it in
        ``_outbox``."""
        self._outbox: list[tuple[int, str, Message, float]] = []
        self._sent_at = 0.0
        """When the current step's messages are sent as far as the protocol knows (Unix
        seconds): now, or for a timer's step the instant the timer was set for, so that
        a timer that fired late makes its messages late too."""
        self._timer_at: dict[Timer, float] = {}
        """The instant each pending timer is set for (to see whether it fired late)."""
        self._sink = _Sink(self)
        self._timers = TimerQueue()
        """The node's timers, fired in the order of :mod:`smrkit.sim.order` (the
        simulator's): by instant, then in the order they were set."""
        self._wakeup: asyncio.TimerHandle | None = None
        self._wakeup_at = math.inf
        self._peers = {p: _PeerLink(self, p) for p in config.servers if p != node_id}
        self._clients: collections.OrderedDict[str, Channel] = collections.OrderedDict()
        self._channels: dict[str, list[Channel]] = {role: [] for role in ROLES}
        """Open connections by role, oldest first."""
        self._handshakes = 0
        self._client_budget = ByteBudget(config.client_buffer_bytes_max)
        self._stopped = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- clock ---------------------------------------------------------------------------

    def now(self) -> float:
        """Seconds since the cluster's start instant (real time, shared by the hosts)."""
        return time.time() - self.start_at

    # --- life cycle ----------------------------------------------------------------------

    async def serve(self, *, install_signals: bool = True) -> str:
        """Run until stopped (SIGTERM/SIGINT, :meth:`stop`) or halted; returns why."""
        late = self.now()
        if late > self.config.delta_s / 2 and not self.restartable:
            others = ", ".join(restartable_protocols())
            raise StartError(
                f"{self.id} starts {late:.2f} s after the cluster's start instant; "
                f"{self.config.protocol} is crash-stop (a crashed replica does not come back); "
                f"use a restartable protocol ({others}) or start a new cluster with "
                "'smrkit cluster up'"
            )
        host, port = self.config.replicas[self.id]
        server = await asyncio.start_server(self._on_connection, host, port, reuse_address=True)
        loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
        for link in self._peers.values():
            self._spawn(link.run())
        runner = asyncio.ensure_future(self._run_node())
        log.info("%s listening on %s:%d, pid %d", self.id, host, port, os.getpid())
        try:
            stop = asyncio.ensure_future(self._stopped.wait())
            await asyncio.wait({runner, stop}, return_when=asyncio.FIRST_COMPLETED)
            if runner.done():
                runner.result()  # a handler's exception ends the process
        finally:
            # Quietly: every task of ours ends before the loop does, so none is left
            # for the loop to cancel (and print) on its way out.
            runner.cancel()
            # let a commit under way finish, and replies waiting for the peers' sends
            busy = [t for t in (self._committer, self._sender) if t is not None]
            await asyncio.gather(*busy, return_exceptions=True)
            server.close()
            for channels in self._channels.values():
                for channel in channels:
                    channel.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(runner, *self._tasks, return_exceptions=True)
            if self._wakeup is not None:
                self._wakeup.cancel()
            self.storage.close()
        return self.halted or "stopped"

    def stop(self) -> None:
        self._stopped.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the node's steps ----------------------------------------------------------------

    async def _run_node(self) -> None:
        await asyncio.sleep(max(0.0, -self.now()))
        self.started = True
        self._step(self.node.on_start)
        if self.saved_keys:
            self.recovered = {
                "saved_keys": self.saved_keys,
                "applied": self.node.applied_offset + len(self.node.applied),
                "at": self.out.now,
                **election_state(self.node),
            }
            log.info("%s recovered from disk: %s", self.id, self.recovered)
        await self._release()
        control, requests = self._control, self._requests
        while self.halted is None:
            if self._flush_error is not None:
                raise self._flush_error
            if not control and not requests:
                self._wake.clear()
                await self._wake.wait()
                continue
            steps = 0
            while control and steps < STEPS_PER_BATCH_MAX and self.halted is None:
                self._handle(control.popleft())
                steps += 1
            steps = 0
            while requests and steps < REQUESTS_PER_BATCH_MAX and self.halted is None:
                self._handle(requests.popleft())
                steps += 1
            self._flush_soon()
            if len(requests) < self.config.inbox_max:
                self._room.set()
            await asyncio.sleep(0)  # the readers and the flusher run between batches
        await self._release()
        self._stopped.set()

    def _handle(self, item: tuple[Any, ...]) -> None:
        """One input: a timer that is still current, or a message. Both are checked
        against the timing the protocol assumes: a timer that fires more than
        ``δ·LATE_TIMER_FRACTION`` after its instant is late; a message handled more than
        δ after it was sent (by the sender's clock, which is this host's, or NTP's
        between hosts) is late."""
        if item[0] == "timer":
            _, timer, seq = item
            if self._timers.take(timer, seq):
                now = self.now()
                at = self._timer_at.pop(timer, now)
                if now - at > self.config.delta_s * LATE_TIMER_FRACTION:
                    self.stats["late_timers"] += 1
                self._step(self.node.on_timer, timer, sent_at=self.start_at + at)
        else:
            _, src, msg, sent_at = item
            if sent_at is not None and time.time() - sent_at > self.config.delta_s:
                self.stats["late_messages"] += 1  # the protocol's δ was exceeded
            self._step(self.node.on_message, src, msg)

    def _step(self, handler: Callable[..., None], *args: Any, sent_at: float | None = None) -> None:
        out = self.out
        out.now = self.now()
        self._sent_at = self.start_at + out.now if sent_at is None else sent_at
        handler(*args, out)
        self.stats["steps"] += 1
        apply_effects(self.id, out, self._sink)

    def _flush_soon(self) -> None:
        """Start the group commit if writes wait for one and none is under way (it
        starts the next when it is done), and let every held message whose writes are
        durable leave."""
        if self._committer is None and self._written > self._durable:
            self._committer = asyncio.ensure_future(self._commit(self._written))
            self._committer.add_done_callback(self._committed)
        held = self._held
        if held and held[0][0] <= self._durable:
            durable = self._durable
            released = []
            while held and held[0][0] <= durable:
                released.append(held.popleft())
            if self._sender is not None:
                self._outbox.extend(released)
            else:
                self._send_released(released)

    def _committed(self, task: asyncio.Task[None]) -> None:
        """The next commit, and the messages this one made free to leave; a commit
        that failed (the disk) ends the node as a handler's exception does:
        :meth:`_run_node` raises it."""
        self._committer = None
        if task.cancelled():
            return
        if task.exception() is not None:
            self._flush_error = task.exception()
            self._wake.set()
            return
        self._flush_soon()

    async def _commit(self, through: int) -> None:
        """Group commit, off the event loop: make every write so far (at least those
        numbered up to ``through``) durable, in a worker thread. The status counts the
        commits and the time they took (``commits``, ``commit_us``: from the hand-off
        to the thread until the loop hears it is durable)."""
        started = time.perf_counter()
        await asyncio.to_thread(self.storage.sync)
        self._durable = max(self._durable, through)
        self.stats["commits"] += 1
        self.stats["commit_us"] += int((time.perf_counter() - started) * 1e6)

    async def _release(self) -> None:
        """Make every save so far durable, then let every held message leave: wait for
        the commit under way and run one more if anything waits."""
        while (
            self._committer is not None
            or self._sender is not None
            or self._held
            or self._written > self._durable
        ):
            self._flush_soon()
            busy = [t for t in (self._committer, self._sender) if t is not None]
            if busy:
                await asyncio.wait(busy)
            if self._flush_error is not None:
                raise self._flush_error

    def _send_released(self, released: list[tuple[int, str, Message, float]]) -> None:
        """Let messages whose saves are durable leave, in order: the messages for one
        destination go out together, as one frame. Replies that must wait for the
        peers' messages before them (see below) wait in a task; whatever is released
        meanwhile queues behind them."""
        batches: dict[str, list[tuple[float, Message]]] = {}
        for _, dst, msg, sent_at in released:
            if (self.id, dst) in self.blocked:
                self.stats["dropped_by_nemesis"] += 1
                continue
            batches.setdefault(dst, []).append((sent_at, msg))
        to_clients = []
        for dst, stamped in batches.items():
            link = self._peers.get(dst)
            if link is not None:
                link.push(self.node.coalesced(stamped))
            else:
                to_clients.append((dst, [msg for _, msg in stamped]))
        if not to_clients:
            return
        # A client's answer must not overtake the messages to the peers sent before it
        # (pb-crash answers without waiting, relying on a crash cutting only a tail of
        # its sends): wait until they are in the kernel's socket buffers, where a
        # SIGKILL of this process no longer loses them, for at most δ.
        writers = [link.writer() for link in self._peers.values()]
        pending = [w for w in writers if w is not None and w.transport.get_write_buffer_size()]
        if not pending:
            self._reply(to_clients)
            return
        self.stats["reply_waits"] += 1
        self._sender = asyncio.ensure_future(self._reply_after(pending, to_clients))

    async def _reply_after(
        self,
        pending: list[asyncio.StreamWriter],
        to_clients: list[tuple[str, list[Message]]],
    ) -> None:
        """Send the replies once ``pending`` are drained (at most δ), then whatever
        was released meanwhile, in order."""
        try:
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(w.drain() for w in pending)), self.config.delta_s
                )
            except (TimeoutError, ConnectionError):
                self.stats["reply_wait_timeouts"] += 1
            self._reply(to_clients)
        finally:
            self._sender = None
        released, self._outbox = self._outbox, []
        if released:
            self._send_released(released)

    def _set_timer(self, timer: Timer, at: float | None) -> None:
        if at is None:
            self._timers.cancel(timer)
            self._timer_at.pop(timer, None)
        else:
            self._timers.set(timer, at)
            self._timer_at[timer] = at
        self._arm()

    def _arm(self) -> None:
        """One loop timer, for the earliest of the node's timers."""
        at = self._timers.next_at()
        if at == self._wakeup_at and self._wakeup is not None:
            return
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        self._wakeup_at = math.inf if at is None else at
        if at is not None:
            delay = max(0.0, at - self.now())
            self._wakeup = asyncio.get_running_loop().call_later(delay, self._timers_due)

    def _timers_due(self) -> None:
        """Queue every timer due by now, in the order of the rule, behind the messages
        that arrived before."""
        self._wakeup = None
        self._wakeup_at = math.inf
        due = self._timers.pop_due(self.now())
        for timer, seq in due:
            self._control.append(("timer", timer, seq))
        if due:
            self._wake.set()
        self._arm()

    # --- outgoing messages ---------------------------------------------------------------

    def _reply(self, to_clients: list[tuple[str, list[Message]]]) -> None:
        """Send the messages for clients: one frame per client *connection* (not per
        client id), ``("r", id, time, ((client id, messages), …))``. A load process
        runs many sessions, each its own client id, over one connection: their answers
        of one batch share a frame, a MAC and a socket write."""
        by_channel: dict[Channel, list[tuple[str, tuple[Message, ...]]]] = {}
        for dst, msgs in to_clients:
            channel = self._clients.get(dst)
            if channel is None:
                self.stats["dropped_no_route"] += len(msgs)
                continue
            by_channel.setdefault(channel, []).append((dst, tuple(msgs)))
        now = time.time()
        for channel, sessions in by_channel.items():
            try:
                self.stats["reply_frames_out"] += send_in_frames(
                    channel, lambda part: ("r", self.id, now, part), tuple(sessions), self
                )
                self.stats["replies_out"] += sum(len(msgs) for _, msgs in sessions)
            except ConnectionError as error:
                self.stats["dropped_unsendable"] += sum(len(msgs) for _, msgs in sessions)
                log.info("%s cannot send to a client connection: %s", self.id, error)

    # --- incoming connections ------------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """One incoming connection: the handshake (at most ``HANDSHAKES_MAX`` at once,
        each within ``connect_timeout_s``), then at most so many connections per role,
        then its frames until it closes or misbehaves."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        channel: Channel | None = None
        role = ""
        try:
            if self._handshakes >= HANDSHAKES_MAX:
                self.stats["refused_handshakes"] += 1
                return
            self._handshakes += 1
            try:
                role, peer, keys = await asyncio.wait_for(
                    accept(reader, writer, self._keys), self.config.connect_timeout_s
                )
            finally:
                self._handshakes -= 1
            if role == ROLE_PEER and (peer is None or peer not in self._peers):
                raise FrameError("malformed", f"hello from unknown peer {peer!r}")
            channel = self._admit(role, peer, reader, writer, keys)
            if channel is None:
                self.stats[f"refused_{role}_connections"] += 1
                return
            if role == ROLE_PEER:
                assert peer is not None
                await self._read_peer(channel, peer)
            elif role == ROLE_CLIENT:
                await self._read_client(channel)
            else:
                await self._serve_admin(channel)
        except FrameError as error:
            self.stats[f"bad_frames_{error.kind}"] += 1
            log.warning("%s drops a connection: %s", self.id, error)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass  # shutting down: end quietly
        finally:
            if channel is not None and channel in self._channels[role]:
                self._channels[role].remove(channel)
            if not writer.is_closing():
                writer.close()
            self._tasks.discard(task)

    def _admit(
        self,
        role: str,
        peer: str | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        keys: tuple[bytes, bytes],
    ) -> Channel | None:
        """The channel of a connection that completed its handshake, or ``None`` if its
        role has all the connections it may have. A peer's newest connection replaces
        its oldest (a peer that reconnects is not refused)."""
        open_ = self._channels[role]
        if role == ROLE_PEER:
            mine = [c for c in open_ if c.peer_id == peer]
            if len(mine) >= PEER_CONNECTIONS_MAX:
                mine[0].close()
        elif len(open_) >= (
            self.config.client_connections_max if role == ROLE_CLIENT else ADMIN_CONNECTIONS_MAX
        ):
            return None
        trusted = role == ROLE_PEER
        channel = Channel(
            reader,
            writer,
            keys,
            acceptor=True,
            frame_bytes_max=self.config.frame_bytes_max
            if trusted
            else self.config.client_frame_bytes_max,
            budget=None if trusted else self._client_budget,
        )
        channel.peer_id = peer
        open_.append(channel)
        return channel

    async def _read_peer(self, channel: Channel, peer: str) -> None:
        while True:
            frame = await channel.recv()
            if not (
                isinstance(frame, tuple)
                and len(frame) == 4
                and frame[0] == "b"
                and frame[1] == peer
                and isinstance(frame[2], float)
                and isinstance(frame[3], tuple)
                and all(isinstance(msg, Message) for msg in frame[3])
            ):
                raise FrameError("malformed", f"not a message frame from {peer}")
            self.stats["frames_in"] += 1
            if (peer, self.id) in self.blocked:
                self.stats["dropped_by_nemesis"] += len(frame[3])
                continue
            for msg in frame[3]:
                await self._deliver(peer, msg, frame[2])

    async def _read_client(self, channel: Channel) -> None:
        while True:
            frame = await channel.recv()
            if isinstance(frame, tuple) and len(frame) == 2 and frame[0] == "sessions":
                self._register_sessions(channel, frame[1])
                continue
            if not (
                isinstance(frame, tuple)
                and len(frame) == 4
                and frame[0] == "b"
                and isinstance(frame[3], tuple)
            ):
                raise FrameError("malformed", "not a message frame from a client")
            for request in frame[3]:
                problem = _request_problem(request)
                if problem is not None:
                    raise FrameError("malformed", problem)
            for request in frame[3]:
                self.stats["requests_in"] += 1
                self._route_client(request.client, channel)
                if (request.client, self.id) in self.blocked:
                    self.stats["dropped_by_nemesis"] += 1
                    continue
                await self._deliver(request.client, request)

    def _register_sessions(self, channel: Channel, ids: object) -> None:
        """A client names the client ids it uses, so that messages for them (a new
        primary's hint above all) reach it even before it sends us a request."""
        if not (
            isinstance(ids, tuple)
            and len(ids) <= SESSIONS_PER_FRAME_MAX
            and all(isinstance(i, str) and is_client(i) for i in ids)
        ):
            raise FrameError("malformed", "sessions frame is not a tuple of client ids")
        for client in ids:
            self._route_client(client, channel)

    def _route_client(self, client: str, channel: Channel) -> None:
        self._clients[client] = channel
        self._clients.move_to_end(client)
        if len(self._clients) > CLIENT_IDS_MAX:
            self._clients.popitem(last=False)

    async def _deliver(self, src: str, msg: Message, sent_at: float | None = None) -> None:
        """Queue an input for the node. Timers and the peers' messages go first, in the
        order they came; client requests wait behind them, at most ``inbox_max``
        (beyond that, reading from clients pauses): a burst of requests must not delay
        the protocol's own traffic — a heartbeat handled late is a false suspicion. A
        request a backup relays for a client waits there too; if there is no room it is
        dropped and counted (its client retries): a peer's reader never pauses."""
        if isinstance(msg, RelayedRequest):
            if len(self._requests) >= self.config.inbox_max:
                self.stats["relayed_dropped"] += 1
                return
            self._requests.append(("m", src, msg, None))
            self._wake.set()
        elif isinstance(msg, ClientRequest) and src == msg.client:
            self._requests.append(("m", src, msg, None))
            self._wake.set()
            if len(self._requests) >= self.config.inbox_max:
                self._room.clear()
                await self._room.wait()
        else:
            self._control.append(("m", src, msg, sent_at))
            self._wake.set()

    # --- admin endpoint ------------------------------------------------------------------

    async def _serve_admin(self, channel: Channel) -> None:
        while True:
            request = await channel.recv()
            if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
                raise FrameError("malformed", "admin request is not {cmd: …}")
            channel.send(self.admin(request))
            await channel.writer.drain()

    def admin(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one admin request: ``status``, ``block`` (links) or ``heal``."""
        cmd = request["cmd"]
        if cmd == "block":
            links = request.get("links")
            if not isinstance(links, tuple) or not all(
                isinstance(link, tuple) and len(link) == 2 for link in links
            ):
                return {"ok": False, "error": "block needs links: [[src, dst], …]"}
            self.blocked = {(str(a), str(b)) for a, b in links}
            log.warning("%s nemesis: links blocked %s", self.id, sorted(self.blocked))
        elif cmd == "heal":
            self.blocked = set()
            log.warning("%s nemesis: healed", self.id)
        elif cmd != "status":
            return {"ok": False, "error": f"unknown admin command {cmd!r}"}
        return {"ok": True, **self.status()}

    def status(self) -> dict[str, Any]:
        node = self.node
        return {
            "id": self.id,
            "pid": os.getpid(),
            "protocol": self.config.protocol,
            "serving": self.started and self.halted is None,
            "halted": self.halted,
            "is_primary": node.is_primary,
            "primary": getattr(node, "primary", None),
            "applied": node.applied_offset + len(node.applied),  # a snapshot's too
            **election_state(node),
            "recovered": self.recovered,
            "incarnation": self.incarnation,
            "restarts": self.incarnation - 1,
            "last_halt": self.earlier_halts[-1] if self.earlier_halts else None,
            "earlier_halts": self.earlier_halts[-5:],
            "timing": {
                "late_messages": self.stats["late_messages"],
                "late_timers": self.stats["late_timers"],
            },
            "now": self.now(),
            "blocked": sorted(self.blocked),
            "stats": {**self.stats, "timers_set_in_the_past": self.out.late},
            "storage": {
                "engine": type(self.storage).__name__,
                "compactions": getattr(self.storage, "compactions", 0),
                "torn_bytes": getattr(self.storage, "torn_bytes", 0),
            },
            "anomalies": dict(getattr(node, "anomalies", {})),
            "relayed": _relayed(node),
        }


def election_state(node: object) -> dict[str, Any]:
    """What a protocol with terms and votes (Raft: :mod:`smrkit.protocols.raft`) shows
    of them: its ``role``, ``term``, ``voted_for``, ``leader``, the last index of its
    ``log`` and its ``commit`` index — each only if the node has it (the primary-backup
    protocols have none of them). After a restart, the first three and the log are
    what the replica read back from its disk."""
    found: dict[str, Any] = {}
    for name in ("role", "term", "voted_for", "leader", "commit"):
        value = getattr(node, name, False)
        if value is None or (isinstance(value, str | int) and not isinstance(value, bool)):
            found[name] = value  # None: no vote, no leader known
    last = getattr(getattr(node, "log", None), "last_index", None)
    if isinstance(last, int):
        found["log_last"] = last
    return found


def _relayed(node: object) -> dict[str, int]:
    """What this replica relayed for clients whose link to the primary fails
    (:mod:`smrkit.protocols.primary_backup.client_relay`): requests and replies."""
    relay = getattr(node, "client_relay", None)
    if relay is None:
        return {"requests": 0, "replies": 0}
    return {"requests": relay.requests, "replies": relay.replies}


def _is_value(value: object, depth: int = 0) -> bool:
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, tuple) and depth < 8:
        return all(_is_value(item, depth + 1) for item in value)
    return False


def _request_problem(request: object) -> str | None:
    """Why a client's message is not an acceptable request (``None`` if it is)."""
    if not isinstance(request, ClientRequest):
        return f"clients may only send requests, got {type(request).__name__}"
    if not isinstance(request.client, str) or not is_client(request.client):
        return "the request's client id is not a client id"
    if not isinstance(request.seq, int) or isinstance(request.seq, bool) or request.seq < 1:
        return "the request's sequence number is not a positive integer"
    if request.previous is not None and not (
        isinstance(request.previous, str) and is_server(request.previous)
    ):
        return "the request's previous server is not a server id"
    op = request.op
    if not isinstance(op, Op) or not isinstance(op.f, str):
        return "the request's op is not an op"
    if op.key is not None and not isinstance(op.key, str):
        return "the op's key is not a string"
    value: Value = op.value
    if not _is_value(value):
        return "the op's value is not a plain value"
    return None


def send_in_frames(
    channel: Channel,
    frame: Callable[[tuple[Any, ...]], object],
    msgs: tuple[Any, ...],
    server: ReplicaServer,
) -> int:
    """Write ``msgs`` (messages, or a client's ``(id, messages)``) as ``frame(msgs)``,
    split into as many frames as it takes to keep each under the channel's limit; a
    single item too large to send (or to encode) is dropped and counted. Returns the
    number of frames written. Raises ``ConnectionError`` if the connection is gone."""
    try:
        body = encode(frame(msgs))
    except CodecError as error:
        if len(msgs) == 1:
            server.stats["dropped_unencodable"] += 1
            log.error("%s cannot encode %s: %s", server.id, type(msgs[0]).__name__, error)
            return 0
        body = b""
    if body and channel.fits(body):
        channel.send_encoded(body)
        server.stats["frames_out"] += 1
        return 1
    if len(msgs) > 1:
        half = len(msgs) // 2
        return send_in_frames(channel, frame, msgs[:half], server) + send_in_frames(
            channel, frame, msgs[half:], server
        )
    server.stats["dropped_oversize"] += 1
    log.error("%s cannot send a %s of %d bytes", server.id, type(msgs[0]).__name__, len(body))
    return 0


class _PeerLink:
    """The outgoing connection to one peer: a bounded queue and a task that keeps the
    connection up and writes the queue to it."""

    def __init__(self, server: ReplicaServer, peer: str) -> None:
        self.server = server
        self.peer = peer
        self.queue: collections.deque[tuple[float, Message]] = collections.deque()
        """Messages waiting for the connection, each with when it was sent."""
        self.up_since = 0.0
        """When the connection last came up: a message that waited for it counts its
        delay from then (δ bounds the links between live, connected replicas)."""
        self.ready = asyncio.Event()
        self.channel: Channel | None = None
        """Set once the connection is up and the queue drained into it."""

    def writer(self) -> asyncio.StreamWriter | None:
        return None if self.channel is None else self.channel.writer

    def push(self, stamped: list[tuple[float, Message]]) -> None:
        """Write the messages now if connected and nothing is queued before them (so they
        leave in the order of the step), else queue them for the link's task. Each comes
        with when it was sent (:attr:`ReplicaServer._sent_at`)."""
        server = self.server
        if self.channel is not None and not self.queue:
            for start in range(0, len(stamped), MESSAGES_PER_FRAME_MAX):
                part = stamped[start : start + MESSAGES_PER_FRAME_MAX]
                if not self._send(self.channel, part):
                    break
            else:
                return
            stamped = stamped[start:]
        room = server.config.outbound_queue_max - len(self.queue)
        if room < len(stamped):
            server.stats["dropped_queue_full"] += len(stamped) - max(0, room)
            stamped = stamped[: max(0, room)]
        self.queue.extend(stamped)
        self.ready.set()

    def _send(self, channel: Channel, stamped: list[tuple[float, Message]]) -> bool:
        """Write one frame, stamped with when its oldest message was sent (or when the
        connection came up, if later); ``False`` if the connection is gone (the caller
        queues)."""
        server = self.server
        sent_at = max(self.up_since, min(at for at, _ in stamped))
        msgs = tuple(msg for _, msg in stamped)
        try:
            send_in_frames(channel, lambda part: ("b", server.id, sent_at, part), msgs, server)
        except ConnectionError:
            self.channel = None
            return False
        return True

    async def run(self) -> None:
        server = self.server
        config = server.config
        host, port = config.replicas[self.peer]
        backoff = RECONNECT_S_MIN
        while True:
            channel: Channel | None = None
            try:
                channel = await connect(
                    host,
                    port,
                    server.secret,
                    role=ROLE_PEER,
                    node_id=server.id,
                    frame_bytes_max=config.frame_bytes_max,
                    timeout_s=config.connect_timeout_s,
                )
                backoff = RECONNECT_S_MIN
                self.up_since = time.time()
                # drain() then waits until every byte is in the kernel (see _release)
                channel.writer.transport.set_write_buffer_limits(high=0)
                self.ready.set()
                while True:
                    await self.ready.wait()
                    self.ready.clear()
                    while self.queue:
                        count = min(len(self.queue), MESSAGES_PER_FRAME_MAX)
                        if not self._send(channel, [self.queue.popleft() for _ in range(count)]):
                            raise ConnectionResetError("the connection closed")
                    self.channel = channel
                    await channel.writer.drain()
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                server.stats["peer_reconnects"] += 1
            finally:
                self.channel = None
                if channel is not None:
                    channel.close()
            await asyncio.sleep(backoff)
            backoff = min(RECONNECT_S_MAX, backoff * 2)


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr, each kind of message at most so often (:mod:`.log_limit`)."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RateLimit())


def _raise_open_files_limit() -> None:
    """Allow as many open files as the hard limit does: connections are capped by the
    runtime (``client_connections_max``…), not by running out of descriptors."""
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY:
            hard = 65536
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass


def run_replica(
    config: ClusterConfig, node_id: str, start_at: float, *, incarnation: int = 1
) -> str | None:
    """Run one incarnation of a replica in this process until it is stopped (returns
    ``None``) or its protocol halts it (returns why, also written for the supervisor
    to ``run/<id>.halt``: :mod:`smrkit.net.supervisor`); on uvloop if installed."""
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        pass
    else:
        uvloop.install()

    os.umask(0o077)  # whatever the replica writes is its owner's only
    _raise_open_files_limit()
    life = read_life(config, node_id) or {}
    halts = [str(h.get("reason")) for h in life.get("halts", []) if isinstance(h, dict)]
    server = ReplicaServer(
        config, node_id, start_at=start_at, incarnation=incarnation, earlier_halts=halts
    )
    reason = asyncio.run(server.serve())
    if server.halted is None:
        return None
    with contextlib.suppress(OSError):
        private_dir(halt_path(config, node_id).parent)
        with open_private(halt_path(config, node_id)) as handle:
            handle.write(server.halted + "\n")
    return reason
