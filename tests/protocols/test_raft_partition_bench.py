"""``bench/raft_partition.py``'s figures can say "bad": a leader deposed after the heal
is counted only when one was, and a window the run does not reach gives no outage and
is flagged as not covered."""

from __future__ import annotations

from bench_modules import load_bench

CUT, HEAL = 0.5, 1.5


def test_a_deposed_leader_is_counted_only_when_pre_vote_is_off() -> None:
    bench = load_bench("raft_partition")
    leader = bench.leader_at(bench.simulate(1, (), True, True), CUT)
    follower = next(server for server in bench.SERVERS if server != leader)
    faults = bench.cut_off(follower, CUT, HEAL)
    with_pre_vote = bench.measure(bench.simulate(1, faults, True, True), CUT, HEAL)
    without = bench.measure(bench.simulate(1, faults, False, True), CUT, HEAL)
    assert with_pre_vote["ok"] and without["ok"]
    assert not with_pre_vote["deposed"] and without["deposed"]
    assert with_pre_vote["covered"] and with_pre_vote["next_ack_s"] is not None


def test_a_window_after_the_run_has_no_figures_and_is_not_covered() -> None:
    bench = load_bench("raft_partition")
    row = bench.measure(bench.simulate(1, (), True, True), 100.0, 101.0)
    assert row["outage_s"] is None and row["next_ack_s"] is None
    assert not row["covered"] and not row["deposed"]
