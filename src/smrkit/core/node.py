"""The sans-I/O protocol interface: :class:`Node` and its effect sink :class:`Out`.

A node is a deterministic state machine over its inputs: its start, a message, a timer —
or, in lock-step rounds, a whole round's messages at once (``on_round``). Its handlers
never perform I/O, never block and never read a clock or a global random generator: they
read ``out.now`` and ``out.rng`` and *ask* for effects through ``out``. The runtime (the
simulator, the explorer or the TCP runtime) applies the effects after the handler
returns, in a fixed order: saves are made durable first, then messages leave in the
order they were sent, then timers change, then a requested halt takes effect. This is
what lets one implementation run unchanged in all three runtimes.

A node keeps its immutable configuration in ``self.config`` (and its ``id``), apart from
its state, which is plain data (:mod:`smrkit.core.state`), so that a search can copy and
fingerprint a whole world.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.ops import Command, Value
from smrkit.core.signatures import Signed, Signer, Verifier, cannot_sign, verifies_nothing
from smrkit.core.state import Configured

if TYPE_CHECKING:
    import random  # only the type of ``out.rng``; randomness comes from the runtime

V = TypeVar("V")

Timer: TypeAlias = Hashable
"""A timer name: any hashable value (a string or a tuple of plain values)."""


class Deleted(enum.Enum):
    """What :meth:`Out.delete` saves: the key is gone (a value no ``save`` can pass
    by accident, and plain data for the explorer's frozen states)."""

    DELETED = "deleted"


DELETED = Deleted.DELETED


def apply_saves(stored: MutableMapping[str, object], saves: Sequence[tuple[str, object]]) -> None:
    """Apply a step's saves, in order, to a runtime's stored key → value map."""
    for key, value in saves:
        if value is DELETED:
            stored.pop(key, None)
        else:
            stored[key] = value


SAME_INSTANT_S = 1e-9
"""Instants closer than this are one instant. Runtimes order the events due at one
instant by the rule of :mod:`smrkit.sim.order`; a protocol that computes the same
instant two ways (``k·τ + 2δ`` and ``(k + 1)·τ``) compares them with this tolerance."""


class Out:
    """What a handler may read (time, randomness, saved state) and the effects it asks for.

    One ``Out`` belongs to one node and is reused across steps; the runtime sets ``now``
    before each step and drains the effect lists after it. ``signer`` and ``verifier``
    are the runtime's signature functions for this node (:mod:`smrkit.core.signatures`);
    an ``Out`` built without them cannot sign and accepts no signature.
    """

    __slots__ = (
        "halt_reason",
        "now",
        "rng",
        "saved",
        "saves",
        "sends",
        "signer",
        "timers",
        "verifier",
    )

    def __init__(
        self,
        rng: random.Random,
        saved: Mapping[str, object] | None = None,
        *,
        signer: Signer = cannot_sign,
        verifier: Verifier = verifies_nothing,
    ) -> None:
        self.now: float = 0.0
        self.rng = rng
        self.saved: Mapping[str, object] = dict(saved or {})
        self.sends: list[tuple[NodeId, Message]] = []
        self.timers: dict[Timer, float | None] = {}
        self.saves: list[tuple[str, object]] = []
        self.halt_reason: str | None = None
        self.signer = signer
        self.verifier = verifier

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

    def delete(self, key: str) -> None:
        """Durable removal of a saved key (a compacted log's entries), made durable
        with this step's saves, in order with them."""
        self.saves.append((key, DELETED))

    def sign(self, value: V) -> Signed[V]:
        """``value`` signed by this node: a signature only the runtime can mint, which
        any node can relay and check (``value`` must be plain, immutable data)."""
        return self.signer(value)

    def verify(self, signed: Signed[Any]) -> bool:
        """Whether ``signed`` is a genuine signature of ``signed.value`` by
        ``signed.signer``: a pure function of the value (see :mod:`smrkit.core.signatures`)."""
        return self.verifier(signed)

    def halt(self, reason: str) -> None:
        """Fail-stop: the node has detected its own failure and stops for good. The
        messages of this step still leave (a node that must not send just sends nothing);
        the node handles nothing afterwards."""
        self.halt_reason = reason

    def clear(self) -> None:
        self.sends.clear()
        self.timers.clear()
        self.saves.clear()


class Node(Configured):
    """A participant: server, client or process. Subclasses override the handlers they
    need, and keep their immutable configuration in ``self.config``."""

    config_fields: ClassVar[tuple[str, ...]] = ("id", "config")

    done = False
    """True once the node has nothing more to do (a client with no more ops, a process
    that has decided and relayed): a run may end when every live node is done and
    nothing is in flight. Subclasses set it on the instance."""

    def __init__(self, node_id: NodeId) -> None:
        self.id = node_id

    def on_start(self, out: Out) -> None:
        """Called once when the node starts (``out.saved`` holds what it saved before)."""

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        """A message from ``src`` arrived."""

    def on_timer(self, timer: Timer, out: Out) -> None:
        """A timer this node set has fired."""

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        """Lock-step round ``r`` (from 1): ``inbox`` holds the ``(src, msg)`` sent to this
        node in round ``r − 1`` (round 0 is ``on_start``), in send order; what it sends
        now are its round-``r`` messages, delivered at the start of round ``r + 1``. A
        process that crashes in round r sends only some of them. The default hands each
        message to :meth:`on_message`, so an event-driven node also runs in rounds."""
        for src, msg in inbox:
            self.on_message(src, msg, out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id})"


class Replica(Node):
    """A server of a replicated service.

    ``is_primary`` is the predicate Prmy of property Pb1 (seed 001); protocols without a
    primary leave it ``False``. ``applied`` lists the commands applied to the state
    machine, in order, which is what log agreement compares across replicas;
    ``applied_offset`` counts the commands applied before ``applied[0]`` that this
    replica took over in a snapshot (Raft's ``InstallSnapshot``) instead of applying
    them one by one: ``applied[k]`` is the command applied ``applied_offset + k + 1``-th.
    ``anomalies`` counts, by kind, the messages it dropped because it could not use them
    (a stranger's, a stale primary's): counted and dropped, never a crash.
    """

    def __init__(self, node_id: NodeId) -> None:
        super().__init__(node_id)
        self.is_primary = False
        self.applied: list[Command] = []
        self.applied_offset = 0
        self.anomalies: dict[str, int] = {}

    def note(self, anomaly: str) -> None:
        """Count one more dropped message of kind ``anomaly``."""
        self.anomalies[anomaly] = self.anomalies.get(anomaly, 0) + 1

    def coalesced(self, stamped: list[tuple[float, Message]]) -> list[tuple[float, Message]]:
        """The messages for one peer that a real runtime sends together (one batch of
        steps), each with its send stamp, as fewer messages that mean the same to the
        receiver — or as they are (the default). A protocol overrides this only where
        the receiver ends in the same state either way (Raft: a run of AppendEntries
        that continue one another, :func:`smrkit.protocols.raft.messages.merged_appends`);
        receiving the run one by one, as the simulator delivers it, stays correct."""
        return stamped


class ClientNode(Node):
    """A client. ``dest`` is the server it currently addresses (``Dest``, Pb2), if any.

    ``done`` turns true when the client has nothing more to ask; a runtime may stop once
    every client is done.
    """

    votes = False
    """True for a client that votes on several servers' replies (active replication):
    the history records its verdicts (a ``verdicts`` list of the
    :class:`~smrkit.core.messages.ClientReply` it settled on), not the first reply."""

    def __init__(self, node_id: NodeId) -> None:
        super().__init__(node_id)
        self.dest: NodeId | None = None
        self.done = False


class ConsensusProcess(Node):
    """A process of an agreement protocol (seed 002): it proposes a value, may deliver
    values broadcast by others, and decides.

    The consensus observer records each of these as they happen (``proposed``,
    ``delivered``, ``decided``), so the specifications of seed 002 — validity, agreement,
    integrity, termination — can be checked over any run. Call :meth:`propose`,
    :meth:`deliver` and :meth:`decide`; deciding again is recorded too (integrity is a
    checker's verdict, not an assertion here)."""

    def __init__(self, node_id: NodeId) -> None:
        super().__init__(node_id)
        self.proposed = False
        self.proposal: Value = None
        self.decided = False
        self.decision: Value = None
        self.decisions = 0
        self.delivered: list[tuple[NodeId, Value]] = []

    def propose(self, value: Value) -> None:
        self.proposed = True
        self.proposal = value

    def deliver(self, sender: NodeId, value: Value) -> None:
        """Deliver ``value``, broadcast by ``sender`` (seed 002's *deliver(m)*)."""
        self.delivered.append((sender, value))

    def decide(self, value: Value) -> None:
        self.decided = True
        self.decision = value
        self.decisions += 1
