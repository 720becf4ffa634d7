"""Small protocols for the kernel's tests: one per timing model they exercise.

* :class:`FloodMin` — a lock-step process of seed 002's floodset: it sends every value it
  knows to everyone for ``rounds`` rounds, then decides the least. With ``rounds = f + 1``
  all correct processes agree; with fewer, a chain of crashes can hide a value.
* :class:`Pinger` / :class:`Ponger` — asynchronous: the pinger sends ``count`` pings and
  a time-out to itself; the ponger answers each ping. Handlers record the ``out.now``
  they saw, so a test can tell that there is no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smrkit.core import ConsensusProcess, Message, Node, NodeId, Out, Timer


@dataclass(frozen=True, slots=True)
class Known(Message):
    values: frozenset[int]


@dataclass(frozen=True)
class FloodConfig:
    peers: tuple[NodeId, ...]
    rounds: int


class FloodMin(ConsensusProcess):
    def __init__(self, node_id: NodeId, peers: Sequence[NodeId], value: int, rounds: int) -> None:
        super().__init__(node_id)
        self.config = FloodConfig(tuple(peers), rounds)
        self.input = value
        self.known: set[int] = set()
        self.rounds_seen: list[int] = []

    def on_start(self, out: Out) -> None:
        self.propose(self.input)
        self.known = {self.input}

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        self.rounds_seen.append(r)
        for _, msg in inbox:
            if isinstance(msg, Known):
                self.known |= msg.values
        if r <= self.config.rounds:
            others = [p for p in self.config.peers if p != self.id]
            out.send_all(others, Known(frozenset(self.known)))
        elif not self.decided:
            self.decide(min(self.known))
            self.done = True


def flood(values: Sequence[int], rounds: int) -> list[Node]:
    peers = [f"p{i}" for i in range(1, len(values) + 1)]
    return [FloodMin(p, peers, v, rounds) for p, v in zip(peers, values, strict=True)]


@dataclass(frozen=True, slots=True)
class Ping(Message):
    n: int


@dataclass(frozen=True, slots=True)
class Pong(Message):
    n: int


class Pinger(Node):
    def __init__(self, node_id: NodeId, peer: NodeId, count: int) -> None:
        super().__init__(node_id)
        self.config = (peer, count)
        self.pongs: list[int] = []
        self.clock_seen: set[float] = set()
        self.timeouts = 0

    def on_start(self, out: Out) -> None:
        peer, count = self.config
        self.clock_seen.add(out.now)
        for n in range(count):
            out.send(peer, Ping(n))
        out.set_timer("give-up", 5.0)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        self.clock_seen.add(out.now)
        if isinstance(msg, Pong):
            self.pongs.append(msg.n)
            if len(self.pongs) == self.config[1]:
                out.cancel_timer("give-up")
                self.done = True

    def on_timer(self, timer: Timer, out: Out) -> None:
        self.clock_seen.add(out.now)
        self.timeouts += 1


class Ponger(Node):
    def __init__(self, node_id: NodeId) -> None:
        super().__init__(node_id)
        self.pings: list[int] = []

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, Ping):
            self.pings.append(msg.n)
            out.send(src, Pong(msg.n))
