"""The replicated state every replica keeps: the application, the log of applied
commands, and the reply cache that makes retried commands take effect exactly once.

A client retries with the same ``(client, seq)``. Clients issue one command at a time,
so one cache entry per client (its latest sequence number and the result) is enough to
answer a retry without applying it twice; the cache is part of the replicated state, so
a new primary answers retries of commands its predecessor applied. The cache is bounded
(``clients_max``); the least recently active client is forgotten first.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from smrkit.apps import make_app
from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest
from smrkit.core.node import Out
from smrkit.core.ops import Command, Value
from smrkit.core.state_machine import InvalidOperationError

CLIENTS_MAX_DEFAULT = 10_000


class Freshness(Enum):
    NEW = "new"  # never seen: apply it
    DUPLICATE = "duplicate"  # the latest command of this client: answer from the cache
    STALE = "stale"  # older than the latest: the client has moved on; ignore


class ReplicatedService:
    """Application state + applied log + reply cache."""

    def __init__(self, app: str, clients_max: int = CLIENTS_MAX_DEFAULT) -> None:
        self.app = make_app(app)
        self.log: list[Command] = []
        self._replies: dict[NodeId, tuple[int, Value]] = {}
        self._clients_max = clients_max

    def freshness(self, client: NodeId, seq: int) -> Freshness:
        entry = self._replies.get(client)
        if entry is None or seq > entry[0]:
            return Freshness.NEW
        return Freshness.DUPLICATE if seq == entry[0] else Freshness.STALE

    def cached_result(self, client: NodeId, seq: int) -> Value:
        entry = self._replies[client]
        assert entry[0] == seq, f"no cached result for {client}#{seq}"
        return entry[1]

    def admit(self, src: NodeId, request: ClientRequest, out: Out) -> tuple[Command, Value] | None:
        """Execute a new request at the primary and return it with its result, for the
        caller to replicate and answer. Requests that need no replication are dealt with
        here: a stale retry is ignored, a retry of the latest command is answered from
        the cache, and an op the application rejects is answered with the error (the
        application checks before it changes anything, so nothing was applied)."""
        freshness = self.freshness(request.client, request.seq)
        if freshness is Freshness.STALE:
            return None
        if freshness is Freshness.DUPLICATE:
            result = self.cached_result(request.client, request.seq)
            out.send(src, ClientReply(request.client, request.seq, result))
            return None
        command = Command(request.client, request.seq, request.op)
        try:
            return command, self.execute(command)
        except InvalidOperationError as error:
            out.send(src, ClientReply(request.client, request.seq, None, str(error)))
            return None

    def execute(self, command: Command) -> Value:
        """Apply a command, log it and cache its result. Raises
        :class:`InvalidOperationError` (and changes nothing) if the application rejects it."""
        result = self.app.apply(command.op)
        self.log.append(command)
        self._remember(command.client, command.seq, result)
        return result

    def _remember(self, client: NodeId, seq: int, result: Value) -> None:
        self._replies.pop(client, None)
        self._replies[client] = (seq, result)
        if len(self._replies) > self._clients_max:
            oldest = next(iter(self._replies))
            del self._replies[oldest]

    def clients_to_tell(self, configured: Sequence[NodeId]) -> list[NodeId]:
        """Whom a new primary tells about itself: the configured clients, then every
        other client it has served (its replies are in the replicated cache)."""
        known = list(configured)
        known.extend(c for c in self._replies if c not in configured)
        return known
