"""One rule for events due at one instant (``smrkit.sim.order``), in both runtimes.

With 2δ = τ a round's lease check and its election fall due at the instant the next
round starts. The quorum engine is run through those ties in the simulator and in the
TCP runtime (real replicas in this process, on loopback), and the two are compared: the
timers each replica fired, in order, and what they led to — a primary without followers
halts in round 0 (not round 1), and a new primary's first heartbeat says it is one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from smrkit.core.node import Out, Timer
from smrkit.net.cluster import init_cluster
from smrkit.net.replica import ReplicaServer
from smrkit.protocols.primary_backup.quorum import Heartbeat
from smrkit.sim import trace as tr
from smrkit.sim.order import TimerQueue, event_key
from smrkit.sim.world import SimConfig, run_simulation

DELTA_S, TAU_S = 0.1, 0.2  # 2δ = τ: the real cluster's ratio
RUN_S = 1.0
TIMERS_COMPARED = 10


def _timers_in_sim(faults: tuple[str, ...], node: str) -> tuple[list[Timer], dict[int, bool]]:
    config = SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        clients=0,
        ops=0,
        delta_s=DELTA_S,
        tau_s=TAU_S,
        faults=faults,
        time_limit_s=RUN_S,
    )
    events = run_simulation(config).trace.events
    fired = [e[5] for e in events if e[1] == tr.TIMER and e[2] == node]
    beats = {
        e[5].round: e[5].primary
        for e in events
        if e[1] == tr.SEND and e[2] == node and isinstance(e[5], Heartbeat)
    }
    halts = [e[5] for e in events if e[1] == tr.HALT and e[2] == node]
    return [*fired, *(("halt", h) for h in halts)], beats


def _timers_on_the_wire(
    directory: Path, running: tuple[str, ...], node: str
) -> tuple[list[Timer], dict[int, bool]]:
    config = init_cluster(
        directory, protocol="pb-general-omission", replicas=3, delta_s=DELTA_S, tau_s=TAU_S
    )
    start_at = time.time() + 0.5
    servers = {r: ReplicaServer(config, r, start_at=start_at) for r in running}
    fired: list[Timer] = []
    beats: dict[int, bool] = {}
    watched = servers[node]
    on_timer: Callable[[Timer, Out], None] = watched.node.on_timer

    def record(timer: Timer, out: Out) -> None:
        fired.append(timer)
        on_timer(timer, out)
        for _, msg in out.sends:
            if isinstance(msg, Heartbeat):
                beats[msg.round] = msg.primary

    watched.node.on_timer = record  # type: ignore[method-assign]

    async def run() -> dict[str, Any]:
        tasks = {
            r: asyncio.ensure_future(s.serve(install_signals=False)) for r, s in servers.items()
        }
        await asyncio.sleep(max(0.0, start_at + RUN_S - time.time()))
        for server in servers.values():
            server.stop()
        return dict(zip(tasks, await asyncio.gather(*tasks.values()), strict=True))

    reasons = asyncio.run(run())
    halted = [("halt", reasons[node])] if watched.halted else []
    return [*fired, *halted], beats


def test_a_primary_without_followers_halts_at_its_round_0_lease_in_both(tmp_path: Path) -> None:
    """Only p1 runs: its round-0 lease check and round 1 fall due together; the check
    goes first (it was set first), so p1 halts in round 0 — in both runtimes."""
    sim, _ = _timers_in_sim(("crash:p2@0.0", "crash:p3@0.0"), "p1")
    wire, _ = _timers_on_the_wire(tmp_path / "c", ("p1",), "p1")
    assert sim[-1] == ("halt", "round 0: 0 of 1 acknowledgements")
    assert wire == sim


def test_an_election_at_the_edge_of_a_round_runs_alike_in_both(tmp_path: Path) -> None:
    """p1 is gone: p2 wins the election of round 0 at 2δ = τ, the instant round 1 starts.
    Both runtimes fire p2's timers in the same order, and p2's heartbeat of round 1
    already says it is the primary."""
    sim, sim_beats = _timers_in_sim(("crash:p1@0.0",), "p2")
    wire, wire_beats = _timers_on_the_wire(tmp_path / "c", ("p2", "p3"), "p2")
    assert sim_beats[1] is True and wire_beats[1] is True
    assert len(sim) >= TIMERS_COMPARED
    assert wire[:TIMERS_COMPARED] == sim[:TIMERS_COMPARED]


def test_the_timer_queue_follows_the_rule() -> None:
    """By instant to the nanosecond, then in the order set; a timer set again or
    cancelled before it is taken does not fire."""
    queue = TimerQueue()
    queue.set("round", 0.3)  # 3 · 0.1
    queue.set("lease", 0.1 + 2 * 0.1)  # 0.30000000000000004: the same instant
    queue.set("early", 0.25)
    queue.set("gone", 0.2)
    queue.cancel("gone")
    queue.set("moved", 0.1)
    queue.set("moved", 0.4)
    assert queue.next_at() == 0.25
    due = queue.pop_due(0.3)
    assert [timer for timer, _ in due] == ["early", "round", "lease"]
    queue.set("round", 0.5)  # set again before it was taken: the old one is void
    assert [queue.take(timer, seq) for timer, seq in due] == [True, False, True]
    assert [timer for timer, _ in queue.pop_due(1.0)] == ["moved", "round"]
    assert event_key(0.3, 3, 1) == event_key(0.1 + 2 * 0.1, 3, 1)
