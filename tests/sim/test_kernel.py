"""The world kernel: enabled and step, branching copies and fingerprints, the timing
models as choosers (async, lock-step, partial-sync), the consensus observer."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from kernel_protocols import FloodMin, Pinger, Ponger, flood

from smrkit.cli.main import main
from smrkit.core import Node
from smrkit.sim import trace as tr
from smrkit.sim.choosers import (
    Chooser,
    EarliestFirst,
    LockStep,
    OldestFirst,
    RandomOrder,
    ScheduleError,
    Scripted,
    parse_schedule,
)
from smrkit.sim.faults import FaultPlan
from smrkit.sim.kernel import Crash, Deliver, Fire, Start, World, enabled, step
from smrkit.sim.kernel.fingerprint import world_fingerprint
from smrkit.sim.network import AsyncNetwork, LockStepNetwork, Network, PartialSyncNetwork
from smrkit.sim.observers import observers_for
from smrkit.sim.simulator import Simulator
from smrkit.sim.world import ConfigError, SimConfig, run_simulation


def _ping_world(count: int = 3, crash_budget: int = 0) -> World:
    nodes = [Pinger("a", "b", count), Ponger("b")]
    return World(nodes, seed=1, network=AsyncNetwork(), crash_budget=crash_budget)


def _simulate(
    nodes: Sequence[Node], network: Network, chooser: Chooser, faults: tuple[str, ...] = ()
) -> Simulator:
    sim = Simulator(
        nodes,
        seed=3,
        network=network,
        plan=FaultPlan.parse(faults),
        header={"servers": [], "clients": []},
        time_limit_s=10_000,
        chooser=chooser,
    )
    sim.run()
    return sim


# --- enabled, step, copy, fingerprint ------------------------------------------------


def test_async_enables_starts_first_and_holds_messages_for_unstarted_nodes() -> None:
    world = _ping_world()
    assert enabled(world) == [Start("a"), Start("b")]
    records = step(world, Start("a"))
    assert [r.kind for r in records] == [tr.START, tr.SEND, tr.SEND, tr.SEND]
    assert records[1].num == 1 and records[1].other == "b"  # message ids count from 1
    # b has not started: its pings wait in the pool, only b's start and a's timer are enabled
    events = enabled(world)
    assert events[0] == Start("b")
    assert [type(e) for e in events[1:]] == [Fire]
    step(world, Start("b"))
    assert [e.id for e in enabled(world) if isinstance(e, Deliver)] == [1, 2, 3]


def test_a_copy_branches_without_touching_the_original() -> None:
    world = _ping_world()
    step(world, Start("a"))
    step(world, Start("b"))
    before = world_fingerprint(world)
    branch = world.copy()
    assert branch.log == [] and world.log
    assert world_fingerprint(branch) == before
    assert branch.nodes["a"].config is world.nodes["a"].config  # configuration is shared
    first = next(e for e in enabled(branch) if isinstance(e, Deliver))
    step(branch, first)
    assert world_fingerprint(world) == before
    assert world_fingerprint(branch) != before
    assert len(world.messages) == 3 and len(branch.messages) == 3  # 1 delivered, 1 pong


def test_deliveries_that_commute_meet_in_one_fingerprint() -> None:
    """Deliver ping 1 then the pong, or the pong's twin order: the message ids differ
    along the two paths, the states reached do not (ids are names, not state)."""
    world = _ping_world(count=2)
    step(world, Start("a"))
    step(world, Start("b"))
    step(world, world.messages[1])  # b answers ping 0 with message 3
    left, right = world.copy(), world.copy()
    step(left, left.messages[2])  # ping 1 to b (b answers: message 4)
    step(left, left.messages[3])  # pong 0 to a
    step(right, right.messages[3])
    step(right, right.messages[2])  # b answers with message 4 here too, a's copy sent none
    assert left.last_message_id == right.last_message_id == 4
    assert world_fingerprint(left, rng=False) == world_fingerprint(right, rng=False)
    step(right, next(e for e in enabled(right) if isinstance(e, Fire)))  # a's time-out
    assert world_fingerprint(left) != world_fingerprint(right)


def test_a_copied_world_evolves_like_the_original() -> None:
    config = SimConfig(protocol="pb-crash", ops=50, faults=("crash:p1@0.2",), seed=4)
    from smrkit.sim.world import build_simulator

    simulator, _ = build_simulator(config)
    world, chooser = simulator.world, EarliestFirst()

    def walk(w: World, steps: int) -> None:
        for _ in range(steps):
            choice = chooser.choose(w)
            assert choice is not None
            w.advance(choice[1], choice[0])

    walk(world, 300)
    twin = world.copy()
    assert world_fingerprint(twin) == world_fingerprint(world)
    walk(world, 500)
    walk(twin, 500)
    assert world_fingerprint(twin) == world_fingerprint(world)
    assert world.log[-500:] != [] and twin.log == world.log[-len(twin.log) :]


def test_a_crash_budget_offers_crashes_and_is_spent() -> None:
    world = _ping_world(crash_budget=1)
    crashes = [e for e in enabled(world) if isinstance(e, Crash)]
    assert [c.fault.node for c in crashes] == ["a", "b"]
    records = step(world, crashes[1])
    assert [(r.kind, r.node) for r in records] == [(tr.CRASH, "b")]
    assert not any(isinstance(e, Crash) for e in enabled(world))


# --- async ---------------------------------------------------------------------------


def test_async_nodes_read_no_clock_and_every_message_is_delivered() -> None:
    pinger = Pinger("a", "b", 5)
    sim = _simulate([pinger, Ponger("b")], AsyncNetwork(), RandomOrder(seed=9))
    assert pinger.clock_seen == {0.0}
    assert sorted(pinger.pongs) == list(range(5))
    assert sim.world.messages == {}
    assert [r.t for r in sim.trace.events[:3]] == [1.0, 2.0, 2.0]  # time counts steps


def test_async_random_order_is_a_function_of_its_seed() -> None:
    def order(seed: int) -> list[int]:
        pinger = Pinger("a", "b", 6)
        _simulate([pinger, Ponger("b")], AsyncNetwork(), RandomOrder(seed))
        return pinger.pongs

    assert order(1) == order(1)
    assert len({tuple(order(seed)) for seed in range(8)}) > 1  # the adversary reorders


def test_async_oldest_first_delivers_in_creation_order() -> None:
    sim = _simulate([Pinger("a", "b", 4), Ponger("b")], AsyncNetwork(), OldestFirst())
    taken = [r.num or "timer" for r in sim.trace.events if r.kind in (tr.DELIVER, tr.TIMER)]
    # the time-out is a message a set to itself right after its pings: older than pongs
    assert taken == [1, 2, 3, 4, "timer", 5, 6, 7, 8]


def test_async_scripted_schedule_is_followed_exactly(tmp_path: Path) -> None:
    lines = ["start b", "start a  # the pinger", "deliver 2", "fire a give-up", "deliver 1"]
    pinger, ponger = Pinger("a", "b", 2), Ponger("b")
    sim = _simulate([pinger, ponger], AsyncNetwork(), Scripted(parse_schedule(lines)))
    kinds = [(r.kind, r.node, r.num) for r in sim.trace.events if r.kind != tr.SEND]
    assert kinds[:5] == [
        (tr.START, "b", None),
        (tr.START, "a", None),
        (tr.DELIVER, "b", 2),
        (tr.TIMER, "a", None),
        (tr.DELIVER, "b", 1),
    ]
    assert ponger.pings == [1, 0] and pinger.timeouts == 1


def test_a_schedule_that_names_a_disabled_event_says_what_is_enabled() -> None:
    with pytest.raises(ScheduleError, match=r"line 2: deliver 7 is not enabled now; enabled: "):
        _simulate(
            [Pinger("a", "b", 1), Ponger("b")],
            AsyncNetwork(),
            Scripted(parse_schedule(["start a", "deliver 7"])),
        )
    with pytest.raises(ScheduleError, match="line 1: 'send 3' is not an event"):
        parse_schedule(["send 3"])


def test_smrkit_sim_runs_a_schedule_file_and_reports_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "schedule.txt"
    schedule.write_text("start p1\nstart c1\ndeliver 3  # c1's request (p1 sent 1 and 2)\n")
    args = ["sim", "--timing", "async", "--schedule", str(schedule), "--ops", "3", "--json"]
    with pytest.raises(SystemExit):
        main([*args, "--clients", "1"])
    data = json.loads(capsys.readouterr().out)
    assert data["timing"] == "async" and not data["admissible"]
    assert data["ops"]["invoked"] == 1  # the script ended before any reply
    schedule.write_text("start p9\n")
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "schedule line 1: start p9 is not enabled now" in err[0]


# --- lock-step -----------------------------------------------------------------------


def test_lock_step_delivers_round_r_messages_at_round_r_plus_1() -> None:
    nodes = flood([3, 1, 2], rounds=2)
    sim = _simulate(nodes, LockStepNetwork(), LockStep())
    sends = {r.num: r.t for r in sim.trace.events if r.kind == tr.SEND}
    delivers = {r.num: r.t for r in sim.trace.events if r.kind == tr.DELIVER}
    assert sends.keys() == delivers.keys()
    assert all(delivers[m] == sends[m] + 1.0 for m in sends)
    assert all(isinstance(n, FloodMin) and n.rounds_seen == [1, 2, 3] for n in nodes)
    decided = [(r.node, r.num, r.data) for r in sim.trace.events if r.kind == tr.DECIDED]
    assert decided == [("p1", 2, 1), ("p2", 2, 1), ("p3", 2, 1)]  # round 2, the seeds' count
    proposed = [(r.node, r.num, r.data) for r in sim.trace.events if r.kind == tr.PROPOSED]
    assert proposed == [("p1", 0, 3), ("p2", 0, 1), ("p3", 0, 2)]


def test_a_crash_in_a_round_sends_to_the_chosen_receivers_only() -> None:
    """p1 holds the least value and crashes in round 1, reaching only p2 (a dangerous
    chain of length one). With f + 1 = 2 rounds p2 relays it and p3 agrees; with one
    round p3 never learns it and decides otherwise: the f + 1 bound of seed 002."""
    for rounds, p3_decides in ((2, 0), (1, 1)):
        nodes = flood([0, 1, 1], rounds=rounds)
        sim = _simulate(nodes, LockStepNetwork(), LockStep(), faults=("crash:p1@r1/p2",))
        from_p1 = [r.node for r in sim.trace.events if r.kind == tr.DELIVER and r.other == "p1"]
        assert from_p1 == ["p2"]
        crash = [r for r in sim.trace.events if r.kind == tr.CRASH]
        assert [(c.t, c.node, c.data) for c in crash] == [(1.0, "p1", "crash:p1@r1/p2")]
        p2, p3 = nodes[1], nodes[2]
        assert isinstance(p2, FloodMin) and isinstance(p3, FloodMin)
        assert (p2.decision, p3.decision) == (0, p3_decides)


def test_a_lock_step_run_ends_when_every_live_node_is_done() -> None:
    nodes = flood([5, 4], rounds=1)
    sim = _simulate(nodes, LockStepNetwork(), LockStep())
    rounds = [r.num for r in sim.trace.events if r.kind == tr.ROUND]
    assert rounds == [1, 2] and sim.trace.events[-1].kind == tr.END


# --- partial synchrony ---------------------------------------------------------------


def test_partial_sync_delays_are_wild_before_gst_and_bounded_after() -> None:
    network = PartialSyncNetwork(0.01, 0.001, gst_s=1.0, delay_cap_s=0.5, rng=random.Random(2))
    before = [(t, network.delivery_time("a", "b", t)) for t in [i / 100 for i in range(100)]]
    after = [(t, network.delivery_time("a", "b", t)) for t in [1 + i / 100 for i in range(100)]]
    assert max(due - t for t, due in before) > 0.1  # longer than δ before GST
    assert all(due <= max(t, 1.0) + 0.01 for t, due in before)  # yet by GST + δ
    assert all(0.001 <= due - t <= 0.01 for t, due in after)
    dues = [due for _, due in before]
    assert dues != sorted(dues)  # reordered


def test_partial_sync_run_flags_a_synchronous_protocol() -> None:
    run = run_simulation(SimConfig(ops=100, timing="partial-sync", gst_s=0.5, seed=3))
    expected = "pb-crash is built for synchronous timing; this run is partial-sync"
    assert run.timing_problem == expected
    assert run.admissibility[0] == run.timing_problem


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timing": "warp"}, "unknown timing"),
        ({"gst_s": 1.0}, "belong to --timing partial-sync"),
        ({"schedule": "oldest"}, "belongs to --timing async"),
        ({"faults": ("crash:p1@r3",)}, "counts rounds"),
    ],
)
def test_timing_options_that_do_not_fit_are_config_errors(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        run_simulation(SimConfig(**change))  # type: ignore[arg-type]


def test_observers_follow_the_nodes_they_need() -> None:
    kinds = [type(o).__name__ for o in observers_for(flood([1, 2], rounds=1))]
    assert kinds == ["ConsensusObserver"]


def _reachable(world: World, *, breadth_first: bool) -> dict[int, World]:
    """The search of the kernel's docstring: every world reachable from ``world``."""
    seen = {world_fingerprint(world, rng=False): world}
    frontier = [world]
    while frontier:
        current = frontier.pop(0 if breadth_first else -1)
        for event in enabled(current):
            child = current.copy()
            step(child, event)
            key = world_fingerprint(child, rng=False)
            if key not in seen:
                seen[key] = child
                frontier.append(child)
    return seen


def test_a_search_over_async_worlds_reaches_only_finished_ping_pongs() -> None:
    """Every order of deliveries and the time-out, explored: breadth and depth first
    find the same states, and every world where nothing is left to happen has both pongs
    back at a (its time-out fired or was cancelled) and an empty pool."""
    bfs = _reachable(_ping_world(count=2), breadth_first=True)
    dfs = _reachable(_ping_world(count=2), breadth_first=False)
    assert bfs.keys() == dfs.keys()
    assert len(bfs) == 34
    terminal = [w for w in bfs.values() if not enabled(w)]
    assert terminal
    for world in terminal:
        pinger = world.nodes["a"]
        assert isinstance(pinger, Pinger)
        assert sorted(pinger.pongs) == [0, 1] and not world.messages


def test_an_async_trace_read_back_keeps_every_message_field(tmp_path: Path) -> None:
    """A retry names the server that left it unanswered (``previous``); reading the trace
    back lost that field once, and with it the hash of every run that retried."""
    run = run_simulation(SimConfig(timing="async", schedule="oldest", ops=50, time_limit_s=5e4))
    retries = [
        r for r in run.trace.events if r.kind == tr.SEND and getattr(r.data, "previous", None)
    ]
    assert retries
    path = tmp_path / "async.jsonl"
    run.trace.write(path)
    assert tr.read_trace(path).trace_hash() == run.trace.trace_hash()
    again = run_simulation(SimConfig.from_json(tr.read_trace(path).header["config"]))
    assert again.trace.trace_hash() == run.trace.trace_hash()


def test_delivering_a_message_twice_is_refused() -> None:
    world = _ping_world(count=1)
    step(world, Start("a"))
    step(world, Start("b"))
    message = world.messages[1]
    step(world, message)
    with pytest.raises(ValueError, match="message 1 is not in flight"):
        step(world, message)
