"""Dolev-Strong: authenticated Byzantine broadcast in f + 1 lock-step rounds, any f < n.

**The algorithm** (seed 002, "Reliable Broadcast for arbitrary failures with message
authentication"). A designated sender broadcasts a value; every process ends with one
value, or ``SF`` ("sender faulty"). A message carries a value and a *signature chain*:
link k is the k-th signer's signature of the value and of the signers before it, so a
chain cannot be cut, reordered or moved to another value. A chain is *valid in round
r* when it has exactly r links by r distinct processes, the first one the sender.

* Round 1: the sender signs its value and sends the one-link chain to every other process
  (and extracts the value itself).
* Round r = 2 … f + 1: a process that received, in the previous round, a chain valid for
  that round on a value it has not extracted yet extracts it and, if it has extracted at
  most two values, relays the chain with its own link appended to every process not on
  it (a third value changes nothing: two already prove the sender faulty).
* After round f + 1 (in ``on_round(f + 2)``) a process that extracted exactly one value
  decides it; otherwise (none, or two and more) it decides ``SF``.

**Failure and timing model.** Lock-step rounds; up to f Byzantine processes for any
f < n, sender included, who may do anything with what they know but cannot forge a
correct process's signature (kernel signatures, :mod:`smrkit.core.signatures`). No bound
on n is needed: authentication replaces the n > 3f of the unauthenticated world.

**Why it is correct, and its bounds.** If a correct process extracts v in round r ≤ f,
it relays a chain valid in round r + 1 and every correct process extracts v by then. If
it extracts v only from a chain of f + 1 links received after round f + 1, one of those
f + 1 distinct signers is correct and extracted v earlier, and relayed it to everyone:
every correct process extracts the same set of (up to two) values, so they agree
(*agreement*); a correct sender signs only its value, which is all anyone can extract
(*validity*). f + 1 rounds are necessary even for crash failures (the dangerous-chain
argument of seed 002), so the bound is tight; each correct process sends at most
2·(n − 1) messages of at most f + 1 signatures.

Adversaries built for it, named in a fault plan as ``byzantine:p1=MODULE:Class`` with
``MODULE`` this module, or by the short names of :data:`ADVERSARIES`:
``equivocate`` (the built-in: a sender that signs one value for half the processes and
another for the rest — every value-carrying field twisted, its own links re-signed),
:class:`LateRelay` (holds every chain it gets back and releases it, signed, only in round
f + 1 and only to some processes), ``silent`` (the built-in: a sender that never sends)
and :class:`Whisper` (a sender that signs for one process only: with a late relay behind
it, a dangerous chain). :class:`ChainAdversary` is the model checker's: every chain it
can make valid, to anyone, in any round.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from smrkit.core import agreement
from smrkit.core.byzantine import AdversaryConfig, ByzantineNode
from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import ConsensusProcess, Node, Out
from smrkit.core.ops import Value
from smrkit.core.signatures import Signed

SF = agreement.SF
"""The decision of a process that could not tell the sender's value (seed 002's SF)."""

EXTRACT_MAX = 2
"""Values a process relays at most: two already prove the sender faulty."""


@dataclass(frozen=True, slots=True)
class Link:
    """What the k-th signer of a chain signs: the value and the signers before it."""

    value: Value
    before: tuple[NodeId, ...]
    instance: int = 0
    """Which broadcast this is (an SMR slot), so a chain of one cannot serve another."""

    equivocal_fields = ("value",)


@dataclass(frozen=True, slots=True)
class Chain(Message):
    """A value and its signature chain."""

    value: Value
    links: tuple[Signed[Link], ...]
    instance: int = 0

    equivocal_fields = ("value", "links")

    @property
    def signers(self) -> tuple[NodeId, ...]:
        return tuple(link.signer for link in self.links)


def chain_valid(chain: Chain, length: int, sender: NodeId, instance: int, out: Out) -> bool:
    """Whether ``chain`` has exactly ``length`` links by distinct processes, the sender's
    first, each a genuine signature of the value and of the signers before it."""
    links = chain.links
    if chain.instance != instance or len(links) != length or not links:
        return False
    signers = chain.signers
    if signers[0] != sender or len(set(signers)) != len(signers):
        return False
    for k, link in enumerate(links):
        payload = link.value
        if not isinstance(payload, Link) or not out.verify(link):
            return False
        if (payload.value, payload.before, payload.instance) != (
            chain.value,
            signers[:k],
            instance,
        ):
            return False
    return True


def extend(chain: Chain, out: Out, me: NodeId) -> Chain:
    """``chain`` with ``me``'s link appended."""
    link = out.sign(Link(chain.value, chain.signers, chain.instance))
    return Chain(chain.value, (*chain.links, link), chain.instance)


def start_chain(value: Value, out: Out, instance: int = 0) -> Chain:
    """The sender's one-link chain on ``value``."""
    return Chain(value, (out.sign(Link(value, (), instance)),), instance)


def extract(
    extracted: list[Value], chain: Message, links: int, sender: NodeId, instance: int, out: Out
) -> bool | None:
    """Take one received message of a broadcast in the round where valid chains have
    ``links`` links: ``None`` if it is not a valid chain (count it and drop it), ``True``
    if it brings a new value — appended to ``extracted``: relay it while ``links <= f`` —
    and ``False`` if it brings nothing new."""
    if not isinstance(chain, Chain) or not chain_valid(chain, links, sender, instance, out):
        return None
    if chain.value in extracted or len(extracted) >= EXTRACT_MAX:
        return False
    extracted.append(chain.value)
    return True


def relay(chain: Chain, processes: Sequence[NodeId], me: NodeId, out: Out) -> None:
    """Send ``chain`` with ``me``'s link to every process not on it."""
    signers = chain.signers
    out.send_all([p for p in processes if p != me and p not in signers], extend(chain, out, me))


def outcome(extracted: Sequence[Value]) -> Value:
    """What a broadcast delivers after round f + 1: the one value extracted, or SF."""
    return extracted[0] if len(extracted) == 1 else SF


@dataclass(frozen=True)
class DolevStrongConfig:
    processes: tuple[NodeId, ...]
    sender: NodeId
    f: int
    instance: int = 0


class DolevStrong(ConsensusProcess):
    """One process of a Dolev-Strong broadcast; ``value`` matters only at the sender."""

    def __init__(
        self,
        node_id: NodeId,
        processes: Sequence[NodeId],
        sender: NodeId,
        f: int,
        value: Value = None,
        instance: int = 0,
    ) -> None:
        super().__init__(node_id)
        if not 0 <= f < len(processes):
            raise ValueError(f"Dolev-Strong needs 0 <= f < n, got f = {f}, n = {len(processes)}")
        self.config = DolevStrongConfig(tuple(processes), sender, f, instance)
        self.input = value
        self.extracted: list[Value] = []
        self.rejected = 0
        """Messages dropped as invalid (counted, never fatal)."""

    def on_start(self, out: Out) -> None:
        if self.id == self.config.sender:
            self.propose(self.input)

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        config = self.config
        if self.decided:
            return
        if r == 1 and self.id == config.sender:
            self.extracted.append(self.input)
            out.send_all(self._others(), start_chain(self.input, out, config.instance))
        for _, msg in inbox:
            new = extract(self.extracted, msg, r - 1, config.sender, config.instance, out)
            if new is None:
                self.rejected += 1
            elif new and r - 1 <= config.f:
                assert isinstance(msg, Chain)
                relay(msg, config.processes, self.id, out)
        if r <= config.f + 1:
            return
        decision = outcome(self.extracted)
        self.deliver(config.sender, decision)
        self.decide(decision)
        self.done = True

    def _others(self) -> list[NodeId]:
        return [p for p in self.config.processes if p != self.id]


class LateRelay(ByzantineNode):
    """A faulty relay: keeps every valid chain it receives to itself and releases each,
    with its own link, only in the last round (f + 1) and only to the first half of the
    others. A chain it got in round r has r links; released in round f + 1 it has r + 1 —
    valid only if r = f, when the chain already passed f faulty processes."""

    strategy = "late-relay"

    def __init__(self, honest: Node, config: AdversaryConfig) -> None:
        super().__init__(honest, config)
        self.held: list[Chain] = []

    def on_start(self, out: Out) -> None:
        pass

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        honest = self.honest
        assert isinstance(honest, DolevStrong)
        dsc = honest.config
        for _, msg in inbox:
            if isinstance(msg, Chain) and self.id not in msg.signers and msg not in self.held:
                self.held.append(msg)
        if r != dsc.f + 1:
            return
        for chain in self.held:
            others = [p for p in self.peers if p not in chain.signers]
            out.send_all(others[: max(1, len(others) // 2)], extend(chain, out, self.id))


class Whisper(ByzantineNode):
    """A faulty sender that signs its value for the next process only (by the order of
    the run): the head of a dangerous chain, if that process is faulty too."""

    strategy = "whisper"

    def on_start(self, out: Out) -> None:
        pass

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        honest = self.honest
        assert isinstance(honest, DolevStrong)
        if r == 1:
            out.send(self.peers[0], start_chain(honest.input, out, honest.config.instance))


DOMAIN: tuple[Value, ...] = (0, 1)
"""The values a :class:`ChainAdversary` may sign as a faulty sender."""

ChainMove = tuple[NodeId, Value, tuple[NodeId, ...]]
"""``(destination, value, signers before)``: send the chain on ``value`` signed by those
signers, with this node's link appended (``()``: the sender's fresh one-link chain)."""


class ChainAdversary(ByzantineNode):
    """The bounded adversary the model checker explores: between rounds it may send any
    chain it can make valid for the round, to any process — signing a value of
    :data:`DOMAIN` if it is the sender, or appending its link to a chain it holds — each
    at most once per round. Moves come in one canonical order (each one greater than the
    last it took this round), so that each *set* of sends is one path of the search."""

    strategy = "any-chain"

    def __init__(self, honest: Node, config: AdversaryConfig) -> None:
        super().__init__(honest, config)
        self.round = 0
        self.held: list[Chain] = []
        self.sent: list[ChainMove] = []

    def on_start(self, out: Out) -> None:
        pass

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        self.round = r
        self.sent = []
        for _, msg in inbox:
            if isinstance(msg, Chain) and msg not in self.held:
                self.held.append(msg)

    def _config(self) -> DolevStrongConfig:
        honest = self.honest
        assert isinstance(honest, DolevStrong)
        return honest.config

    def moves(self) -> Sequence[Hashable]:
        config, r = self._config(), self.round
        if not 1 <= r <= config.f + 1:
            return ()
        bases: list[tuple[Value, tuple[NodeId, ...]]] = []
        if self.id == config.sender and r == 1:
            bases.extend((value, ()) for value in DOMAIN)
        bases.extend(
            (chain.value, chain.signers)
            for chain in self.held
            if len(chain.links) == r - 1 and self.id not in chain.signers
        )
        last = self.sent[-1] if self.sent else None
        moves = sorted(
            {(dst, value, before) for dst in self.peers for value, before in bases}, key=repr
        )
        return tuple(m for m in moves if last is None or repr(m) > repr(last))

    def on_move(self, move: Hashable, out: Out) -> None:
        assert isinstance(move, tuple)
        dst: NodeId = move[0]
        value: Value = move[1]
        before: tuple[NodeId, ...] = move[2]
        config = self._config()
        if not before:
            chain = start_chain(value, out, config.instance)
        else:
            base = next(c for c in self.held if (c.value, c.signers) == (value, before))
            chain = extend(base, out, self.id)
        out.send(dst, chain)
        self.sent.append((dst, value, before))


ADVERSARIES: dict[str, str] = {
    "equivocate": "equivocate",
    "late-relay": f"{__name__}:LateRelay",
    "silent": "silent",
    "whisper": f"{__name__}:Whisper",
}
"""The adversaries the issue names, as fault-plan strategies."""
