"""Binary protocols of a user's own, for ``smrkit flp --protocol module:Class`` tests.

``Coordinator`` is safe: p1 decides the first value another process sends it and tells
everyone. ``DecideOwnInput`` terminates at once and so breaks agreement; ``AlwaysZero``
breaks validity."""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out
from smrkit.protocols.consensus.binary import BinaryProcess


@dataclass(frozen=True, slots=True)
class Proposal(Message):
    value: int


@dataclass(frozen=True, slots=True)
class Decision(Message):
    value: int


class Coordinator(BinaryProcess):
    """Everyone sends its input to p1; p1 decides the first it receives and tells all."""

    def begin(self, out: Out) -> None:
        coordinator = self.config.processes[0]
        if self.id != coordinator:
            out.send(coordinator, Proposal(self.input))

    def receive(self, src: NodeId, msg: Message, out: Out) -> None:
        if self.decided:
            return
        if isinstance(msg, Proposal):
            self.decide(msg.value)
            out.send_all(self.others, Decision(msg.value))
        elif isinstance(msg, Decision):
            self.decide(msg.value)


class DecideOwnInput(BinaryProcess):
    """Decides its own input as soon as it starts."""

    def begin(self, out: Out) -> None:
        self.decide(self.input)


class AlwaysZero(BinaryProcess):
    """Decides 0 as soon as it starts, whatever the inputs."""

    def begin(self, out: Out) -> None:
        self.decide(0)


@dataclass(frozen=True, slots=True)
class Vote(Message):
    value: int


class AllSame(BinaryProcess):
    """Sends its input to all; decides v once all n inputs are v, else never: safe even
    with a two-faced node, and so, by FLP, not live."""

    def __init__(self, node_id: NodeId, processes: tuple[NodeId, ...], value: int) -> None:
        super().__init__(node_id, processes, value)
        self.votes: tuple[int, ...] = ()

    def begin(self, out: Out) -> None:
        out.send_all(self.others, Vote(self.input))
        self._count(self.input)

    def receive(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, Vote):
            self._count(msg.value)

    def _count(self, value: int) -> None:
        self.votes = (*self.votes, value)
        if len(self.votes) == self.config.n and len(set(self.votes)) == 1:
            self.decide(value)
