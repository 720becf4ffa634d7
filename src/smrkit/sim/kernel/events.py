"""What may happen next in a world: the events :func:`~smrkit.sim.kernel.enabled` lists
and :func:`~smrkit.sim.kernel.step` applies. Each is a small ``NamedTuple``, a value a
search can store, compare and replay.

How they name things:

* a **message** is named by its id: an ``int``, 1, 2, 3, … in the order the world's
  nodes sent them (a message sent to several nodes is several messages). Ids are part of
  the trace (``send``/``deliver``/``drop`` records) and stable under replay. The event
  that delivers a message is the in-flight message itself (:class:`Deliver`), so the
  world's pool *is* the list of its possible deliveries;
* a **timer** is named by its node, the node's own name for it (any hashable plain
  value: ``"retry"``, ``("check", 3, 1)``) and its generation ``gen``: setting a timer
  again gives it a new generation, so a ``Fire`` of an older generation is a no-op
  (the discrete-event queue keeps entries of replaced timers; they fire as nothing);
* a **fault change** is a fault of the run's plan beginning or ending (``phase``);
* a **round** is lock-step's round number, from 1 (round 0 is every node's start);
* an **act** is a Byzantine node's free move (one of its ``moves()``, a plain value).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple, TypeAlias

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Timer
from smrkit.sim.faults import Fault


class Start(NamedTuple):
    """``node`` starts (``on_start``); in ``async`` it is the seed's dummy message (r, ⊥)."""

    node: NodeId


class Deliver(NamedTuple):
    """The in-flight message ``id`` reaches its destination (or is dropped there).

    It is the message as the world holds it: ``msg`` from ``src`` to ``dst``, sent at
    ``sent_at``, due at ``due`` (timed networks; the send time elsewhere), and ``seq``, its
    place in the world's scheduling order (what ``oldest-first`` orders by)."""

    id: int
    src: NodeId
    dst: NodeId
    msg: Message
    sent_at: float
    due: float
    seq: int


class Fire(NamedTuple):
    """``node``'s timer ``timer`` of generation ``gen`` fires; it asked for time ``at``."""

    node: NodeId
    timer: Timer
    gen: int
    at: float


class FaultChange(NamedTuple):
    """A fault of the plan begins or ends (``phase``) at time ``at``."""

    at: float
    phase: str
    fault: Fault


class Crash(NamedTuple):
    """The adversary crashes ``fault.node`` now — or, with ``after_sends`` or ``receivers``
    set, in its next step, letting only part of that step's messages leave."""

    fault: Fault


class Round(NamedTuple):
    """Lock-step round ``r``: every live node receives what was sent to it in round
    ``r − 1`` and takes its step, ``on_round(r, inbox, out)``."""

    r: int


class Act(NamedTuple):
    """The Byzantine node ``node`` takes ``move``, one of the steps it offers unprompted
    (:meth:`~smrkit.core.byzantine.ByzantineNode.moves`): what a search branches over."""

    node: NodeId
    move: Hashable


Event: TypeAlias = Start | Deliver | Fire | FaultChange | Crash | Round | Act
