"""Choosers: the adversary that picks which enabled event happens next.

A timing model is a network (:mod:`smrkit.sim.network`: delays and clock, part of the
world) and a chooser (here: who picks). A chooser looks at a world and returns
``(at, event)`` — the event to take and the time it happens at (``None``: the kernel's
clock rule decides) — or ``None`` when it stops. It never changes the world itself; the
driver hands its choice to :meth:`~smrkit.sim.kernel.world.World.advance`.

* :class:`EarliestFirst` — ``synchronous`` and ``partial-sync``: the delays were drawn
  when the messages were sent, so the next event is the agenda's first, ordered by
  the one rule of :mod:`smrkit.sim.order` (by instant to the nanosecond, then faults,
  starts, deliveries, timers, then scheduling order).
* :class:`LockStep` — ``lock-step``: round after round while anything is left to do.
* :class:`RandomOrder`, :class:`OldestFirst`, :class:`Scripted` — ``async`` (seed 004's
  pool M): any enabled event, picked by a seeded generator, in creation order (fair:
  every message is eventually delivered), or read from a schedule.
* :class:`SplitKeeping` — ``async``, an adversary that reads the messages: it delivers
  to each node first the value that node has heard least of (per protocol phase), to
  keep the values split — what a scheduler does against a majority-based protocol.

Every chooser is deterministic given the world and its own seed, so a run stays a pure
function of (configuration, seed) under every timing.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from smrkit.sim.faults import Fault
from smrkit.sim.kernel.events import Act, Crash, Deliver, Event, FaultChange, Fire, Round, Start
from smrkit.sim.kernel.world import World, enabled

Choice = tuple[float | None, Event]


class Chooser(Protocol):
    name: str

    def choose(self, world: World) -> Choice | None:
        """The next event and its time, or ``None`` to stop."""
        ...

    def next_time(self, world: World) -> float | None:
        """When the next event would happen, if the timing model knows (timed worlds)."""
        ...


class EarliestFirst:
    """The timed chooser: the agenda's first entry, at its time."""

    name = "earliest-first"

    def choose(self, world: World) -> Choice | None:
        agenda = world.agenda
        if not agenda:
            return None
        _, at, event = heapq.heappop(agenda)
        return at, event

    def next_time(self, world: World) -> float | None:
        return world.agenda[0][1] if world.agenda else None


class UntimedChooser:
    """Base of the choosers of untimed worlds (``lock-step``, ``async``): a plan's fault
    change that is due goes first; otherwise :meth:`pick` chooses among the enabled
    events (the adversary's crashes and a Byzantine node's free moves are left to
    searches: a simulated adversary acts from its handlers)."""

    name = "untimed"

    def choose(self, world: World) -> Choice | None:
        events = enabled(world)
        if len(events) == 1 and isinstance(events[0], FaultChange):
            return None, events[0]
        events = [event for event in events if not isinstance(event, Crash | Act)]
        return (None, self.pick(world, events)) if events else None

    def pick(self, world: World, events: list[Event]) -> Event:
        """One of ``events`` (never empty)."""
        raise NotImplementedError

    def next_time(self, world: World) -> float | None:
        return None


class LockStep(UntimedChooser):
    """Rounds, one after another; the plan's faults of a round just before it."""

    name = "lock-step"

    def pick(self, world: World, events: list[Event]) -> Event:
        return events[0]


class RandomOrder(UntimedChooser):
    """``async``: a seeded adversary picks any enabled event."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}/schedule")

    def pick(self, world: World, events: list[Event]) -> Event:
        return self.rng.choice(events)


class OldestFirst(UntimedChooser):
    """``async``, fair: starts first, then the message or timer created earliest."""

    name = "oldest"

    def pick(self, world: World, events: list[Event]) -> Event:
        return min(events, key=lambda event: _created(world, event))


ValueOf = Callable[[object], tuple[Hashable, Hashable] | None]
"""``(phase, value)`` a message carries, or ``None`` for a message that carries none."""


class SplitKeeping(UntimedChooser):
    """``async``: the adversary that keeps values split. Among the deliveries it may
    make, it takes one carrying the value its receiver has so far heard least of in
    that message's phase (``value_of``), ties broken by a seeded generator. Every node
    starts first; a message carrying no value, or a timer, goes only when no valued
    message is in flight (then a seeded pick among all). Every message is still delivered eventually
    in a run that ends (it delays, never drops)."""

    name = "split"

    def __init__(self, seed: int, value_of: ValueOf) -> None:
        self.rng = random.Random(f"{seed}/schedule")
        self.value_of = value_of
        self.heard: dict[tuple[str, Hashable, Hashable], int] = {}

    def pick(self, world: World, events: list[Event]) -> Event:
        starts = [event for event in events if isinstance(event, Start)]
        if starts:
            return starts[0]
        best: list[Deliver] = []
        fewest = None
        for event in events:
            if not isinstance(event, Deliver):
                continue
            carried = self.value_of(event.msg)
            if carried is None:
                continue
            heard = self.heard.get((event.dst, *carried), 0)
            if fewest is None or heard < fewest:
                best, fewest = [event], heard
            elif heard == fewest:
                best.append(event)
        if not best:
            return self.rng.choice(events)
        chosen = self.rng.choice(best)
        carried = self.value_of(chosen.msg)
        assert carried is not None
        key = (chosen.dst, *carried)
        self.heard[key] = self.heard.get(key, 0) + 1
        return chosen


def _created(world: World, event: Event) -> int:
    if isinstance(event, Deliver):
        return event.seq
    if isinstance(event, Fire):
        return event.gen
    return -1  # starts: the initial pool


class ScheduleError(ValueError):
    """A schedule line that does not parse, or names an event that is not enabled."""


@dataclass(frozen=True)
class ScheduledEvent:
    """One line of a schedule: ``start p1``, ``deliver 7``, ``fire p1 "retry"`` (the
    timer as JSON), ``crash p2``, ``act p3 ["send", 1]`` (a Byzantine node's move, as
    JSON)."""

    line: int
    what: str
    node: str | None = None
    message: int | None = None
    timer: object = None

    def matches(self, event: Event) -> bool:
        if self.what == "start":
            return isinstance(event, Start) and event.node == self.node
        if self.what == "deliver":
            return isinstance(event, Deliver) and event.id == self.message
        if self.what == "fire":
            return isinstance(event, Fire) and (event.node, event.timer) == (self.node, self.timer)
        if self.what == "act":
            return isinstance(event, Act) and (event.node, event.move) == (self.node, self.timer)
        return isinstance(event, Crash) and event.fault.node == self.node


def _freeze(value: object) -> object:
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


def parse_schedule(lines: Sequence[str]) -> list[ScheduledEvent]:
    """Parse a schedule (one event per line; blank lines and ``#`` comments skipped)."""
    events: list[ScheduledEvent] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        what, _, rest = text.partition(" ")
        rest = rest.strip()
        if what in ("start", "crash") and rest and " " not in rest:
            events.append(ScheduledEvent(number, what, node=rest))
        elif what == "deliver" and rest.isdigit():
            events.append(ScheduledEvent(number, what, message=int(rest)))
        elif what in ("fire", "act") and " " in rest:
            node, _, timer_text = rest.partition(" ")
            try:
                timer = json.loads(timer_text)
            except json.JSONDecodeError:
                timer = timer_text.strip()
            events.append(ScheduledEvent(number, what, node=node, timer=_freeze(timer)))
        else:
            raise ScheduleError(
                f"schedule line {number}: {raw.strip()!r} is not an event; write "
                "'start p1', 'deliver 7' (a message id), 'fire p1 \"retry\"' (a timer, as "
                "JSON), 'crash p2' or 'act p3 [\"move\"]' (a Byzantine node's move, as JSON)"
            )
    return events


class Scripted:
    """``async``, from a schedule: each line's event must be enabled when its turn
    comes (due fault changes of the plan go first, without a line); the run ends with
    the schedule."""

    name = "script"

    def __init__(self, schedule: Sequence[ScheduledEvent]) -> None:
        self.schedule = list(schedule)
        self.position = 0

    def choose(self, world: World) -> Choice | None:
        events = enabled(world)
        if len(events) == 1 and isinstance(events[0], FaultChange):
            return None, events[0]
        if self.position >= len(self.schedule):
            return None
        wanted = self.schedule[self.position]
        self.position += 1
        if wanted.what == "crash":
            if wanted.node not in world.live:
                raise ScheduleError(f"schedule line {wanted.line}: {wanted.node} is not live")
            assert wanted.node is not None
            return None, Crash(Fault("crash", wanted.node, start=world.now))
        for event in events:
            if wanted.matches(event):
                return None, event
        raise ScheduleError(
            f"schedule line {wanted.line}: {wanted.what} {wanted.node or wanted.message or ''} "
            f"is not enabled now; enabled: {describe(events)}"
        )

    def next_time(self, world: World) -> float | None:
        return None


def describe(events: Sequence[Event], limit: int = 8) -> str:
    """A short list of events in the schedule's own words."""
    words = []
    for event in events[:limit]:
        if isinstance(event, Start):
            words.append(f"start {event.node}")
        elif isinstance(event, Deliver):
            words.append(f"deliver {event.id}")
        elif isinstance(event, Fire):
            words.append(f"fire {event.node} {json.dumps(event.timer, default=str)}")
        elif isinstance(event, Crash):
            words.append(f"crash {event.fault.node}")
        elif isinstance(event, Round):
            words.append(f"round {event.r}")
        elif isinstance(event, Act):
            words.append(f"act {event.node} {json.dumps(event.move, default=str)}")
        else:
            words.append(f"{event.phase} {event.fault.spec}")
    more = f" … ({len(events)} in all)" if len(events) > limit else ""
    return (", ".join(words) or "nothing") + more
