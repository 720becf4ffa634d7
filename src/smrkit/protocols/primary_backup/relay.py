"""Redundant paths between servers: every message travels directly and through each
other server, so that f faulty links or servers cannot cut two correct servers apart.

With n servers, a message from s to r has n − 1 disjoint paths: the direct link and one
two-hop path through each of the other n − 2 servers. A faulty link or a crashed relay
breaks at most one of them, so with n ≥ f + 2 at least one path survives any f faults
and the message arrives within 2δ (seed 001 §5, the crash+link protocol: "a primary
ensures any message sent to a backup is sent across at least one nonfaulty path").

An :class:`Envelope` carries the original sender, the final destination and a sequence
number; a relay forwards envelopes addressed to someone else, and the destination keeps
the first copy of each ``(origin, seq)`` and drops the rest. All copies of one message
leave before any copy of the next, so a crash in the middle of a broadcast cuts a suffix
of the copies, as it cuts a suffix of plain sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out
from smrkit.core.state import Configured

SEEN_PER_ORIGIN_MAX = 4096
"""Duplicates arrive within 2δ of the first copy; this many recent sequence numbers per
origin is far more than can be in flight, and bounds the memory."""


@dataclass(frozen=True, slots=True)
class Envelope(Message):
    """``payload`` from ``origin`` to ``dest``, the ``seq``-th message ``origin`` sent."""

    origin: NodeId
    dest: NodeId
    seq: int
    payload: Message


class Relay(Configured):
    """One server's end of the redundant paths: sends over every path, forwards for
    others, and delivers each message once. ``me`` and ``servers`` are configuration;
    the sequence numbers sent and seen are state."""

    config_fields = ("me", "servers")

    def __init__(self, me: NodeId, servers: Iterable[NodeId]) -> None:
        self.me = me
        self.servers = tuple(servers)
        self._next_seq = 0
        self._seen: dict[NodeId, set[int]] = {}
        self._floor: dict[NodeId, int] = {}
        self.duplicates = 0

    def send(self, dst: NodeId, msg: Message, out: Out, *, avoid: Iterable[NodeId] = ()) -> None:
        """Send ``msg`` to ``dst`` directly and through every other server not in
        ``avoid`` (servers known to have crashed carry nothing)."""
        self._next_seq += 1
        envelope = Envelope(self.me, dst, self._next_seq, msg)
        skip = set(avoid)
        out.send(dst, envelope)
        for relay in self.servers:
            if relay not in (self.me, dst) and relay not in skip:
                out.send(relay, envelope)

    def send_all(
        self, dsts: Iterable[NodeId], msg: Message, out: Out, *, avoid: Iterable[NodeId] = ()
    ) -> None:
        skip = tuple(avoid)
        for dst in dsts:
            self.send(dst, msg, out, avoid=skip)

    def receive(self, envelope: Envelope, out: Out) -> Message | None:
        """The payload if this server is its destination and it is the first copy;
        forwards it if it is addressed to another server; ``None`` otherwise."""
        if envelope.dest != self.me:
            if envelope.origin != self.me and envelope.dest in self.servers:
                out.send(envelope.dest, envelope)
            return None
        origin = envelope.origin
        seen = self._seen.setdefault(origin, set())
        if envelope.seq in seen or envelope.seq <= self._floor.get(origin, 0):
            self.duplicates += 1
            return None
        seen.add(envelope.seq)
        if len(seen) > SEEN_PER_ORIGIN_MAX:
            floor = envelope.seq - SEEN_PER_ORIGIN_MAX // 2
            self._floor[origin] = floor
            seen.difference_update([s for s in seen if s <= floor])
        return envelope.payload
