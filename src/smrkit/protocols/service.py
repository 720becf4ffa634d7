"""The replicated state every replica keeps: the application, the log of applied
commands, and the reply cache that makes retried commands take effect exactly once.

A client retries with the same ``(client, seq)``. Clients issue one command at a time,
so one cache entry per client (its latest sequence number and the result) is enough to
answer a retry without applying it twice; the cache is part of the replicated state, so
a new primary answers retries of commands its predecessor applied.

Sessions. A client id is a *session*: it starts at sequence number 1 and the cache
remembers it. The cache is bounded (``clients_max``): once more sessions are active,
the one least recently active *expires* — the service forgets it. Expiry is driven by
the log (by the order of applied commands, never by a clock), so every replica expires
the same sessions at the same entry. Once a session has expired, a request of an
unknown session (a sequence number above 1 from a client the service does not know)
is refused with
:data:`SESSION_EXPIRED`, never applied again: its command may have taken effect before
the session expired, so the client learns that its outcome is unknown, as in Raft's
client sessions. A client that cannot afford to have even its first command refused
opens its session with :data:`SESSION_OPEN`, a command that changes nothing (so a
replay of it is harmless) — the client library does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum

from smrkit.apps import make_app
from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest
from smrkit.core.node import Out
from smrkit.core.ops import Command, Value
from smrkit.core.state_machine import InvalidOperationError, StateMachine

CLIENTS_MAX_DEFAULT = 10_000
SESSION_OPEN = "open-session"
"""The op that opens a session: applied like any command, it changes nothing."""
SESSION_EXPIRED = "session expired"
"""The start of the error of a request of a session the service has forgotten."""


class Freshness(Enum):
    NEW = "new"  # never seen: apply it
    DUPLICATE = "duplicate"  # the latest command of this client: answer from the cache
    STALE = "stale"  # older than the latest: the client has moved on; ignore
    EXPIRED = "expired"  # a later command of a session the service forgot: refuse


class ReplicatedService:
    """Application state + applied log + reply cache."""

    def __init__(
        self, app: str | Callable[[], StateMachine], clients_max: int = CLIENTS_MAX_DEFAULT
    ) -> None:
        """``app`` names a registered application, or builds any deterministic state
        machine (a protocol replicating its own state, such as a chain's configuration)."""
        if clients_max < 1:
            raise ValueError(f"a service remembers at least one session, not {clients_max}")
        self.app: StateMachine = make_app(app) if isinstance(app, str) else app()
        self.log: list[Command] = []
        self._replies: dict[NodeId, tuple[int, Value, str | None]] = {}
        self._clients_max = clients_max
        self.forgotten = 0
        """Sessions expired so far. Until one has, every session ever opened is known,
        and a later command of an unknown client is applied as new (only a protocol that
        lost state could send one; the checkers then see what it lost)."""

    def freshness(self, client: NodeId, seq: int) -> Freshness:
        entry = self._replies.get(client)
        if entry is None:
            return Freshness.EXPIRED if seq > 1 and self.forgotten else Freshness.NEW
        if seq > entry[0]:
            return Freshness.NEW
        return Freshness.DUPLICATE if seq == entry[0] else Freshness.STALE

    def cached_result(self, client: NodeId, seq: int) -> Value:
        return self.cached_reply(client, seq)[0]

    def cached_reply(self, client: NodeId, seq: int) -> tuple[Value, str | None]:
        """The cached ``(result, error)`` of the client's latest command."""
        entry = self._replies[client]
        assert entry[0] == seq, f"no cached result for {client}#{seq}"
        return entry[1], entry[2]

    def admit(self, src: NodeId, request: ClientRequest, out: Out) -> tuple[Command, Value] | None:
        """Execute a new request at the primary and return it with its result, for the
        caller to replicate and answer. Requests that need no replication are dealt with
        here: a stale retry is ignored, a retry of the latest command is answered from
        the cache, and an op the application rejects is answered with the error (the
        application checks before it changes anything, so nothing was applied)."""
        freshness = self.freshness(request.client, request.seq)
        if freshness is Freshness.STALE:
            return None
        if freshness is Freshness.EXPIRED:
            out.send(src, ClientReply(request.client, request.seq, None, self.expired(request)))
            return None
        if freshness is Freshness.DUPLICATE:
            result, error = self.cached_reply(request.client, request.seq)
            out.send(src, ClientReply(request.client, request.seq, result, error))
            return None
        command = Command(request.client, request.seq, request.op)
        try:
            return command, self.execute(command)
        except InvalidOperationError as error:
            out.send(src, ClientReply(request.client, request.seq, None, str(error)))
            return None

    def expired(self, request: ClientRequest) -> str:
        """The error that refuses a request of a session the service forgot."""
        return (
            f"{SESSION_EXPIRED}: {request.client} is not among the {self._clients_max} "
            "sessions the service remembers; the outcome of its last command is unknown; "
            "open a new session"
        )

    def apply_ordered(self, command: Command) -> tuple[Value, str | None] | None:
        """Apply a command a protocol ordered *before* executing it (Raft commits a
        command, then every replica applies it): exactly once per ``(client, seq)``.
        Returns the ``(result, error)`` to answer with — a command ordered twice (a
        retry appended by two leaders) is answered from the cache, an op the
        application rejects is answered with the error, cached too, as every replica
        rejects it alike — or ``None`` for a command its client has moved on from."""
        freshness = self.freshness(command.client, command.seq)
        if freshness is Freshness.STALE:
            return None
        if freshness is Freshness.DUPLICATE:
            return self.cached_reply(command.client, command.seq)
        if freshness is Freshness.EXPIRED:
            request = ClientRequest(command.client, command.seq, command.op)
            return None, self.expired(request)
        try:
            return self.execute(command), None
        except InvalidOperationError as error:
            self._remember(command.client, command.seq, None, str(error))
            return None, str(error)

    def snapshot(self) -> tuple[Value, tuple[tuple[NodeId, int, Value, str | None], ...], int]:
        """The replicated state as plain data: the application's snapshot, the session
        cache (oldest first) and how many sessions expired so far."""
        sessions = tuple((c, seq, r, e) for c, (seq, r, e) in self._replies.items())
        return self.app.snapshot(), sessions, self.forgotten

    def restore(
        self, snapshot: tuple[Value, tuple[tuple[NodeId, int, Value, str | None], ...], int]
    ) -> None:
        """Replace the replicated state by one taken with :meth:`snapshot`."""
        app, sessions, forgotten = snapshot
        self.app.restore(app)
        self._replies = {c: (seq, r, e) for c, seq, r, e in sessions}
        self.forgotten = forgotten

    def execute(self, command: Command) -> Value:
        """Apply a command, log it and cache its result. Raises
        :class:`InvalidOperationError` (and changes nothing) if the application rejects it."""
        result = None if command.op.f == SESSION_OPEN else self.app.apply(command.op)
        self.log.append(command)
        self._remember(command.client, command.seq, result)
        return result

    def _remember(self, client: NodeId, seq: int, result: Value, error: str | None = None) -> None:
        self._replies.pop(client, None)
        self._replies[client] = (seq, result, error)
        if len(self._replies) > self._clients_max:
            oldest = next(iter(self._replies))
            del self._replies[oldest]
            self.forgotten += 1

    def clients_to_tell(self, configured: Sequence[NodeId]) -> list[NodeId]:
        """Whom a new primary tells about itself: the configured clients, then every
        other client it has served (its replies are in the replicated cache)."""
        known = list(configured)
        known.extend(c for c in self._replies if c not in configured)
        return known
