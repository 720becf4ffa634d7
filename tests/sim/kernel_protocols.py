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
from smrkit.protocols.consensus.paxos_single import Accept, Accepted, Prepare, Promise


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


# --- partial synchrony: rotating-coordinator Paxos -------------------------------------


@dataclass(frozen=True)
class RotatingConfig:
    peers: tuple[NodeId, ...]
    round_s: float


class RotatingPaxos(ConsensusProcess):
    """Single-decree Paxos whose ballots are rounds of ``round_s`` seconds on the
    (synchronized) clock, round k led by ``peers[k mod n]`` — Dwork, Lynch and
    Stockmeyer's rotating coordinator. Safe under any timing (ballots are Paxos
    ballots: a value chosen in one is the only one later ones can propose); live after
    GST: the first round that starts once every message sent before GST has arrived
    (GST + δ) and whose coordinator is correct decides within 4δ if ``round_s > 4δ``.
    So every correct process decides by GST + δ + ``round_s`` + 4δ (n correct)."""

    def __init__(self, node_id: NodeId, peers: Sequence[NodeId], value: int, round_s: float):
        super().__init__(node_id)
        self.config = RotatingConfig(tuple(peers), round_s)
        self.input = value
        self.promised = 0
        self.accepted: tuple[int, int] | None = None
        self.leading = 0
        self.promises: dict[NodeId, tuple[int, int] | None] = {}
        self.proposed_in = 0
        self.votes: dict[tuple[int, int], set[NodeId]] = {}

    @property
    def majority(self) -> int:
        return len(self.config.peers) // 2 + 1

    def on_start(self, out: Out) -> None:
        self.propose(self.input)
        out.set_timer(("round", 1), self.config.round_s)

    def on_timer(self, timer: Timer, out: Out) -> None:
        _, k = timer  # type: ignore[misc]
        peers = self.config.peers
        if not self.decided:
            out.set_timer(("round", k + 1), self.config.round_s)
        if peers[k % len(peers)] == self.id and not self.decided:
            self.leading, self.promises = k, {}
            out.send_all(peers, Prepare(k))

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        match msg:
            case Prepare(ballot=b) if b > self.promised:
                self.promised = b
                out.send(src, Promise(b, self.accepted))
            case Promise(ballot=b, accepted=acc) if b == self.leading and self.proposed_in < b:
                self.promises[src] = acc
                if len(self.promises) >= self.majority:
                    prior = [a for a in self.promises.values() if a is not None]
                    value = max(prior)[1] if prior else self.input
                    self.proposed_in = b
                    out.send_all(self.config.peers, Accept(b, value))
            case Accept(ballot=b, value=v) if b >= self.promised:
                self.promised = b
                self.accepted = (b, v)
                out.send_all(self.config.peers, Accepted(b, v))
            case Accepted(ballot=b, value=v):
                voters = self.votes.setdefault((b, v), set())
                voters.add(src)
                if len(voters) >= self.majority and not self.decided:
                    self.decide(v)
                    self.done = True


def rotating(values: Sequence[int], round_s: float) -> list[Node]:
    peers = [f"p{i}" for i in range(1, len(values) + 1)]
    return [RotatingPaxos(p, peers, v, round_s) for p, v in zip(peers, values, strict=True)]
