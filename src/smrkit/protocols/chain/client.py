"""The chain-aware client: updates to the head, queries to the tail.

It is the standard client (:mod:`smrkit.protocols.client`: one command at a time,
retries with the same ``(client, seq)``) with two destinations instead of one ``Dest``:
the head and the tail of the latest chain it heard of. A replica that is not the one a
request needs answers with a :class:`~smrkit.protocols.chain.messages.ChainHint`; a hint
moves both (one of a later epoch also resends at once). After ``rotate_after`` time-outs in a
row the client tries the next server for the role the pending command needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientRequest, Message
from smrkit.core.node import Out, Timer
from smrkit.protocols.chain.messages import ChainHint
from smrkit.protocols.client import RETRY, OpSource, StandardClient


class ChainClient(StandardClient):
    def __init__(
        self,
        node_id: NodeId,
        servers: Sequence[NodeId],
        ops: OpSource,
        *,
        timeout_s: float,
        read_only: frozenset[str],
        think_s: float = 0.0,
    ) -> None:
        super().__init__(node_id, servers, ops, timeout_s=timeout_s, think_s=think_s)
        self.read_only = read_only
        self.head = servers[0]
        self.tail = servers[-1]

    def _target(self, request: ClientRequest) -> NodeId:
        return self.tail if request.op.f in self.read_only else self.head

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, ChainHint):
            self._on_chain_hint(msg, out)
        else:
            super().on_message(src, msg, out)

    def _on_chain_hint(self, hint: ChainHint, out: Out) -> None:
        if not hint.chain or any(s not in self.config.servers for s in hint.chain):
            self.strange_hints += 1
            return
        if hint.epoch < self.view:
            return
        later = hint.epoch > self.view
        self.view = hint.epoch
        self.head, self.tail = hint.chain[0], hint.chain[-1]
        if later:  # news: resend at once (an equal epoch's hint waits for the retry)
            self.timeouts_in_a_row = 0
            if self.pending is not None:
                self._send_pending(out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        pending = self.pending
        if timer != RETRY or pending is None:
            super().on_timer(timer, out)
            return
        self.timeouts_in_a_row += 1
        if self.timeouts_in_a_row >= self.config.rotate_after:
            self.timeouts_in_a_row = 0
            servers = self.config.servers
            target = self._target(pending)
            following = servers[(servers.index(target) + 1) % len(servers)]
            if pending.op.f in self.read_only:
                self.tail = following
            else:
                self.head = following
        self._send_pending(out)

    def _send_pending(self, out: Out, *, previous: NodeId | None = None) -> None:
        assert self.pending is not None
        self.dest = self._target(self.pending)
        super()._send_pending(out, previous=previous)
