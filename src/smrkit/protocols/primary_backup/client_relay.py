"""Untrusted clients: a backup relays a client's requests to the primary instead of
taking the client's word that the primary omits messages.

Why. Under seed 001's failure models clients are correct, so a client's word that its
attempt at the primary went unanswered (``ClientRequest.previous``) is evidence, and
the quorum engine halts such a primary (:mod:`.quorum`). A real client holds only a
shared token: its word proves nothing (seed 000: a server cannot tell its own omission
from a client's), and one lying request must not halt a correct primary. Without the
word, though, a primary that omits to one client is never found out, and that client —
sent back to the primary by every backup's hint — would never be served.

The algorithm. A backup that knows the primary of its epoch, and gets a request that
names a server that left its previous attempt unanswered (``previous`` set), or one of a
client it already relays for in this epoch, does not hint: it passes the request on over
the server-to-server link (:class:`~smrkit.core.messages.RelayedRequest`) and remembers
the client for this epoch (a *relay session*). The primary processes a relayed request
as any other — the reply cache makes it take effect once, however many paths its copies
took — and answers the backup, which passes the :class:`ClientReply` on. The client
never sees a hint, so its ``Dest`` stays the backup while relaying works, and it is
served as long as the primary's links to the servers are (the leases watch those).
A new epoch ends every relay session: the backup hints the new primary again. The
price is paid by correct clients too: one that turned to a backup during a failover
(its previous attempt reached a server not yet primary) is relayed, one hop longer,
for the rest of the new epoch — a backup cannot tell it from one whose link fails.

Pb2 and Pb3 hold: the client sends only to its ``Dest``; the backup enqueues and applies
nothing, and a relayed request that reaches a server that is no longer the primary is
dropped. What a lying client gains is one more hop for its own requests: no server
halts on its word, and each of its requests costs one relayed message and one relayed
reply, as it would cost the primary directly. Relay sessions are bounded
(``sessions_max``, least recently used first out).

Failure and timing model: seed 001's omission models with clients that may lie; links
deliver within δ. Bounds (derived in :mod:`.quorum`, "Untrusted clients"): a client
whose link to the primary fails is served again within ``R`` time-outs and 6δ of its
first unanswered attempt (``R`` its rotation: the time-outs in a row after which it
turns to the next server), and then by relay for the rest of the epoch.
"""

from __future__ import annotations

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest, RelayedRequest
from smrkit.core.node import Out
from smrkit.core.state import Configured

RELAY_ROTATE_AFTER = 1
"""Where clients are untrusted, the standard client turns to the next server at its
first time-out: no retry at the same server is evidence against it, and a client whose
link to the primary fails is relayed from then on (see the bounds above)."""


class ClientRelay(Configured):
    """One backup's relay sessions: the clients whose requests it passes on, each with
    the epoch of the primary it passes them to and where its requests come from (where
    the replies go); and what it relayed (counts)."""

    config_fields = ("sessions_max",)

    def __init__(self, sessions_max: int) -> None:
        self.sessions_max = sessions_max
        self.sessions: dict[NodeId, tuple[int, NodeId]] = {}
        self.requests = 0
        """Requests passed on to the primary."""
        self.replies = 0
        """Replies passed back to clients."""

    def wants(self, request: ClientRequest, epoch: int) -> bool:
        """Whether a backup whose primary is of ``epoch`` relays ``request``: its client
        says an earlier attempt went unanswered, or it relays for that client already."""
        session = self.sessions.get(request.client)
        return request.previous is not None or (session is not None and session[0] == epoch)

    def relay(
        self, src: NodeId, primary: NodeId, epoch: int, request: ClientRequest, out: Out
    ) -> None:
        """Pass ``request``, from ``src``, on to ``primary``; keep relaying for its client."""
        self.sessions.pop(request.client, None)
        self.sessions[request.client] = (epoch, src)
        if len(self.sessions) > self.sessions_max:
            del self.sessions[next(iter(self.sessions))]
        self.requests += 1
        out.send(primary, RelayedRequest(request))

    def pass_reply(self, reply: ClientReply, out: Out) -> bool:
        """Pass a primary's reply on to a client this backup relays for; ``False`` (and
        nothing sent) for any other client."""
        session = self.sessions.get(reply.client)
        if session is None:
            return False
        self.replies += 1
        out.send(session[1], reply)
        return True
