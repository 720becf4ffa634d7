"""The built-in Byzantine strategies: ``--fault byzantine:p3=NAME``.

Each replaces a node's code (:class:`~smrkit.core.byzantine.ByzantineNode`) with a
protocol-independent adversary; protocols with adversaries of their own (an equivocating
Dolev-Strong sender, a relay that holds a signed value back) write them as
``ByzantineNode`` subclasses and name them ``module:Class``. Every random choice is drawn
from the node's ``out.rng``, so a run stays a function of its configuration and seed,
and every strategy's state is plain data, so a search can copy and fingerprint it.

========================  ==============================================================
``silent``                never sends anything (a crash that no time-out can tell from
                          slowness; the strongest omission)
``crash-like``            follows the protocol, then in a step drawn at random lets only
                          a prefix of that step's messages leave and falls silent
``equivocate``            follows the protocol, but tells the second half of the other
                          nodes something else: every value-carrying field (``value``,
                          ``values``, ``proposal``, ``estimate``, ``result``, or a message
                          class's ``equivocal_fields``) twisted — numbers + 1, booleans
                          negated, strings marked; what it signed itself is signed again
                          twisted; other nodes' signatures, which it cannot forge, pass
                          unchanged
``garbage``               follows the protocol to know what to send, then sends noise:
                          each message either with every field scrambled within its type
                          (random numbers, strings, booleans, tuples of them) or replaced
                          by a :class:`Garbage` message no protocol knows
``replay``                follows the protocol and, at every step, also sends one message
                          it received or sent earlier to a node drawn at random — relayed
                          signatures included (they verify: relaying is allowed)
========================  ==============================================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from smrkit.core.byzantine import AdversaryConfig, ByzantineNode
from smrkit.core.ids import NodeId
from smrkit.core.messages import Message, fields_of
from smrkit.core.node import Node, Out, Timer
from smrkit.core.signatures import Signed

VALUE_FIELDS = frozenset({"value", "values", "proposal", "estimate", "result"})
"""Fields an equivocating node lies about, unless a message class names its own in a
``equivocal_fields`` class attribute."""

CRASH_STEP_MAX = 20
"""A crash-like node stops in one of its first this many steps."""

REPLAY_MEMORY = 32
"""A replaying node remembers this many messages (the latest)."""

NOISE_INT_MAX = 2**31
NOISE_STRINGS = ("", "p0", "p99", "c0", "?", "x" * 64)


@dataclass(frozen=True, slots=True)
class Garbage(Message):
    """A message of a type no protocol knows."""

    noise: int


class Silent(ByzantineNode):
    """Receives everything, sends nothing, ever."""

    strategy = "silent"

    def on_start(self, out: Out) -> None:
        pass

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        pass

    def on_timer(self, timer: Timer, out: Out) -> None:
        pass

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        pass


class CrashLike(ByzantineNode):
    """Honest until a step drawn at random, in which only a prefix of its messages
    leaves; silent afterwards."""

    strategy = "crash-like"

    def __init__(self, honest: Node, config: AdversaryConfig) -> None:
        super().__init__(honest, config)
        self.steps = 0
        self.stop_at: int | None = None
        self.stopped = False

    def on_start(self, out: Out) -> None:
        if not self.stopped:
            super().on_start(out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if not self.stopped:
            super().on_message(src, msg, out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if not self.stopped:
            super().on_timer(timer, out)

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        if not self.stopped:
            super().on_round(r, inbox, out)

    def tamper(self, out: Out) -> None:
        if self.stop_at is None:
            self.stop_at = out.rng.randint(1, CRASH_STEP_MAX)
        self.steps += 1
        if self.steps < self.stop_at:
            return
        self.stopped = True
        kept = out.sends[: out.rng.randint(0, len(out.sends))]
        out.sends[:] = kept
        out.timers.clear()


class Equivocate(ByzantineNode):
    """Says one thing to the first half of the other nodes, another to the rest."""

    strategy = "equivocate"

    def tamper(self, out: Out) -> None:
        others = self.peers
        lied_to = set(others[(len(others) + 1) // 2 :])
        out.sends[:] = [
            (dst, twist_message(msg, self.id, out) if dst in lied_to else msg)
            for dst, msg in out.sends
        ]


def twist_message(msg: Message, me: NodeId, out: Out) -> Message:
    """``msg`` with its value-carrying fields twisted (see the module docstring)."""
    twisted: Message = twist(msg, me, out)
    return twisted


def _value_fields(value: Any) -> dict[str, Any]:
    names = type(value).equivocal_fields if hasattr(type(value), "equivocal_fields") else ()
    return {
        name: item for name, item in fields_of(value).items() if name in (names or VALUE_FIELDS)
    }


def twist(value: Any, me: NodeId, out: Out) -> Any:
    """Another value of the same shape: what an equivocating node tells the other half."""
    if isinstance(value, Signed):
        return out.sign(twist(value.value, me, out)) if value.signer == me else value
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "'"
    if value is None:
        return 1
    if isinstance(value, tuple | list | frozenset | set):
        return type(value)(twist(item, me, out) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {name: twist(item, me, out) for name, item in _value_fields(value).items()}
        return dataclasses.replace(value, **changes) if changes else value
    return value


class GarbageSender(ByzantineNode):
    """Sends noise where the protocol would send messages."""

    strategy = "garbage"

    def tamper(self, out: Out) -> None:
        rng = out.rng
        out.sends[:] = [
            (
                dst,
                Garbage(rng.randrange(NOISE_INT_MAX)) if rng.random() < 0.5 else scramble(msg, out),
            )
            for dst, msg in out.sends
        ]


def scramble(value: Any, out: Out) -> Any:
    """A random value of ``value``'s type (and, inside, of its fields' and items')."""
    rng = out.rng
    if isinstance(value, Signed):
        return out.sign(scramble(value.value, out))  # its own signature over noise
    if isinstance(value, bool):
        return rng.random() < 0.5
    if isinstance(value, int):
        return rng.randrange(-NOISE_INT_MAX, NOISE_INT_MAX)
    if isinstance(value, float):
        return rng.uniform(-1e6, 1e6)
    if isinstance(value, str):
        return rng.choice(NOISE_STRINGS)
    if isinstance(value, tuple | list | frozenset | set):
        return type(value)(scramble(item, out) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {name: scramble(item, out) for name, item in fields_of(value).items()}
        return dataclasses.replace(value, **changes)
    return value


class Replay(ByzantineNode):
    """Honest, and at every step one old message more, to someone drawn at random."""

    strategy = "replay"

    def __init__(self, honest: Node, config: AdversaryConfig) -> None:
        super().__init__(honest, config)
        self.memory: list[Message] = []

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        self._remember(msg)
        super().on_message(src, msg, out)

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        for _, msg in inbox:
            self._remember(msg)
        super().on_round(r, inbox, out)

    def _remember(self, msg: Message) -> None:
        self.memory.append(msg)
        del self.memory[:-REPLAY_MEMORY]

    def tamper(self, out: Out) -> None:
        for _, msg in out.sends:
            self._remember(msg)
        if self.memory and self.peers:
            out.send(out.rng.choice(self.peers), out.rng.choice(self.memory))


BUILTIN: dict[str, type[ByzantineNode]] = {
    cls.strategy: cls for cls in (Silent, CrashLike, Equivocate, GarbageSender, Replay)
}
"""The built-in strategies by name."""

STRATEGY_NAMES: tuple[str, ...] = tuple(BUILTIN)


def strategy_class(name: str) -> type[ByzantineNode] | None:
    """The built-in strategy called ``name``, if there is one."""
    return BUILTIN.get(name)
