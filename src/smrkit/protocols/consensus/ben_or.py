"""Ben-Or's randomized binary consensus (1983) for crash failures, n > 2f: what escapes
FLP by flipping coins.

Algorithm. Each process p holds a binary estimate x (its input at first) and runs
rounds r = 1, 2, …, each of two phases:

1. *Report*: p sends ``Report(r, x)`` to every process (itself included) and waits for
   n − f reports of round r. If more than n/2 of those carry the same value v, p sends
   ``Proposal(r, v)`` to everyone, otherwise ``Proposal(r, None)`` (no preference).
2. *Proposal*: p waits for n − f proposals of round r. If at least f + 1 of them carry
   the same value v, p decides v. If at least one carries a value v, p adopts it
   (x := v); otherwise p flips a fair coin (x := 0 or 1). Then p goes to round r + 1.

A process that decided in round r still runs round r + 1 (its estimate is its decision),
so that the others, which all adopted that value in round r, hear n − f reports in
round r + 1; it stops after sending its round-(r + 1) proposal.

Why it is safe. Two values cannot both gather more than n/2 reports of one round, so
the non-empty proposals of a round all carry the same value. If p decides v in round r,
f + 1 proposals carry v, and every n − f proposals another process waits for include
one of them (n − f + f + 1 > n): every process leaves round r with x = v, all reports of
round r + 1 are v, and every process decides v by round r + 1 (agreement). If every
input is v, every report is v and every process decides v in round 1 (validity).

Failure and timing model. Crash failures of f < n/2 processes, an asynchronous network
that delivers every message between correct processes eventually, in any order; no
clock (the protocol sets no timer). The coin comes from ``out.rng``, the node's own
seeded generator, so a simulated run remains a pure function of its seed. f is the
most the processes can tolerate, ⌊(n − 1)/2⌋.

Coins the adversary can read, and coins it cannot. The coin is flipped through
:meth:`~smrkit.protocols.consensus.binary.BinaryProcess.flip`: under ``smrkit sim`` it
is drawn from ``out.rng``; under ``smrkit flp`` the process asks for it, the searches
branch on both values and the run draws it from the node's seeded generator
(:mod:`smrkit.explore.flp.coins`), so FLP's adversary plans without knowing it — and
fails to stop the protocol. :class:`BenOrFixedCoins` draws each coin from a hash of the
process and the round instead: a coin table fixed before the run, which the adversary
reads. That protocol is deterministic, so FLP's theorem applies to it and the adversary
keeps it undecided: Ben-Or's guarantee needs an adversary that does not know the coins
before they are flipped.

Bounds. Safe in every run; terminates with probability 1 against an adversary that
cannot see coins before they are flipped: in each round where the estimates leave the
adversary no majority to steer, all coins agree with probability 2^-(n-1), so the
expected number of rounds is at most exponential in n (constant when f = O(√n), Ben-Or
§3); each round costs 2n² messages. FLP (seed 004) does not apply: the protocol is not
deterministic. Its guarantee is probabilistic: runs in which it never decides exist,
with probability 0.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out
from smrkit.protocols.claims import ConsensusClaims
from smrkit.protocols.consensus.binary import BinaryProcess, BinaryProtocol
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, register

NO_PREFERENCE = None


@dataclass(frozen=True, slots=True)
class Report(Message):
    round: int
    value: int


@dataclass(frozen=True, slots=True)
class Proposal(Message):
    round: int
    value: int | None
    """The value more than n/2 reports carried, or ``None``: no majority."""


class BenOr(BinaryProcess):
    """One process of Ben-Or's protocol, proposing ``value`` (0 or 1), among
    ``processes`` (itself included), tolerating f = ⌊(n − 1)/2⌋ crashes."""

    flips_coins = True

    def __init__(self, node_id: NodeId, processes: tuple[NodeId, ...], value: int) -> None:
        super().__init__(node_id, processes, value)
        self.estimate = value
        self.round = 1
        self.phase = 1
        self.reports: dict[int, dict[NodeId, int]] = {}
        self.proposals: dict[int, dict[NodeId, int | None]] = {}
        self.decided_round = 0
        self.coins = 0
        self.flipping = False
        """Waiting for a coin asked for (the FLP engine's runs and searches)."""

    @property
    def faults(self) -> int:
        return (self.config.n - 1) // 2

    @property
    def quorum(self) -> int:
        """n − f: how many messages of a phase a process waits for."""
        return self.config.n - self.faults

    def begin(self, out: Out) -> None:
        out.send_all(self.config.processes, Report(1, self.estimate))

    def receive(self, src: NodeId, msg: Message, out: Out) -> None:
        if self.done:
            return
        match msg:
            case Report(round=r, value=v) if r >= self.round and v in (0, 1):
                self.reports.setdefault(r, {})[src] = v
            case Proposal(round=r, value=v) if r >= self.round and v in (0, 1, None):
                self.proposals.setdefault(r, {})[src] = v
            case _:
                return
        self._advance(out)

    def _advance(self, out: Out) -> None:
        """Take every phase whose n − f messages are in (messages of later rounds wait)."""
        quorum = self.quorum
        while not self.done and not self.flipping:
            if self.phase == 1:
                reports = self.reports.get(self.round, {})
                if len(reports) < quorum:
                    return
                value, count = _most_common(list(reports.values()))
                preferred = value if 2 * count > self.config.n else NO_PREFERENCE
                out.send_all(self.config.processes, Proposal(self.round, preferred))
                self.phase = 2
                if self.decided and self.round > self.decided_round:
                    self.done = True  # the round after its decision: the others can finish
                continue
            proposals = self.proposals.get(self.round, {})
            if len(proposals) < quorum:
                return
            values = [v for v in proposals.values() if v is not None]
            if values:
                value, count = _most_common(values)
                self.estimate = value
                if count >= self.faults + 1 and not self.decided:
                    self.decide(value)
                    self.decided_round = self.round
            else:
                coin = self.coin(out)
                if coin is None:
                    self.flipping = True  # asked for (see BinaryProcess.flip): wait for it
                    return
                self.coins += 1
                self.estimate = coin
            self._next_round(out)

    def _next_round(self, out: Out) -> None:
        self.reports.pop(self.round, None)
        self.proposals.pop(self.round, None)
        self.round += 1
        self.phase = 1
        out.send_all(self.config.processes, Report(self.round, self.estimate))

    def coin(self, out: Out) -> int | None:
        """A fair coin, from the node's own seeded generator (or asked for: ``None``)."""
        return self.flip(out)

    def on_coin(self, value: int, out: Out) -> None:
        if not self.flipping:
            return
        self.flipping = False
        self.coins += 1
        self.estimate = value
        self._next_round(out)
        self._advance(out)


class BenOrFixedCoins(BenOr):
    """Ben-Or whose coin for round r is a hash of (process, r): fixed before the run and
    readable by the adversary (see the module docstring): deterministic, so FLP applies."""

    flips_coins = False

    def coin(self, out: Out) -> int | None:
        digest = hashlib.blake2b(f"{self.id}/{self.round}".encode(), digest_size=1).digest()
        return digest[0] & 1


def carried_value(msg: object) -> tuple[tuple[str, int], int | None] | None:
    """``((phase, round), value)`` of a report or proposal: what the ``split`` schedule
    reads to deliver first the value its receiver has heard least of."""
    if isinstance(msg, Report):
        return ("report", msg.round), msg.value
    if isinstance(msg, Proposal):
        return ("proposal", msg.round), msg.value
    return None


def _most_common(values: list[int]) -> tuple[int, int]:
    """The most frequent value and its count (ties: the smaller value)."""
    counts = Counter(values)
    return min(counts.items(), key=lambda item: (-item[1], item[0]))


BEN_OR = BinaryProtocol(
    "ben-or",
    BenOr,
    "Ben-Or's randomized consensus: coins the adversary cannot read, drawn in the run",
)

BEN_OR_FIXED_COINS = BinaryProtocol(
    "ben-or-fixed-coins",
    BenOrFixedCoins,
    "Ben-Or with its coins fixed in advance (a hash of process and round): deterministic, "
    "so FLP applies",
)


def _build(config: ProtocolConfig) -> list[BenOr]:
    return [BenOr(p, config.servers, v) for p, v in zip(config.servers, config.inputs, strict=True)]


SPEC = register(
    ProtocolSpec(
        name="ben-or",
        title="Ben-Or's randomized binary consensus, n > 2f crash failures (escapes FLP)",
        failure_model=FailureModel.CRASH,
        replicas_default=3,
        build=_build,
        tolerated=lambda n: (n - 1) // 2,
        replicas_problem=lambda n: None if n >= 1 else "ben-or needs at least 1 process",
        claims=lambda f, delta_s, tau_s: ConsensusClaims(),
        client_timeout_s=lambda delta_s, tau_s: 4 * delta_s,
        timings=("async",),
        serves_clients=False,
        takes_inputs=True,
        carried_value=carried_value,
    )
)
