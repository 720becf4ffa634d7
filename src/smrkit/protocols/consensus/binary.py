"""Binary consensus in seed 004's asynchronous model: the process interface the FLP
engine (:mod:`smrkit.explore.flp`) runs, and the registry of such protocols.

Seed 004's model: a pool M of undelivered messages, one dummy message (r, ⊥) per node to
begin with (the kernel's ``Start``), and an adversary that picks which message is
delivered next, under eventual delivery. A node knows only its private input and the
sequence of messages it has received; what it sends is a function of those. A
:class:`BinaryProcess` is such a node: it is built from the processes' ids and its input
(0 or 1), proposes its input when it starts, and decides through
:meth:`~smrkit.core.node.ConsensusProcess.decide`, where the consensus observer and the
FLP engine see it. It counts the messages it has received, so that delivering a message
always changes its state — as receiving a message changes the seed's configuration —
and a delivery the protocol ignores is still a step a path can name.

A protocol module subclasses :class:`BinaryProcess` (``begin`` on start, ``receive`` on
each message, ``self.input`` for the input; timers through ``on_timer``, which under
``async`` fire whenever the adversary likes: a time-out is a dummy message) and registers
the class in :data:`BINARY_PROTOCOLS`, under the name ``smrkit flp --protocol`` takes
(:mod:`~smrkit.protocols.consensus.binary_registry`). A user's own protocol,
``module.path:Class``, is any such subclass. :class:`TwoFaced` is seed 004's Byzantine
node, restricted to Lemma 1's strategy.

Coins. A randomized protocol flips through :meth:`BinaryProcess.flip`, never through
``out.rng`` directly. By default the coin is drawn from ``out.rng`` at once (the node's
own seeded generator: ``smrkit sim`` replays it from the seed). A process built by
:func:`asking_coins` instead *asks* for its coin: it sets two timers, ``(coin, 0)`` and
``(coin, 1)``, and waits; whichever fires first is the coin (the other is cancelled)
and :meth:`~BinaryProcess.on_coin` resumes the protocol with it. The FLP engine's
searches branch on both timers — a coin not yet flipped is a nondeterministic choice —
while its run lets neither the adversary nor the search pick: the moment a coin is
asked, the run fires the timer the node's seeded generator draws
(:mod:`smrkit.explore.flp.coins`). A deterministic protocol never calls ``flip`` and is
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smrkit.core.ids import NodeId, server_ids
from smrkit.core.messages import Message
from smrkit.core.node import ConsensusProcess, Out, Timer


@dataclass(frozen=True)
class BinaryConfig:
    """Every process of the run (in order) and this process's private input."""

    processes: tuple[NodeId, ...]
    input: int

    @property
    def n(self) -> int:
        return len(self.processes)


COIN = "coin"
"""The timers of a process asking for a coin: ``(COIN, v)`` fires when the coin is v."""


def is_coin(timer: object) -> bool:
    """Whether ``timer`` is one of a coin's two timers (see the module docstring)."""
    return isinstance(timer, tuple) and len(timer) == 2 and timer[0] == COIN


class BinaryProcess(ConsensusProcess):
    """A process of binary consensus under ``async`` (see the module docstring)."""

    flips_coins: ClassVar[bool] = False
    """Whether the protocol calls :meth:`flip` (a randomized protocol says so)."""
    asks_coins: ClassVar[bool] = False
    """Whether :meth:`flip` asks for the coin as two timers instead of drawing it."""

    def __init__(self, node_id: NodeId, processes: tuple[NodeId, ...], value: int) -> None:
        super().__init__(node_id)
        if value not in (0, 1):
            raise ValueError(f"{node_id}'s input must be 0 or 1, not {value!r}")
        self.config = BinaryConfig(tuple(processes), value)
        self.received = 0

    @property
    def others(self) -> tuple[NodeId, ...]:
        return tuple(p for p in self.config.processes if p != self.id)

    @property
    def input(self) -> int:
        """The input this process runs with: its own (a two-faced node's claimed one)."""
        return self.config.input

    def on_start(self, out: Out) -> None:
        self.propose(self.input)
        self.begin(out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        self.received += 1
        self.receive(src, msg, out)

    def begin(self, out: Out) -> None:
        """The node starts (its dummy message (r, ⊥) is delivered)."""

    def receive(self, src: NodeId, msg: Message, out: Out) -> None:
        """``msg`` from ``src`` is delivered."""

    def flip(self, out: Out) -> int | None:
        """A fair coin: drawn from ``out.rng`` now, or — when the process
        :attr:`asks_coins` — ``None``, and :meth:`on_coin` gets the coin later."""
        if not self.asks_coins:
            return out.rng.getrandbits(1)
        out.set_timer((COIN, 0), 1.0)
        out.set_timer((COIN, 1), 1.0)
        return None

    def on_coin(self, value: int, out: Out) -> None:
        """The coin asked for by :meth:`flip` came up ``value``."""

    def on_timer(self, timer: Timer, out: Out) -> None:
        if is_coin(timer) and isinstance(timer, tuple):
            value = int(timer[1])
            out.cancel_timer((COIN, 1 - value))
            self.on_coin(value, out)


CLAIM = "claim"
"""The timers of a two-faced node: ``(CLAIM, v)`` fires when it takes input v."""


class TwoFaced(BinaryProcess):
    """Seed 004's Byzantine node, restricted to Lemma 1's strategy: it follows the
    protocol honestly, with its own input or with the other one — the adversary picks.

    On its start it sets two timers, ``(claim, 0)`` and ``(claim, 1)``; under ``async``
    the adversary fires whichever it likes first, and the node then starts the protocol
    with that input (the other timer is cancelled). Messages that reach it before are
    kept and handled right after, as if they had arrived then. Mixed in before a
    protocol's class by :func:`two_faced`."""

    def __init__(self, node_id: NodeId, processes: tuple[NodeId, ...], value: int) -> None:
        super().__init__(node_id, processes, value)
        self.claimed: int | None = None
        self.early: tuple[tuple[NodeId, Message], ...] = ()

    @property
    def input(self) -> int:
        return self.config.input if self.claimed is None else self.claimed

    def on_start(self, out: Out) -> None:
        out.set_timer((CLAIM, 0), 1.0)
        out.set_timer((CLAIM, 1), 1.0)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if self.claimed is None:
            self.early = (*self.early, (src, msg))
            return
        super().on_message(src, msg, out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if not (isinstance(timer, tuple) and timer and timer[0] == CLAIM):
            super().on_timer(timer, out)
            return
        if self.claimed is not None:
            return
        self.claimed = int(timer[1])
        out.cancel_timer((CLAIM, 1 - self.claimed))
        super().on_start(out)
        early, self.early = self.early, ()
        for src, msg in early:
            super().on_message(src, msg, out)


_TWO_FACED: dict[type[BinaryProcess], type[BinaryProcess]] = {}


def two_faced(process: type[BinaryProcess]) -> type[BinaryProcess]:
    """``process`` run by a :class:`TwoFaced` node (one class per protocol, kept)."""
    if process not in _TWO_FACED:
        _TWO_FACED[process] = type(f"TwoFaced{process.__name__}", (TwoFaced, process), {})
    return _TWO_FACED[process]


_ASKING: dict[type[BinaryProcess], type[BinaryProcess]] = {}


def asking_coins(process: type[BinaryProcess]) -> type[BinaryProcess]:
    """``process`` asking for its coins as timers (one class per protocol, kept); a
    protocol that flips no coins (:attr:`BinaryProcess.flips_coins` false) is returned
    as it is."""
    if not process.flips_coins:
        return process
    if process not in _ASKING:
        _ASKING[process] = type(f"{process.__name__}AskingCoins", (process,), {"asks_coins": True})
    return _ASKING[process]


@dataclass(frozen=True)
class BinaryProtocol:
    """A registered protocol: its name, its process class and one line on what FLP's
    search shows about it."""

    name: str
    process: type[BinaryProcess]
    summary: str

    @property
    def randomized(self) -> bool:
        """Whether its processes flip coins (:meth:`BinaryProcess.flip`)."""
        return asking_coins(self.process) is not self.process

    def build(
        self, inputs: tuple[int, ...], byzantine: NodeId | None = None
    ) -> list[BinaryProcess]:
        """The processes p1 … pn with these inputs (``inputs[i]`` is p(i+1)'s), asking
        for their coins (:func:`asking_coins`); the node ``byzantine``, if any, is
        :class:`TwoFaced`."""
        ids = server_ids(len(inputs))
        asking = asking_coins(self.process)
        faced = two_faced(asking)
        return [
            (faced if node == byzantine else asking)(node, ids, value)
            for node, value in zip(ids, inputs, strict=True)
        ]


BINARY_PROTOCOLS: dict[str, BinaryProtocol] = {}
"""The binary consensus protocols by name (filled by :func:`register_binary`)."""


def register_binary(protocol: BinaryProtocol) -> BinaryProtocol:
    if protocol.name in BINARY_PROTOCOLS:
        raise ValueError(f"binary protocol {protocol.name!r} is registered twice")
    BINARY_PROTOCOLS[protocol.name] = protocol
    return protocol
