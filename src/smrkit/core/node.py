"""The sans-I/O protocol interface: :class:`Node` and its effect sink :class:`Out`.

A node is a deterministic state machine over three inputs (start, message, timer). Its
handlers never perform I/O, never block and never read a clock or a global random
generator: they read ``out.now`` and ``out.rng`` and *ask* for effects through ``out``.
The runtime (the simulator, the explorer or the TCP runtime) applies the effects after
the handler returns, in a fixed order: saves are made durable first, then messages leave
in the order they were sent, then timers change, then a requested halt takes effect.
This is what lets one implementation run unchanged in all three runtimes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, TypeAlias

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.ops import Command

if TYPE_CHECKING:
    import random  # only the type of ``out.rng``; randomness comes from the runtime

Timer: TypeAlias = Hashable
"""A timer name: any hashable value (a string or a tuple of plain values)."""

SAME_INSTANT_S = 1e-9
"""Instants closer than this are one instant. Runtimes order the events due at one
instant by the rule of :mod:`smrkit.sim.order`; a protocol that computes the same
instant two ways (``k·τ + 2δ`` and ``(k + 1)·τ``) compares them with this tolerance."""


class Out:
    """What a handler may read (time, randomness, saved state) and the effects it asks for.

    One ``Out`` belongs to one node and is reused across steps; the runtime sets ``now``
    before each step and drains the effect lists after it.
    """

    __slots__ = ("halt_reason", "now", "rng", "saved", "saves", "sends", "timers")

    def __init__(self, rng: random.Random, saved: Mapping[str, object] | None = None) -> None:
        self.now: float = 0.0
        self.rng = rng
        self.saved: Mapping[str, object] = dict(saved or {})
        self.sends: list[tuple[NodeId, Message]] = []
        self.timers: dict[Timer, float | None] = {}
        self.saves: list[tuple[str, object]] = []
        self.halt_reason: str | None = None

    def send(self, dst: NodeId, msg: Message) -> None:
        """Send ``msg`` to ``dst`` once the step ends."""
        self.sends.append((dst, msg))

    def send_all(self, dsts: Iterable[NodeId], msg: Message) -> None:
        """Send ``msg`` to each of ``dsts``, in that order (the order matters if the sender
        crashes in the middle of the step: a prefix of the sends leaves)."""
        for dst in dsts:
            self.sends.append((dst, msg))

    def set_timer(self, timer: Timer, after: float) -> None:
        """Fire ``timer`` ``after`` seconds from now; setting a pending timer replaces it."""
        if after < 0:
            raise ValueError(f"timer {timer!r} set {after} s in the past")
        self.timers[timer] = self.now + after

    def set_timer_at(self, timer: Timer, at: float) -> None:
        """Fire ``timer`` at time ``at`` (clocks are synchronized with real time)."""
        if at < self.now:
            raise ValueError(f"timer {timer!r} set for {at}, before now ({self.now})")
        self.timers[timer] = at

    def cancel_timer(self, timer: Timer) -> None:
        self.timers[timer] = None

    def save(self, key: str, value: object) -> None:
        """Durable write; durable before any message of this step leaves."""
        self.saves.append((key, value))

    def halt(self, reason: str) -> None:
        """Fail-stop: the node has detected its own failure and stops for good. The
        messages of this step still leave (a node that must not send just sends nothing);
        the node handles nothing afterwards."""
        self.halt_reason = reason

    def clear(self) -> None:
        self.sends.clear()
        self.timers.clear()
        self.saves.clear()


class Node:
    """A participant: server or client. Subclasses override the handlers they need."""

    def __init__(self, node_id: NodeId) -> None:
        self.id = node_id

    def on_start(self, out: Out) -> None:
        """Called once when the node starts (``out.saved`` holds what it saved before)."""

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        """A message from ``src`` arrived."""

    def on_timer(self, timer: Timer, out: Out) -> None:
        """A timer this node set has fired."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id})"


class Replica(Node):
    """A server of a replicated service.

    ``is_primary`` is the predicate Prmy of property Pb1 (seed 001); protocols without a
    primary leave it ``False``. ``applied`` lists the commands applied to the state
    machine, in order, which is what log agreement compares across replicas.
    ``anomalies`` counts, by kind, the messages it dropped because it could not use them
    (a stranger's, a stale primary's): counted and dropped, never a crash.
    """

    def __init__(self, node_id: NodeId) -> None:
        super().__init__(node_id)
        self.is_primary = False
        self.applied: list[Command] = []
        self.anomalies: dict[str, int] = {}

    def note(self, anomaly: str) -> None:
        """Count one more dropped message of kind ``anomaly``."""
        self.anomalies[anomaly] = self.anomalies.get(anomaly, 0) + 1


class ClientNode(Node):
    """A client. ``dest`` is the server it currently addresses (``Dest``, Pb2), if any.

    ``done`` turns true when the client has nothing more to ask; a runtime may stop once
    every client is done.
    """

    def __init__(self, node_id: NodeId) -> None:
        super().__init__(node_id)
        self.dest: NodeId | None = None
        self.done = False
