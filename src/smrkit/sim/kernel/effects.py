"""The one effect applier: what a step asked for, applied in one fixed order.

A handler never acts; it asks, through :class:`~smrkit.core.node.Out`. After it returns,
:func:`apply_effects` hands the step's effects to an :class:`EffectSink` in the order of
etcd-raft's ``Ready`` contract, which every runtime of smrkit shares:

1. **saves** — all of the step's ``out.save`` calls, as one batch;
2. **sends** — in the order they were made. A crash *during* the step (a
   :class:`CrashCut`) lets only part of them leave: the first k, or those to some
   receivers (lock-step's "p2 crashes in round 3; only p1 and p4 get its messages");
3. **timers** — set (an absolute time) or cancelled (``None``), in the order asked;
4. **halt** — the node stops: crashed by the cut, or halted on its own (``out.halt``).

The simulator (the kernel's :class:`~smrkit.sim.kernel.world.World` is a sink), a search
over worlds (the same ``World``), and the TCP runtime (:mod:`smrkit.net.replica`, whose
sink writes SQLite, queues frames and arms asyncio timers) all call this function, so
they cannot drift apart. The durability rule — no message of a step leaves before its
saves are durable — is the sink's to keep: a sink may hold sends back and release them
after one sync that covers several steps (group commit, as the TCP runtime does), but
never before the saves made with them are durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out, Timer
from smrkit.sim.kernel.records import CRASH, HALT


class EffectSink(Protocol):
    """Where the effects of a node's step go (a simulated world, a real process)."""

    def persist(self, node: NodeId, saves: Sequence[tuple[str, object]]) -> None:
        """The step's saves, in order; called once per step that saved anything."""

    def send(self, src: NodeId, dst: NodeId, msg: Message) -> None:
        """One message leaves (or is held until the step's saves are durable)."""

    def set_timer(self, node: NodeId, timer: Timer, at: float | None) -> None:
        """Arm ``timer`` for absolute time ``at`` (replacing it), or cancel it (``None``)."""

    def stop(self, node: NodeId, kind: str, reason: str) -> None:
        """The node stops: ``kind`` is ``crash`` (a fault) or ``halt`` (it chose to)."""


@dataclass(frozen=True, slots=True)
class CrashCut:
    """A crash in the middle of a step: which of the step's sends still leave.

    ``after_sends`` keeps a prefix (``crash:p1@1.0/2``: the first two); ``receivers``
    keeps the sends to those nodes (``crash:p2@r3/p1,p4``); both ``None`` keeps none.
    ``reason`` is the crash's spec, recorded with it."""

    reason: str
    after_sends: int | None = None
    receivers: frozenset[NodeId] | None = None

    def leaving(self, sends: Sequence[tuple[NodeId, Message]]) -> Sequence[tuple[NodeId, Message]]:
        """The sends that leave before the node is gone."""
        if self.receivers is not None:
            return [(dst, msg) for dst, msg in sends if dst in self.receivers]
        if self.after_sends is None:
            return ()
        return sends[: self.after_sends]


def apply_effects(node: NodeId, out: Out, sink: EffectSink, cut: CrashCut | None = None) -> None:
    """Apply and clear the effects ``out`` collected in ``node``'s step: saves, then
    sends in order (only those ``cut`` lets leave), then timers, then the halt."""
    saves = out.saves
    if saves:
        sink.persist(node, saves)
        saves.clear()
    sends = out.sends
    if sends:
        send = sink.send
        for dst, msg in sends if cut is None else cut.leaving(sends):
            send(node, dst, msg)
        sends.clear()
    timers = out.timers
    if timers:
        set_timer = sink.set_timer
        for timer, at in timers.items():
            set_timer(node, timer, at)
        timers.clear()
    if cut is not None:
        sink.stop(node, CRASH, cut.reason)
    elif out.halt_reason is not None:
        sink.stop(node, HALT, out.halt_reason)
