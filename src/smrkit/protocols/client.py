"""The standard client: a sans-I/O node that keeps ``Dest`` and retries.

It issues one command at a time, taken from an :class:`OpSource` (the simulator's
workload), after a pause drawn uniformly from ``[0, think_s]``, and sends it to its
``Dest`` only (property Pb2 of seed 001). When the reply
does not come within ``timeout_s`` it resends the same ``(client, seq)`` — replicas answer
a retry from their reply cache, so a command takes effect at most once. A
:class:`~smrkit.core.PrimaryHint` with a higher view than any seen before moves ``Dest``
to the named server and resends at once; this is how a service with D < Γ tells its
clients about a new primary (a hint naming a server the client does not know is counted
and dropped). After ``rotate_after`` time-outs in a row with no news the
client tries the next server, so it also finds a primary that could not reach it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.node import ClientNode, Out, Timer
from smrkit.core.ops import Op

if TYPE_CHECKING:
    import random  # only the type of ``out.rng``; randomness comes from the runtime

RETRY = "retry"
THINK = "think"
ROTATE_AFTER = 3
"""Time-outs in a row after which the standard client tries the next server."""


class OpSource(Protocol):
    """Where a client's commands come from."""

    def next_op(self, client: NodeId, rng: random.Random) -> Op | None:
        """The next op for ``client``, or ``None`` when it has nothing more to do."""
        ...


@dataclass(frozen=True)
class ClientConfig:
    """A client's immutable configuration: the servers it may address, its retry
    time-out, the longest pause between ops, and how many time-outs in a row make it try
    the next server."""

    servers: tuple[NodeId, ...]
    timeout_s: float
    think_s: float
    rotate_after: int


class StandardClient(ClientNode):
    """The op source (``ops``) is state, not configuration: a workload hands out ops to
    all clients and remembers what it handed out."""

    def __init__(
        self,
        node_id: NodeId,
        servers: Sequence[NodeId],
        ops: OpSource,
        *,
        timeout_s: float,
        think_s: float = 0.0,
        rotate_after: int = ROTATE_AFTER,
    ) -> None:
        super().__init__(node_id)
        if not servers:
            raise ValueError("a client needs at least one server")
        if timeout_s <= 0:
            raise ValueError(f"client time-out must be positive, got {timeout_s}")
        self.config = ClientConfig(tuple(servers), timeout_s, think_s, rotate_after)
        self.ops = ops
        self.dest = servers[0]
        self.view = 0
        self.seq = 0
        self.pending: ClientRequest | None = None
        self.timeouts_in_a_row = 0
        self.completed = 0
        self.strange_hints = 0
        """Hints naming a server this client does not know (a Byzantine server's)."""

    def on_start(self, out: Out) -> None:
        self._issue_next(out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, ClientReply):
            self._on_reply(msg, out)
        elif isinstance(msg, PrimaryHint):
            self._on_hint(msg, out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer == RETRY and self.pending is not None:
            self.timeouts_in_a_row += 1
            silent = self.dest
            if self.timeouts_in_a_row >= self.config.rotate_after:
                self.timeouts_in_a_row = 0
                servers = self.config.servers
                index = servers.index(self.dest) if self.dest in servers else -1
                self.dest = servers[(index + 1) % len(servers)]
            self._send_pending(out, previous=silent)
        elif timer == THINK:
            self._issue_next(out)

    def _on_reply(self, reply: ClientReply, out: Out) -> None:
        pending = self.pending
        if pending is None or reply.client != self.id or reply.seq != pending.seq:
            return
        self.pending = None
        self.timeouts_in_a_row = 0
        self.completed += 1
        out.cancel_timer(RETRY)
        if self.config.think_s > 0:
            out.set_timer(THINK, out.rng.uniform(0.0, self.config.think_s))
        else:
            self._issue_next(out)

    def _on_hint(self, hint: PrimaryHint, out: Out) -> None:
        if hint.primary not in self.config.servers:
            self.strange_hints += 1  # a faulty peer's: counted and dropped
            return
        if hint.view < self.view or (hint.view == self.view and hint.primary == self.dest):
            return
        self.view = hint.view
        self.timeouts_in_a_row = 0
        if hint.primary != self.dest:
            self.dest = hint.primary
            if self.pending is not None:
                self._send_pending(out)

    def _issue_next(self, out: Out) -> None:
        op = self.ops.next_op(self.id, out.rng)
        if op is None:
            self.done = True
            return
        self.seq += 1
        self.pending = ClientRequest(self.id, self.seq, op)
        self._send_pending(out)

    def _send_pending(self, out: Out, *, previous: NodeId | None = None) -> None:
        assert self.pending is not None and self.dest is not None
        if self.pending.previous != previous:
            self.pending = replace(self.pending, previous=previous)
        out.send(self.dest, self.pending)
        out.set_timer(RETRY, self.config.timeout_s)
