"""The discrete-event simulator: a driver that walks a world, one chosen event at a time.

The world (:mod:`smrkit.sim.kernel`) holds the nodes, the messages in flight, the timers
and the faults, and applies events; a chooser (:mod:`smrkit.sim.choosers`) — the timing
model's adversary — picks each next event; observers (:mod:`smrkit.sim.observers`) turn
what the nodes expose into records. This module only loops and decides when to stop: at
the time limit, when nothing can happen any more, a bounded horizon after every server
is down for good (``dead_horizon_s``), or — with clients — once every client is done,
the messages in flight have drained (``drain_s``) and the fault plan has settled
(``settle_until_s``). Every source of randomness is a ``random.Random`` seeded from the
run's seed and a fixed name, so a run is a pure function of (configuration, seed): same
seed, same trace, same ``trace_hash``.

Under the ``synchronous`` timing (:class:`~smrkit.sim.network.SynchronousNetwork` with
:class:`~smrkit.sim.choosers.EarliestFirst`) events are taken in the order of the rule
of :mod:`smrkit.sim.order`, which the TCP runtime follows too: by instant (to the
nanosecond), then faults, starts, deliveries and timers — so a time-out at ``t + δ``
sees every message enqueued by ``t + δ``, as the model of seed 001 requires — then in
scheduling order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from smrkit.core.ids import NodeId, is_server
from smrkit.core.node import Node
from smrkit.sim.choosers import Chooser, EarliestFirst, LockStep, OldestFirst
from smrkit.sim.faults import FaultPlan
from smrkit.sim.kernel.records import END, Record
from smrkit.sim.kernel.world import Observer, SimulationError, World
from smrkit.sim.network import ROUNDS, Network
from smrkit.sim.observers import HistoryObserver, observers_for
from smrkit.sim.trace import Trace

__all__ = ["PROGRESS_EVERY_STEPS", "SimulationError", "Simulator", "default_chooser"]

PROGRESS_EVERY_STEPS = 20_000
"""How often a run reports its progress: ~0.1 s of a run's wall time."""


def default_chooser(network: Network) -> Chooser:
    """The chooser a network runs under unless told otherwise."""
    if network.clock == ROUNDS:
        return LockStep()
    if network.clock_visible:
        return EarliestFirst()
    return OldestFirst()


class Simulator:
    """One run: nodes, a network, a chooser, a fault plan and a seed. Call :meth:`run` once.

    ``time_limit_s`` is in the network's clock units: virtual seconds, rounds
    (``lock-step``) or steps (``async``). ``rebuild`` builds a new incarnation of a node
    for the plan's ``restart`` faults. ``dead_horizon_s``: once every server is down for
    good (crashed or halted, no restart to come), the run goes on only that much longer —
    the clients' retries to a dead service show, without filling the time limit."""

    def __init__(
        self,
        nodes: Sequence[Node],
        *,
        seed: int,
        network: Network,
        plan: FaultPlan,
        header: dict[str, Any],
        time_limit_s: float,
        settle_until_s: float = 0.0,
        drain_s: float = 0.0,
        stop_when_clients_done: bool | None = None,
        chooser: Chooser | None = None,
        observers: Sequence[Observer] | None = None,
        rebuild: Callable[[NodeId], Node] | None = None,
        dead_horizon_s: float | None = None,
    ) -> None:
        watching = observers_for(nodes) if observers is None else list(observers)
        self.world = World(
            nodes, seed=seed, network=network, plan=plan, observers=watching, rebuild=rebuild
        )
        self.chooser = default_chooser(network) if chooser is None else chooser
        self._history = next((o for o in watching if isinstance(o, HistoryObserver)), None)
        clients = 0 if self._history is None else len(self._history.pending)
        if stop_when_clients_done is None:
            stop_when_clients_done = clients > 0
        self._stop_when_clients_done = stop_when_clients_done
        self._time_limit = time_limit_s
        self._settle_until = settle_until_s
        self._drain_s = drain_s
        self._dead_horizon = dead_horizon_s
        self._servers = tuple(node for node in self.world.nodes if is_server(node))
        self._last_change = plan.last_change()
        self.trace = Trace(header, self.world.log)
        self._ran = False

    @property
    def now(self) -> float:
        return self.world.now

    @property
    def steps(self) -> int:
        return self.world.steps

    def run(self, progress: Callable[[int, float], None] | None = None) -> Trace:
        """Run until nothing is left, the time limit, or the clients are done and the
        run has drained and settled. ``progress`` is told, every
        :data:`PROGRESS_EVERY_STEPS` steps, how many client commands are answered and the
        virtual time (it reads the run; it changes nothing in it)."""
        if self._ran:
            raise RuntimeError("a Simulator runs once")
        self._ran = True
        world, chooser, history = self.world, self.chooser, self._history
        advance, choose, time_of = world.advance, chooser.choose, world.time_of
        limit = self._time_limit
        watch_clients = self._stop_when_clients_done
        stopping = False
        down, down_seen, last_change = world.down, 0, self._last_change
        every = PROGRESS_EVERY_STEPS if progress is not None else 0
        while True:
            choice = choose(world)
            if choice is None:
                break
            at, event = choice
            when = time_of(event) if at is None else at
            if when > limit:
                world.now = limit
                break
            advance(event, when)
            if every and world.steps % every == 0:
                assert progress is not None
                progress(0 if history is None else history.completed, world.now)
            if watch_clients and (history is None or not history.pending):
                watch_clients = False
                self._settle_until = max(self._settle_until, world.now + self._drain_s)
                stopping = True
            if len(down) != down_seen and when >= last_change:
                down_seen = len(down)
                if not stopping and self._dead_for_good():
                    assert self._dead_horizon is not None
                    watch_clients, stopping = False, True
                    self._settle_until = world.now + self._dead_horizon
            if stopping:
                if not world.timed:
                    break
                following = chooser.next_time(world)
                if following is None or following > self._settle_until:
                    break
        world.log.append(Record(world.now, END, None, None, None, None))
        return self.trace

    def _dead_for_good(self) -> bool:
        """Every server crashed or halted; called once the fault plan's last change is
        past, so no restart is to come: nothing the clients ask can be served any more."""
        world = self.world
        return (
            self._dead_horizon is not None
            and bool(self._servers)
            and all(server in world.down for server in self._servers)
        )
