"""A user's lock-step consensus protocol, for ``smrkit rounds --protocol
tests.explore.rounds_user_protocol:FloodMax``: written against the public contract only
(a ``ConsensusProcess`` built as ``Class(node_id, RoundConfig)``), not smrkit's own
floodset. It relays the set of values it knows as a sorted tuple and decides the
*largest* after ``config.rounds`` rounds — the same bound applies: R ≤ f rounds break
it, R = f + 1 do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core import ConsensusProcess, Message, NodeId, Out
from smrkit.protocols.agreement import RoundConfig


@dataclass(frozen=True, slots=True)
class Seen(Message):
    values: tuple[int, ...]


class FloodMax(ConsensusProcess):
    """Flood the values seen; decide the largest after R rounds."""

    def __init__(self, node_id: NodeId, config: RoundConfig) -> None:
        super().__init__(node_id)
        self.config = config
        self.seen: tuple[int, ...] = ()

    def on_start(self, out: Out) -> None:
        value = self.config.value
        assert isinstance(value, int)
        self.propose(value)
        self.seen = (value,)

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        for _, msg in inbox:
            if isinstance(msg, Seen):
                self.seen = tuple(sorted(set(self.seen) | set(msg.values)))
        if r <= self.config.rounds:
            for peer in self.config.peers:
                if peer != self.id:
                    out.send(peer, Seen(self.seen))
        elif not self.decided:
            self.decide(max(self.seen))
            self.done = True


class NotAProcess:
    """Not a ConsensusProcess: ``smrkit rounds`` refuses it with one line."""


class Raises(FloodMax):
    """A protocol with a bug: it raises in round 2."""

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        if r == 2:
            raise RuntimeError("round 2 is not implemented")
        super().on_round(r, inbox, out)
