"""The discrete-event simulator: runs sans-I/O nodes in virtual time.

Events wait in a heap ordered by the rule of :mod:`smrkit.sim.order`, which the TCP
runtime follows too: by instant (to the nanosecond), then faults, node starts, message
deliveries and timers — so a time-out at ``t + δ`` sees every message that was enqueued
by ``t + δ``, as the model of seed 001 requires — then in the order events were
scheduled. Every source of
randomness is a ``random.Random`` seeded from the run's seed and a fixed name, so a run is
a pure function of (configuration, seed): same seed, same trace, same ``trace_hash``.

After each handler returns, the simulator records what changed in the node's observable
state — a replica's ``is_primary`` and ``applied``, a client's ``dest`` — so that checkers
can work from the trace alone; then it applies the effects in a fixed order: saves, then
sends (in the order made; a crash "after k sends" lets only the first k leave), then
timers, then halt. Recording the state first means a request sent in the same step as a
change of ``Dest`` appears after that change, and a reply after its ``apply``.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence
from typing import Any

from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.node import ClientNode, Node, Out, Replica, Timer
from smrkit.sim import order
from smrkit.sim import trace as tr
from smrkit.sim.faults import Fault, FaultPlan
from smrkit.sim.network import SynchronousNetwork
from smrkit.sim.order import event_key
from smrkit.sim.trace import Event, Trace

_FAULT, _START, _DELIVER, _TIMER = order.FAULT, order.START, order.DELIVER, order.TIMER
_REPLICA, _CLIENT, _OTHER = 0, 1, 2


class SimulationError(RuntimeError):
    """A node's handler raised: a bug in the protocol (or a broken invariant), not input."""


class Simulator:
    """One run: nodes, a network, a fault plan and a seed. Call :meth:`run` once."""

    def __init__(
        self,
        nodes: Sequence[Node],
        *,
        seed: int,
        network: SynchronousNetwork,
        plan: FaultPlan,
        header: dict[str, Any],
        time_limit_s: float,
        settle_until_s: float = 0.0,
        drain_s: float = 0.0,
        stop_when_clients_done: bool | None = None,
        rebuild: Callable[[str], Node] | None = None,
    ) -> None:
        ids = [node.id for node in nodes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate node ids in {ids}")
        plan.validate(ids)
        self._nodes: dict[str, Node] = {node.id: node for node in nodes}
        self._kind: dict[str, int] = {}
        for node in nodes:
            if isinstance(node, Replica):
                self._kind[node.id] = _REPLICA
            elif isinstance(node, ClientNode):
                self._kind[node.id] = _CLIENT
            else:
                self._kind[node.id] = _OTHER
        self._outs = {node.id: Out(random.Random(f"{seed}/node/{node.id}")) for node in nodes}
        self._net = network
        self._plan = plan
        self._fault_rng = random.Random(f"{seed}/faults")
        self._seed = seed
        self._time_limit = time_limit_s
        self._settle_until = settle_until_s
        self._drain_s = drain_s
        self.now = 0.0
        self.steps = 0
        self._heap: list[tuple[Any, ...]] = []
        self._seq = 0
        self._next_msg = 0
        self._events: list[Event] = []
        self._down: dict[str, str] = {}
        self._timers: dict[tuple[str, Timer], int] = {}
        self._crash_after: dict[str, tuple[int, str]] = {}
        self._prmy: dict[str, bool] = {}
        self._applied: dict[str, int] = {}
        self._dest: dict[str, str | None] = {}
        self._open: set[tuple[str, int]] = set()
        self._storage: dict[str, dict[str, object]] = {node.id: {} for node in nodes}
        self._clients_left = sum(1 for k in self._kind.values() if k == _CLIENT)
        if stop_when_clients_done is None:
            stop_when_clients_done = self._clients_left > 0
        self._stop_when_clients_done = stop_when_clients_done
        self._stopping = False
        self._send_rules: list[Fault] = []
        self._recv_rules: list[Fault] = []
        for fault in plan.faults:
            if fault.kind in ("link", "send-omission", "general-omission"):
                self._send_rules.append(fault)
            if fault.kind in ("receive-omission", "general-omission"):
                self._recv_rules.append(fault)
        self.trace = Trace(header, self._events)
        self._rebuild = rebuild
        """Builds a fresh node for a ``restart`` fault (a new incarnation that recovers
        from what its predecessor saved)."""
        self._ran = False

    # --- scheduling -------------------------------------------------------------------

    def _push(self, at: float, klass: int, a: Any, b: Any, c: Any, d: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (event_key(at, klass, self._seq), at, a, b, c, d))

    def run(self) -> Trace:
        """Run until the event queue is empty or the time limit is reached — or, with
        ``stop_when_clients_done`` (the default when there are clients), until every
        client is done, messages in flight have drained (``drain_s``) and the fault plan
        has settled (``settle_until_s``)."""
        if self._ran:
            raise RuntimeError("a Simulator runs once")
        self._ran = True
        for fault in self._plan.faults:
            self._push(fault.start, _FAULT, "begin", fault, None, None)
            if fault.kind != "crash" and fault.end != float("inf"):
                self._push(fault.end, _FAULT, "end", fault, None, None)
        for node_id in self._nodes:
            self._push(0.0, _START, node_id, None, None, None)
        heap = self._heap
        pop = heapq.heappop
        limit = self._time_limit
        while heap:
            if heap[0][1] > limit:
                self.now = limit
                break
            key, t, a, b, c, d = pop(heap)
            klass = key[1]
            self.now = t
            self.steps += 1
            if klass == _DELIVER:
                self._deliver(a, b, c, d)
            elif klass == _TIMER:
                self._fire(a, b, c)
            elif klass == _FAULT:
                self._fault(a, b)
            else:
                self._start(a)
            if self._clients_left == 0 and self._stop_when_clients_done:
                self._stop_when_clients_done = False
                self._settle_until = max(self._settle_until, t + self._drain_s)
                self._stopping = True
            if self._stopping and (not heap or heap[0][1] > self._settle_until):
                break
        self._events.append((self.now, tr.END, None, None, None, None))
        return self.trace

    # --- events -----------------------------------------------------------------------

    def _start(self, node_id: str) -> None:
        if node_id in self._down:
            return
        self._events.append((self.now, tr.START, node_id, None, None, None))
        node = self._nodes[node_id]
        out = self._outs[node_id]
        out.saved = dict(self._storage[node_id])
        self._step(node_id, node, out, node.on_start, ())

    def _deliver(self, mid: int, src: str, dst: str, msg: Message) -> None:
        events = self._events
        if dst in self._down:
            events.append((self.now, tr.DROP, dst, src, mid, self._down[dst]))
            return
        if self._recv_rules:
            cause = self._recv_drop(src, dst)
            if cause is not None:
                events.append((self.now, tr.DROP, dst, src, mid, cause))
                return
        events.append((self.now, tr.DELIVER, dst, src, mid, msg))
        if type(msg) is ClientReply and self._kind[dst] == _CLIENT:
            key = (dst, msg.seq)
            if key in self._open and msg.client == dst:
                self._open.discard(key)
                status = "ok" if msg.error is None else "fail"
                events.append((self.now, tr.COMPLETE, dst, None, msg.seq, (status, msg.result)))
        node = self._nodes[dst]
        self._step(dst, node, self._outs[dst], node.on_message, (src, msg))

    def _fire(self, node_id: str, timer: Timer, gen: int) -> None:
        key = (node_id, timer)
        if self._timers.get(key) != gen or node_id in self._down:
            return
        del self._timers[key]
        self._events.append((self.now, tr.TIMER, node_id, None, None, timer))
        node = self._nodes[node_id]
        self._step(node_id, node, self._outs[node_id], node.on_timer, (timer,))

    def _fault(self, phase: str, fault: Fault) -> None:
        self._events.append((self.now, tr.FAULT, None, None, None, (phase, fault.spec)))
        if fault.kind == "restart":
            self._restart(fault.node)
            return
        if fault.kind != "crash" or fault.node in self._down:
            return
        if fault.after_sends is None:
            self._take_down(fault.node, tr.CRASH, fault.spec)
        else:
            self._crash_after[fault.node] = (fault.after_sends, fault.spec)

    def _restart(self, node_id: str) -> None:
        """A new incarnation of a crashed or halted node: built afresh, its pending timers
        forgotten, started with what it saved (``out.saved``)."""
        if node_id not in self._down:
            return
        if self._rebuild is None or self._kind[node_id] != _REPLICA:
            raise SimulationError(f"cannot restart {node_id}: only a replica restarts")
        del self._down[node_id]
        self._crash_after.pop(node_id, None)
        for key in [key for key in self._timers if key[0] == node_id]:
            del self._timers[key]
        node = self._rebuild(node_id)
        self._nodes[node_id] = node
        self._outs[node_id] = Out(random.Random(f"{self._seed}/node/{node_id}/{self.now!r}"))
        self._start(node_id)

    # --- a node's step ------------------------------------------------------------------

    def _step(
        self, node_id: str, node: Node, out: Out, handler: Any, args: tuple[Any, ...]
    ) -> None:
        kind = self._kind[node_id]
        out.now = self.now
        if kind == _REPLICA:
            assert isinstance(node, Replica)
            applied_before = len(node.applied)
        try:
            handler(*args, out)
        except Exception as error:
            what = getattr(handler, "__name__", "handler")
            raise SimulationError(
                f"{node_id} raised {type(error).__name__} in {what} at t={self.now:.6f}: {error}"
            ) from error
        crash = self._crash_after.pop(node_id, None) if self._crash_after else None
        if kind == _REPLICA:
            assert isinstance(node, Replica)
            self._observe_replica(node_id, node, applied_before)
        elif kind == _CLIENT:
            assert isinstance(node, ClientNode)
            self._observe_client(node_id, node)
        if out.saves:
            storage = self._storage[node_id]
            for key, value in out.saves:
                storage[key] = value
                self._events.append((self.now, tr.SAVE, node_id, None, None, key))
            out.saves.clear()
        sends = out.sends
        if sends:
            limit = len(sends) if crash is None else min(crash[0], len(sends))
            for i in range(limit):
                dst, msg = sends[i]
                self._send(node_id, dst, msg)
            sends.clear()
        if out.timers:
            for timer, at in out.timers.items():
                timer_key = (node_id, timer)
                if at is None:
                    self._timers.pop(timer_key, None)
                else:
                    self._seq += 1
                    gen = self._seq
                    heapq.heappush(
                        self._heap, (event_key(at, _TIMER, gen), at, node_id, timer, gen, None)
                    )
                    self._timers[timer_key] = gen
            out.timers.clear()
        if crash is not None:
            self._take_down(node_id, tr.CRASH, crash[1])
        elif out.halt_reason is not None:
            self._take_down(node_id, tr.HALT, out.halt_reason)

    def _observe_replica(self, node_id: str, node: Replica, applied_before: int) -> None:
        primary = node.is_primary
        if primary != self._prmy.get(node_id, False):
            self._prmy[node_id] = primary
            self._events.append((self.now, tr.PRIMARY, node_id, None, None, primary))
        applied = node.applied
        count = len(applied)
        if count != applied_before:
            if count < applied_before:
                raise SimulationError(f"{node_id}'s applied log shrank at t={self.now:.6f}")
            # A restarted replica applies again what it recovered: only what goes beyond
            # what its earlier incarnations applied is news.
            recorded = self._applied.get(node_id, 0)
            for index in range(max(applied_before, recorded), count):
                self._events.append((self.now, tr.APPLY, node_id, None, index + 1, applied[index]))
            self._applied[node_id] = max(recorded, count)

    def _observe_client(self, node_id: str, node: ClientNode) -> None:
        dest = node.dest
        if dest != self._dest.get(node_id):
            self._dest[node_id] = dest
            self._events.append((self.now, tr.DEST, node_id, dest, None, None))
        if node.done:
            self._clients_left -= 1
            self._kind[node_id] = _OTHER

    def _send(self, src: str, dst: str, msg: Message) -> None:
        self._next_msg += 1
        mid = self._next_msg
        now = self.now
        self._events.append((now, tr.SEND, src, dst, mid, msg))
        if type(msg) is ClientRequest and self._kind[src] == _CLIENT:
            key = (src, msg.seq)
            if msg.client == src and key not in self._open:
                self._open.add(key)
                self._events.append((now, tr.INVOKE, src, None, msg.seq, msg.op))
        if dst not in self._nodes:
            raise SimulationError(f"{src} sent {type(msg).__name__} to unknown node {dst!r}")
        if self._send_rules:
            cause = self._send_drop(src, dst)
            if cause is not None:
                self._events.append((now, tr.DROP, dst, src, mid, cause))
                return
        at = self._net.delivery_time(src, dst, now)
        self._seq += 1
        heapq.heappush(self._heap, (event_key(at, _DELIVER, self._seq), at, mid, src, dst, msg))

    def _take_down(self, node_id: str, kind: str, reason: str) -> None:
        self._down[node_id] = "crashed" if kind == tr.CRASH else "halted"
        self._events.append((self.now, kind, node_id, None, None, reason))
        if self._prmy.get(node_id):
            self._prmy[node_id] = False
            self._events.append((self.now, tr.PRIMARY, node_id, None, None, False))
        if self._kind[node_id] == _CLIENT:
            self._clients_left -= 1
            self._kind[node_id] = _OTHER

    # --- omissions ----------------------------------------------------------------------

    def _lost(self, fault: Fault) -> bool:
        return fault.probability >= 1.0 or self._fault_rng.random() < fault.probability

    def _send_drop(self, src: str, dst: str) -> str | None:
        now = self.now
        for fault in self._send_rules:
            if not fault.start <= now < fault.end:
                continue
            if fault.kind == "link":
                hit = (src == fault.node and dst == fault.peer) or (
                    not fault.directed and src == fault.peer and dst == fault.node
                )
            else:
                hit = src == fault.node and (fault.peer is None or fault.peer == dst)
            if hit and self._lost(fault):
                return fault.kind
        return None

    def _recv_drop(self, src: str, dst: str) -> str | None:
        now = self.now
        for fault in self._recv_rules:
            if (
                fault.start <= now < fault.end
                and dst == fault.node
                and (fault.peer is None or fault.peer == src)
                and self._lost(fault)
            ):
                return fault.kind
        return None
