"""The world kernel: one transition system under every run of smrkit.

A simulation, a model-checking search, a scenario test and (for its effects) the TCP
runtime all walk the same transition system. This package is it; what follows is what
you need to build on it.

**The world.** A :class:`World` holds every node (state and configuration), each node's
``Out`` (its seeded generator, what it saved), the pool of in-flight messages, the pending
timers, the nodes not started yet, the crashed and halted nodes, the fault state and the
network (which draws delays). ``World(nodes, seed=…, network=…, plan=…, observers=…,
crash_budget=…)`` builds one; every generator in it is seeded from ``seed`` and a fixed
name (``"{seed}/node/p1"``, ``"{seed}/net"``, ``"{seed}/faults"``).

**Events.** :func:`enabled` lists what may happen next; :func:`step` applies one (in
place) and returns its typed :class:`Record` s (``r.kind == SEND``, ``r.num`` the message
id…; the kinds are tabled in :mod:`~smrkit.sim.kernel.records`). The events
(:mod:`~smrkit.sim.kernel.events`) are small ``NamedTuple`` values:

* ``Start(node)`` — ``on_start``; under ``async`` it is seed 004's dummy message (r, ⊥);
* ``Deliver`` — *is* the in-flight message: ``id, src, dst, msg, sent_at, due, seq``.
  **Message ids** are ints 1, 2, 3… in the order the world's nodes sent them (a send to
  three nodes is three messages), the same ids the trace's ``send``/``deliver``/``drop``
  records carry, so a schedule written against a trace replays;
* ``Fire(node, timer, gen, at)`` — **a timer is named by its node and its own name**
  (any hashable plain value: ``"retry"``, ``("check", 3, 1)``); ``gen`` tells one setting
  from the next, and a ``Fire`` of a replaced or cancelled generation does nothing;
* ``FaultChange(at, phase, fault)`` — a fault of the plan begins or ends; it is forced:
  when one is due, :func:`enabled` returns it alone;
* ``Crash(fault)`` — the adversary crashes a live node now (offered while
  ``world.crash_budget > 0``), or, with ``fault.after_sends``/``fault.receivers``, arms a
  cut so that only part of the node's next step's messages leave;
* ``Round(r)`` — lock-step round r;
* ``Act(node, move)`` — a Byzantine node takes one of the free moves it offers
  (``node.moves()``); listed under ``async`` and ``lock-step`` for searches to branch
  over, never taken by the simulator's choosers.

**Effects.** A node's handler only asks, through ``out``; the one applier,
:func:`apply_effects`, then hands them to an :class:`EffectSink` in etcd-raft's ``Ready``
order — saves (one batch), sends in order (a :class:`CrashCut` lets only a prefix or
some receivers' leave), timers, halt. The world is a sink; so is the TCP runtime
(:mod:`smrkit.net.replica`). Do not apply effects any other way.

**Byzantine nodes and signatures.** A plan's ``byzantine:p3=NAME`` makes the world
build p3 and hand it to adversary code (:mod:`smrkit.core.byzantine`,
:mod:`smrkit.sim.adversary`); ``world.byzantine`` lists such nodes. The world's
:class:`~smrkit.sim.kernel.signatures.Keyring` gives each node's ``out`` a signer of its
own and the one verification function, then closes; copies share it. A Byzantine node
is plain data like any other (the honest node it replaced is part of its state), so it
copies and fingerprints; a signed value fingerprints as its signer, value and seal text.

**Driving a world by hand.** Beyond the events, a world offers what a scenario's
adversary needs (:mod:`smrkit.sim.scenario`): ``world.lose(id, cause)`` drops an
in-flight message, and ``world.restart(node)`` puts a new incarnation of a crashed or
halted node in its place, starting now with what the old one saved (observers hear of it
through ``Observer.restarted``).

**Branching a world (a search).** Worlds are values::

    frontier = [world]
    while frontier:
        current = frontier.pop()
        for event in enabled(current):
            child = current.copy()          # deep copy; configurations shared, log empty
            records = step(child, event)    # what happened, for properties and traces
            key = world_fingerprint(child)  # 64-bit canonical hash (kernel.fingerprint)
            ...

``World.copy`` deep-copies everything but node configurations (immutable, shared) and
the record log (the copy's starts empty). That is fine for a few branches; a model
checker visiting tens of thousands of states uses :mod:`smrkit.explore.space` instead,
which keeps each node's state frozen and interned, runs the same handlers through the
same applier, and is tested move for move against this kernel. ``world_fingerprint``
covers node states, storage, the message pool as a multiset (ids left out: two paths
that send the same messages in another order meet), pending timers, unstarted and down
nodes, cuts, faults to come, the crash budget, the clock and due times in timed and
lock-step worlds, and (``rng=True``) every generator's state. A search over a protocol
that never draws from ``out.rng`` can pass ``rng=False``. A replayable counterexample
is the list of events taken: a :class:`~smrkit.sim.choosers.Scripted` chooser replays
it (``deliver 7``, ``fire p1 "retry"``, ``start p2``, ``crash p3``).

**Timing models are a network and a chooser.** The network (:mod:`smrkit.sim.network`)
lives in the world: it sets ``due`` when a message is sent and says what ``out.now``
shows (nothing under ``async``: nodes read 0.0; round r starts at r · ``round_s`` under
``lock-step``). A chooser (:mod:`smrkit.sim.choosers`) picks among :func:`enabled`'s
events and returns ``(at, event)``; the driver calls ``world.advance(event, at)``. To
plug one in, implement ``choose(world)`` and ``next_time(world)`` (``None`` if untimed)
and pass it to :class:`~smrkit.sim.simulator.Simulator`. Under ``synchronous`` and
``partial-sync`` the delays were drawn at send time, so :func:`enabled` returns the one
next event of the world's agenda, ordered by the one rule for events due at one
instant (:mod:`smrkit.sim.order`, shared with the TCP runtime's timers): by instant to
the nanosecond, then faults, starts, deliveries and timers, then scheduling order.

**A lock-step node** implements ``on_round(r, inbox, out)``: ``inbox`` is the tuple of
``(src, msg)`` sent to it in round r − 1, in send order (empty for r = 1; round 0 is
``on_start``); what it sends are round r's messages, delivered at the start of round
r + 1. ``crash:p2@r3/p1,p4`` crashes p2 in round 3 after its ``on_round`` with only its
messages to p1 and p4 leaving. A decision made in ``on_round(r, …)`` on round r − 1's
messages is recorded by the consensus observer as a decision *in round r − 1* — the
seeds' numbering, so floodset "decides by round f + 1" when its ``decided`` records say
``num <= f + 1``. Set ``self.done = True`` once the node has nothing left to do: a
lock-step run ends when every live node is done and nothing is in flight.

**Determinism.** A run is a pure function of (configuration, seed): every generator is
seeded by name; the pool is a dict in id order; timers fire in generation order; nodes
step in the world's order; canonical texts sort dict items and set members by their own
text, never by hash; nothing depends on ``PYTHONHASHSEED`` or object identity. Choosers
are deterministic given their own seed. ``tests/sim/test_pinned_traces.py`` pins
``trace_hash`` of runs from before the kernel, bit for bit.
"""

from smrkit.sim.kernel.effects import CrashCut, EffectSink, apply_effects
from smrkit.sim.kernel.events import Act, Crash, Deliver, Event, FaultChange, Fire, Round, Start
from smrkit.sim.kernel.records import Record
from smrkit.sim.kernel.world import Observer, SimulationError, World, enabled, step

__all__ = [
    "Act",
    "Crash",
    "CrashCut",
    "Deliver",
    "EffectSink",
    "Event",
    "FaultChange",
    "Fire",
    "Observer",
    "Record",
    "Round",
    "SimulationError",
    "Start",
    "World",
    "apply_effects",
    "enabled",
    "step",
]
