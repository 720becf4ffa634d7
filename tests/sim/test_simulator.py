"""The simulator's contract: determinism, the synchronous timing model, fault semantics."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from smrkit.core import Message, Node, NodeId, Out, Replica, Timer
from smrkit.sim import trace as tr
from smrkit.sim.faults import FaultPlan
from smrkit.sim.network import SynchronousNetwork
from smrkit.sim.simulator import SimulationError, Simulator
from smrkit.sim.world import ConfigError, SimConfig, run_simulation


@dataclass(frozen=True, slots=True)
class Ping(Message):
    n: int


class Sender(Node):
    """Sends Ping(0..count-1) to ``peer`` at start and then every ``period``."""

    def __init__(self, node_id: NodeId, peer: NodeId, count: int, period: float = 0.0) -> None:
        super().__init__(node_id)
        self.peer, self.count, self.period, self.sent = peer, count, period, 0

    def on_start(self, out: Out) -> None:
        self._burst(out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        self._burst(out)

    def _burst(self, out: Out) -> None:
        if self.period == 0.0:
            for _ in range(self.count):
                out.send(self.peer, Ping(self.sent))
                self.sent += 1
        elif self.sent < self.count:
            out.send(self.peer, Ping(self.sent))
            self.sent += 1
            out.set_timer("next", self.period)


class Receiver(Node):
    def __init__(self, node_id: NodeId, deadline: float | None = None) -> None:
        super().__init__(node_id)
        self.got: list[tuple[float, int]] = []
        self.deadline = deadline
        self.fired_at: float | None = None
        self.seen_at_deadline: int | None = None

    def on_start(self, out: Out) -> None:
        if self.deadline is not None:
            out.set_timer("deadline", self.deadline)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        assert isinstance(msg, Ping)
        self.got.append((out.now, msg.n))

    def on_timer(self, timer: Timer, out: Out) -> None:
        self.fired_at = out.now
        self.seen_at_deadline = len(self.got)


def _simulate(
    nodes: list[Node],
    *,
    seed: int = 1,
    delta: float = 0.01,
    delta_min: float = 0.0,
    faults: tuple[str, ...] = (),
    limit: float = 10.0,
) -> Simulator:
    sim = Simulator(
        nodes,
        seed=seed,
        network=SynchronousNetwork(delta, delta_min, random.Random(f"{seed}/net")),
        plan=FaultPlan.parse(faults),
        header={"servers": [], "clients": []},
        time_limit_s=limit,
    )
    sim.run()
    return sim


def test_delays_lie_in_the_bound_and_links_are_fifo() -> None:
    receiver = Receiver("b")
    sim = _simulate([Sender("a", "b", 200), receiver], delta=0.01, delta_min=0.002)
    assert [n for _, n in receiver.got] == list(range(200))  # FIFO despite random delays
    assert all(0.002 <= t <= 0.01 for t, _ in receiver.got)
    sends = {e[4]: e[0] for e in sim.trace.events if e[1] == tr.SEND}
    delivers = {e[4]: e[0] for e in sim.trace.events if e[1] == tr.DELIVER}
    assert sends.keys() == delivers.keys()


def test_a_timeout_at_t_plus_delta_sees_messages_enqueued_by_then() -> None:
    """With every delay exactly δ, a message sent at 0 and a deadline at δ coincide;
    deliveries come first, as the model requires (enqueued at or before t + δ)."""
    receiver = Receiver("b", deadline=0.01)
    _simulate([Sender("a", "b", 3), receiver], delta=0.01, delta_min=0.01)
    assert receiver.fired_at == 0.01
    assert receiver.seen_at_deadline == 3


def test_same_seed_same_trace_other_seed_other_trace() -> None:
    config = SimConfig(protocol="pb-crash", ops=300, faults=("crash:p1@0.3",), seed=11)
    first = run_simulation(config).trace.trace_hash()
    assert run_simulation(config).trace.trace_hash() == first
    other = SimConfig(protocol="pb-crash", ops=300, faults=("crash:p1@0.3",), seed=12)
    assert run_simulation(other).trace.trace_hash() != first


def test_runs_do_not_depend_on_the_hash_seed_of_the_interpreter() -> None:
    """Set iteration order changes with PYTHONHASHSEED; a run must not."""
    code = (
        "from smrkit.sim.world import SimConfig, run_simulation;"
        "config = SimConfig(ops=200, replicas=4, seed=5,"
        " faults=('crash:p1@0.2', 'crash:p2@0.3/1'));"
        "print(run_simulation(config).trace.trace_hash())"
    )
    hashes = set()
    for hash_seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        hashes.add(result.stdout.strip())
    assert len(hashes) == 1


def test_crash_comes_before_anything_else_at_its_time() -> None:
    receiver = Receiver("b")
    sim = _simulate([Sender("a", "b", 5, period=0.1), receiver], faults=("crash:a@0.2",))
    assert [n for _, n in receiver.got] == [0, 1]  # the send due at 0.2 never happens
    crash = [e for e in sim.trace.events if e[1] == tr.CRASH]
    assert crash == [(0.2, tr.CRASH, "a", None, None, "crash:a@0.2")]


def test_crash_after_k_sends_cuts_a_broadcast() -> None:
    receiver = Receiver("b")
    _simulate([Sender("a", "b", 5), receiver], faults=("crash:a@0/2",))
    assert [n for _, n in receiver.got] == [0, 1]


def test_messages_to_a_crashed_node_are_dropped_with_the_cause() -> None:
    receiver = Receiver("b")
    sim = _simulate([Sender("a", "b", 3), receiver], delta_min=0.01, faults=("crash:b@0.005",))
    drops = [e for e in sim.trace.events if e[1] == tr.DROP]
    assert len(drops) == 3 and {e[5] for e in drops} == {"crashed"}
    assert receiver.got == []


@pytest.mark.parametrize(
    ("spec", "cause", "expected"),
    [
        ("link:a-b@0.15..0.35", "link", [0, 1, 4, 5]),
        ("link:b->a@0.15..0.35", None, [0, 1, 2, 3, 4, 5]),
        ("send-omission:a->b@0.15..0.35", "send-omission", [0, 1, 4, 5]),
        ("send-omission:a@0.15..0.35", "send-omission", [0, 1, 4, 5]),
        ("receive-omission:b<-a@0.15..0.35", "receive-omission", [0, 1, 4, 5]),
        ("general-omission:b@0.15..0.35", "general-omission", [0, 1, 4, 5]),
        ("receive-omission:a@0..", None, [0, 1, 2, 3, 4, 5]),
    ],
)
def test_omissions_drop_in_their_window(spec: str, cause: str | None, expected: list[int]) -> None:
    receiver = Receiver("b")
    sim = _simulate(
        [Sender("a", "b", 6, period=0.1), receiver], delta=0.01, delta_min=0.01, faults=(spec,)
    )
    assert [n for _, n in receiver.got] == expected
    causes = {e[5] for e in sim.trace.events if e[1] == tr.DROP}
    assert causes == (set() if cause is None else {cause})


def test_lossy_omission_loses_some_not_all() -> None:
    receiver = Receiver("b")
    _simulate([Sender("a", "b", 400), receiver], faults=("link:a-b@0~0.5",))
    assert 100 < len(receiver.got) < 300


class Faulty(Node):
    def on_start(self, out: Out) -> None:
        raise KeyError("boom")


def test_a_handler_that_raises_is_a_simulation_error_naming_the_node() -> None:
    with pytest.raises(SimulationError, match="x raised KeyError in on_start at t=0"):
        _simulate([Faulty("x")])


def test_timers_replace_and_cancel() -> None:
    class TimerNode(Node):
        def __init__(self, node_id: NodeId) -> None:
            super().__init__(node_id)
            self.fired: list[tuple[float, Timer]] = []

        def on_start(self, out: Out) -> None:
            out.set_timer("a", 1.0)
            out.set_timer("a", 2.0)
            out.set_timer("b", 1.5)
            out.set_timer("c", 0.5)

        def on_timer(self, timer: Timer, out: Out) -> None:
            self.fired.append((out.now, timer))
            if timer == "c":
                out.cancel_timer("b")

    node = TimerNode("t")
    _simulate([node])
    assert node.fired == [(0.5, "c"), (2.0, "a")]


def test_trace_file_round_trip(tmp_path: Path) -> None:
    run = run_simulation(SimConfig(ops=200, faults=("crash:p1@0.2", "link:p2-p3@0.1..0.3"), seed=3))
    path = tmp_path / "run.jsonl"
    run.trace.write(path)
    loaded = tr.read_trace(path)
    assert loaded.header["config"] == run.config.to_json()
    assert loaded.trace_hash() == run.trace.trace_hash()
    assert len(loaded.events) == len(run.trace.events)
    assert SimConfig.from_json(loaded.header["config"]) == run.config
    events_bytes = path.read_bytes().split(b"\n", 1)[1]
    assert hashlib.sha256(events_bytes).hexdigest() == run.trace.trace_hash()


def test_reading_a_bad_trace_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"format": "smrkit-trace", "version": 1}\n{"t": 0, "kind": "send"}\n')
    with pytest.raises(tr.TraceFormatError, match=r"bad\.jsonl:2"):
        tr.read_trace(path)
    path.write_text("hello\n")
    with pytest.raises(tr.TraceFormatError, match="not JSON"):
        tr.read_trace(path)
    with pytest.raises(tr.TraceFormatError, match="cannot read"):
        tr.read_trace(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"protocol": "raft9"}, "unknown protocol"),
        ({"protocol": "pb-simple", "replicas": 3}, "exactly 2"),
        ({"faults": ("crash:p7@1",)}, "not in this run"),
        ({"delta_min_s": 0.5}, "delta-min"),
        ({"mix": (("cas", 1.0), ("drop", 1.0))}, "no op 'drop'"),
    ],
)
def test_bad_configurations_are_config_errors(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_simulation(SimConfig(**change))  # type: ignore[arg-type]


def test_a_replica_restarted_twice_records_each_entry_it_applies_once() -> None:
    """A ``restart`` fault builds a new incarnation that applies its committed entries
    again from its saves: the observer records ``apply`` once per index per replica —
    after a second restart too — and a restart's start comes after the faults due at its
    instant (the one rule of ``sim/order.py``)."""
    faults = ("crash:p3@0.3", "restart:p3@0.5", "crash:p3@0.8", "restart:p3@1.0")
    run = run_simulation(SimConfig(protocol="pb-general-omission", ops=600, faults=faults))
    applied: dict[str, list[int]] = {}
    for event in run.trace.events:
        if event[1] == tr.APPLY:
            applied.setdefault(event[2], []).append(event[4])
    assert applied["p1"] == list(range(1, 601))
    assert applied["p3"] == list(range(1, len(applied["p3"]) + 1))  # no repeat, no gap
    assert len(applied["p3"]) > 500
    starts = [e[0] for e in run.trace.events if e[1] == tr.START and e[2] == "p3"]
    assert starts == [0.0, 0.5, 1.0]
    latest = run.nodes["p3"]  # the run's nodes are the world's: the third incarnation
    assert isinstance(latest, Replica) and len(latest.applied) == len(applied["p3"])


def test_a_restart_and_a_crash_at_one_instant_start_the_node_after_the_crash() -> None:
    """Faults run before starts at one instant: p3 restarts at 0.5 while p2 crashes at
    0.5, so p3's new incarnation starts after p2 is down."""
    faults = ("crash:p3@0.3", "restart:p3@0.5", "crash:p2@0.5")
    run = run_simulation(SimConfig(protocol="pb-general-omission", replicas=5, faults=faults))
    at_half = [(e[1], e[2]) for e in run.trace.events if e[0] == 0.5 and e[1] != tr.FAULT]
    assert at_half[:2] == [(tr.CRASH, "p2"), (tr.START, "p3")]
