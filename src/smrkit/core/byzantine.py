"""Byzantine nodes: adversary code in place of a node's own.

Under the Byzantine failure model (seed 002's "arbitrary failures", seed 003's BFT) a
faulty node may do anything a program can do with what it knows: send any message, to
anyone, at any time — except forge another node's signature (its ``out`` signs as itself
only; :mod:`smrkit.core.signatures`). A fault plan names the node and the adversary:
``byzantine:p3=equivocate`` (a built-in strategy, :mod:`smrkit.protocols.adversaries`)
or ``byzantine:p3=module:Class`` (a user's :class:`ByzantineNode` subclass). The world
then builds the honest node as usual and hands it to the adversary, which runs in its
place: the honest code is there to follow, imitate or betray.

A Byzantine node is a node like any other for the kernel — copied with the world,
fingerprinted (its state is plain data, the honest node it replaced included), its
effects applied by the one applier — but observers do not speak for it: it is not a
:class:`~smrkit.core.node.Replica`, a :class:`~smrkit.core.node.ClientNode` or a
:class:`~smrkit.core.node.ConsensusProcess`, so no Prmy, apply, invoke or decision of
its is recorded, and the checkers bind only the correct nodes (seed 002's Byzantine
specifications bind only honest processes).

**Free moves, for searches.** Beside its handlers, a Byzantine node may offer
:meth:`ByzantineNode.moves`: the steps it could take now, unprompted (send this signed
chain to these processes…). Under the untimed timings (``async``, ``lock-step``) the
kernel lists each as an event, ``Act(node, move)``, among the enabled ones, so a model
checker branches over every behaviour of a bounded adversary; the simulator's choosers
leave them to searches, and a simulated adversary acts from its handlers, drawing from
``out.rng``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Node, Out, Timer


@dataclass(frozen=True)
class AdversaryConfig:
    """What an adversary knows from the start: every node of the run, in the world's
    order, and the name it was given in the fault plan."""

    nodes: tuple[NodeId, ...]
    strategy: str


class ByzantineNode(Node):
    """A Byzantine node. By default it follows the protocol (``honest``) and lets
    :meth:`tamper` rewrite each step's effects; strategies override what they need.

    Subclasses keep their own state as plain data, as every node does, and are built as
    ``Class(honest, config)``."""

    strategy: ClassVar[str] = "follow"
    """The name of the strategy (``byzantine:p3=NAME``); a user class keeps its reference."""

    def __init__(self, honest: Node, config: AdversaryConfig) -> None:
        super().__init__(honest.id)
        self.config = config
        self.honest = honest
        """The node this one replaced, in the state the adversary has let it reach."""

    @property
    def peers(self) -> tuple[NodeId, ...]:
        """Every other node of the run, in the world's order."""
        return tuple(node for node in self.config.nodes if node != self.id)

    # --- handlers: the honest step, then the adversary's rewrite --------------------------

    def on_start(self, out: Out) -> None:
        self.honest.on_start(out)
        self.tamper(out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        self.honest.on_message(src, msg, out)
        self.tamper(out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        self.honest.on_timer(timer, out)
        self.tamper(out)

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        self.honest.on_round(r, inbox, out)
        self.tamper(out)

    def tamper(self, out: Out) -> None:
        """Rewrite what the honest step asked for (``out.sends``, ``out.timers``, …)
        before the runtime applies it. The default changes nothing."""

    # --- free moves, for searches -------------------------------------------------------

    def moves(self) -> Sequence[Hashable]:
        """The steps this node could take now, unprompted (plain, hashable values); a
        search branches over each (``Act(node, move)``). None by default."""
        return ()

    def on_move(self, move: Hashable, out: Out) -> None:
        """Take one of :meth:`moves`."""
        raise NotImplementedError(f"{type(self).__name__} offers no moves")
