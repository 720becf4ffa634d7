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
            out.send(coordinator, Proposal(self.config.input))

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
        self.decide(self.config.input)


class AlwaysZero(BinaryProcess):
    """Decides 0 as soon as it starts, whatever the inputs."""

    def begin(self, out: Out) -> None:
        self.decide(0)
