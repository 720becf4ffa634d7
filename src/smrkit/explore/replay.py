"""A path found by the model checker, run again on a kernel world: the counterexample as
a trace that ``smrkit replay`` re-runs and ``--html`` draws.

A path is a list of moves (:class:`~smrkit.explore.space.Move`); written down it is JSON
in the kernel's own words — ``deliver`` a message (by source, destination and content),
``fire`` a timer, ``start``/``crash`` a node, take the ``next`` event of a synchronous
world with the delays chosen for its sends, play a lock-step ``round`` with the crashes
of that round — and :func:`replay` applies it, event by event, to a fresh kernel
:class:`~smrkit.sim.kernel.World` built from the model's parameters: the same nodes, the
world's observers, and the network of the model's timing (a
:class:`~smrkit.sim.network.ChosenDelayNetwork` takes the chosen delays). The world's
record log is the trace; its header holds the model's parameters and the path, so the
trace alone re-runs it. :func:`differences` compares a kernel world with the search's
lean state, node by node and message by message: the test that the explorer's
transition function is the kernel's.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smrkit import __version__
from smrkit.core.ids import is_client, is_server
from smrkit.core.node import Node
from smrkit.explore.frozen import freeze_node
from smrkit.explore.models import Model
from smrkit.explore.properties import ALWAYS, View
from smrkit.explore.space import (
    ASYNC,
    DOWN,
    DUPLICATING,
    LIVE,
    LOCK_STEP,
    NODES,
    POOL,
    SYNCHRONOUS,
    Move,
    Space,
    State,
)
from smrkit.sim.faults import Fault
from smrkit.sim.kernel import Act, Crash, Deliver, Fire, Round, Start, World, step
from smrkit.sim.kernel.world import DELIVER_CLASS, TIMER_CLASS
from smrkit.sim.network import (
    AsyncNetwork,
    ChosenDelays,
    LockStepNetwork,
    Network,
    SynchronousNetwork,
    chosen_delay_network,
)
from smrkit.sim.observers import observers_for
from smrkit.sim.trace import Trace, encode

EXPLORE_FORMAT = "smrkit-explore-path"


class ReplayError(ValueError):
    """A path that does not apply to the world (another model, another smrkit)."""


# --- paths as JSON ---------------------------------------------------------------------


def path_to_json(space: Space, path: Sequence[Move]) -> list[dict[str, Any]]:
    moves: list[dict[str, Any]] = []
    for move in path:
        record: dict[str, Any] = {"kind": move.kind}
        if move.kind == "deliver":
            src, dst, msg = space.envelope(move.item)
            record.update(src=src, dst=dst, msg=encode(msg))
        elif move.kind == "fire":
            node, timer = space.timer(move.item)
            record.update(node=node, timer=encode(timer))
        elif move.kind in ("start", "crash"):
            record["node"] = space.ids[move.node]
        elif move.kind == "act":
            record.update(node=space.ids[move.node], move=encode(move.item))
        elif move.kind == "next":
            record["node"] = space.ids[move.node]
            klass, item = move.item
            if klass == DELIVER_CLASS:
                src, _, msg = space.envelope(item)
                record.update(event="deliver", src=src, msg=encode(msg))
            elif klass == TIMER_CLASS:
                record.update(event="fire", timer=encode(space.timer(item)[1]))
            else:
                record["event"] = "start"
        if move.kind == "round":
            record["round"] = move.item
            record["crashes"] = [
                [space.ids[i], [space.ids[j] for j in receivers]]
                for i, receivers in (move.cut or ())
            ]
        elif move.cut is not None:
            record["sends_before_crash"] = move.cut
        if move.delays:
            record["delays"] = list(move.delays)
        moves.append(record)
    return moves


# --- the kernel world of a model --------------------------------------------------------


def kernel_world(model: Model, seed: int = 0) -> World:
    """A fresh kernel world of ``model``'s nodes under its timing, started as the search
    starts it; ``seed`` seeds its generators (each node's ``out.rng``)."""
    nodes: list[Node] = model.nodes()
    config = model.space
    network: Network
    if config.timing == SYNCHRONOUS:
        network = chosen_delay_network(max(config.delays), min(config.delays))
    elif config.timing == LOCK_STEP:
        network = LockStepNetwork(config.round_s)
    else:
        network = AsyncNetwork()
    world = World(nodes, seed=seed, network=network, observers=observers_for(nodes))
    if config.timing == LOCK_STEP or (config.timing == ASYNC and config.start_at_init):
        for node in nodes:
            step(world, Start(node.id))
    return world


@dataclass
class Replayed:
    world: World
    trace: Trace


def replay(model: Model, moves: Sequence[dict[str, Any]]) -> Replayed:
    """Apply the JSON ``moves`` to a fresh kernel world of ``model``."""
    world = kernel_world(model)
    for number, move in enumerate(moves, start=1):
        try:
            _apply(world, model, move)
        except (KeyError, ValueError, TypeError, RuntimeError) as error:
            raise ReplayError(
                f"move {number} ({json.dumps(move)}) does not apply: {error}"
            ) from None
    header = {
        "smrkit": __version__,
        "explore": {"format": EXPLORE_FORMAT, **model.parameters, "path": list(moves)},
        "protocol": model.name,
        "timing": model.space.timing,
        "servers": [node for node in world.nodes if is_server(node)],
        "clients": [node for node in world.nodes if is_client(node)],
    }
    return Replayed(world, Trace(header, world.log))


def _crash_now(world: World, node: str, **cut: Any) -> None:
    step(world, Crash(Fault("crash", node, start=_fault_time(world), **cut)))


def _fault_time(world: World) -> float:
    return float(world.round + 1) if world.network.clock == "rounds" else world.now


def _apply(world: World, model: Model, move: dict[str, Any]) -> None:
    kind = move["kind"]
    cut = move.get("sends_before_crash")
    if kind == "deliver":
        wanted = (move["src"], move["dst"], move["msg"])
        in_flight = {m: (m.src, m.dst, encode(m.msg)) for m in world.messages.values()}
        message = _one(in_flight, wanted, f"no such message in flight: {wanted}")
        _step_cut(world, message, message.dst, cut)
        if model.space.network == DUPLICATING:
            world.messages[message.id] = message  # a duplicating network keeps it in flight
    elif kind == "fire":
        pending = {f: (node, encode(name)) for (node, name), f in world.timers.items()}
        wanted_timer = (move["node"], move["timer"])
        fire = _one(pending, wanted_timer, f"no such pending timer: {wanted_timer}")
        _step_cut(world, fire, fire.node, cut)
    elif kind == "start":
        step(world, Start(move["node"]))
    elif kind == "crash":
        _crash_now(world, move["node"])
    elif kind == "act":
        step(world, Act(move["node"], _tuples(move["move"])))
    elif kind == "next":
        _next(world, move, cut)
    elif kind == "round":
        r = move["round"]
        for node, receivers in move.get("crashes", []):
            step(
                world,
                Crash(
                    Fault("crash", node, start=float(r), receivers=tuple(receivers), in_rounds=True)
                ),
            )
        step(world, Round(r))
    else:
        raise ValueError(f"unknown move kind {kind!r}")


def _tuples(value: Any) -> Any:
    """A move read back from JSON: its lists were tuples."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def _one(candidates: dict[Any, Any], wanted: Any, missing: str) -> Any:
    """The first candidate whose description is ``wanted``."""
    for candidate, description in candidates.items():
        if description == wanted:
            return candidate
    raise ValueError(missing)


def _step_cut(world: World, event: Any, node: str, cut: int | None) -> None:
    """Step ``event``; with ``cut``, ``node`` crashes during it after ``cut`` sends."""
    if cut is not None:
        _crash_now(world, node, after_sends=cut)
    step(world, event)


def _next(world: World, move: dict[str, Any], cut: int | None) -> None:
    """The synchronous world's next event (stale timer entries fire as nothing first)."""
    network = world.network
    assert isinstance(network, SynchronousNetwork) and isinstance(network.rng, ChosenDelays)
    while world.agenda:
        _, at, event = world.agenda[0]
        if isinstance(event, Fire) and _stale(world, event):
            heapq.heappop(world.agenda)
            world.advance(event, at)
            continue
        break
    if not world.agenda:
        raise ValueError("nothing left to happen")
    _, at, event = world.agenda[0]
    node = _actor(event)
    if node != move["node"] or _event_kind(event) != move.get("event", _event_kind(event)):
        raise ValueError(f"the next event is {_event_kind(event)} at {node}, not {move}")
    if cut is not None:
        _crash_now(world, node, after_sends=cut)
    network.rng.pending = list(move.get("delays", []))
    heapq.heappop(world.agenda)
    world.advance(event, at)
    if network.rng.pending:
        raise ValueError(f"{len(network.rng.pending)} chosen delays left unused")


def _event_kind(event: Any) -> str:
    return (
        "deliver" if isinstance(event, Deliver) else "fire" if isinstance(event, Fire) else "start"
    )


def _stale(world: World, fire: Fire) -> bool:
    current = world.timers.get((fire.node, fire.timer))
    return current is None or current.gen != fire.gen or fire.node in world.down


def _actor(event: Any) -> str:
    if isinstance(event, Deliver):
        return event.dst
    if isinstance(event, Fire | Start):
        return event.node
    raise ValueError(f"the next event is {type(event).__name__}, not a node's step")


# --- the lean state against the kernel's world ------------------------------------------


def differences(space: Space, state: State, world: World) -> list[str]:
    """Where the kernel ``world`` and the search's ``state`` disagree (empty: nowhere):
    node states, who is down, and the messages in flight as a multiset."""
    found: list[str] = []
    for i, node_id in enumerate(space.ids):
        if freeze_node(world.nodes[node_id]) != space.node_state(state[NODES][i]):
            found.append(f"{node_id}'s state differs")
        if (node_id in world.down) != (state[DOWN][i] != LIVE):
            found.append(f"{node_id} is down in one and not the other")
    if space.config.network != DUPLICATING:
        kernel = sorted(repr((m.src, m.dst, m.msg)) for m in world.messages.values())
        if space.config.timing == SYNCHRONOUS:
            items = [e[2] for e in state[POOL] if e[1] == DELIVER_CLASS]
        else:
            items = list(state[POOL])
        lean = sorted(repr(space.envelope(e)) for e in items)
        if kernel != lean:
            found.append(f"messages in flight differ: kernel {kernel}, search {lean}")
    return found


# --- the path in the search's own states ---------------------------------------------


def walk(space: Space, moves: Sequence[dict[str, Any]]) -> list[State]:
    """The search's states along the JSON ``moves``, from the initial state."""
    states = [space.initial()]
    for number, move in enumerate(moves, start=1):
        for candidate, after in space.successors(states[-1]):
            if path_to_json(space, [candidate])[0] == move:
                states.append(after)
                break
        else:
            raise ReplayError(f"move {number} ({json.dumps(move)}) is not possible there")
    return states


@dataclass
class PathVerdict:
    name: str
    expectation: str
    step: int | None
    """Where along the path the property failed (``always``) or held (``sometimes``,
    ``eventually``): the number of moves taken; ``None``: nowhere."""

    @property
    def ok(self) -> bool:
        return (self.step is None) == (self.expectation == ALWAYS)


def path_verdicts(model: Model, moves: Sequence[dict[str, Any]]) -> list[PathVerdict]:
    """Each of ``model``'s properties judged along the path."""
    space = model.build_space()
    states = walk(space, moves)
    verdicts = []
    for prop in model.properties:
        step_found = None
        for number, state in enumerate(states):
            holds = prop.condition(View(space, state))
            if holds != (prop.expectation == ALWAYS):
                step_found = number
                break
        verdicts.append(PathVerdict(prop.name, prop.expectation, step_found))
    return verdicts
