"""The quorum engine's liveness outside a short run (issue 8, section 2), in the simulator:
a follower catches up in parts that fit the message limit and asks once per part, not on
every update; votes and takeovers carry only what their receiver lacks; a server far
behind catches up before it votes; and a restarted primary is a candidate again (the
election deadlock of a kill-kill-restart run)."""

from __future__ import annotations

import random
from collections import Counter

from smrkit.check.logs import check_log_agreement
from smrkit.core.node import Out
from smrkit.core.ops import Command, Op
from smrkit.net.codec import encode
from smrkit.protocols.primary_backup.quorum import (
    LAG_ENTRIES_MAX,
    Behind,
    Committed,
    Fetch,
    QuorumReplica,
    Sync,
    Takeover,
    Update,
    Vote,
)
from smrkit.protocols.registry import ProtocolConfig
from smrkit.sim import trace as tr
from smrkit.sim.world import SimConfig, SimRun, run_simulation

SMALL_MESSAGE_BYTES = 2048
LOG_MESSAGES = (Sync, Takeover, Vote, Committed)


def _primaries(run: SimRun) -> list[tuple[float, str, bool]]:
    return [(e[0], e[2], e[5]) for e in run.trace.events if e[1] == tr.PRIMARY]


def _sent(run: SimRun, kinds: tuple[type, ...], src: str | None = None) -> list[tr.Event]:
    return [
        e
        for e in run.trace.events
        if e[1] == tr.SEND and isinstance(e[5], kinds) and (src is None or e[2] == src)
    ]


def _log_length(run: SimRun, server: str) -> int:
    node = run.nodes[server]
    assert isinstance(node, QuorumReplica)
    return len(node.entries)


def _final_applied(run: SimRun) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for e in run.trace.events:
        if e[1] == tr.APPLY:
            counts[e[2]] = max(counts[e[2]], e[4])
    return dict(counts)


def test_a_follower_that_missed_updates_catches_up_in_parts_asking_once_per_part() -> None:
    """p3 hears nothing for 0.6 s while the others commit some 150 entries; then it asks
    p1 for them. Every part fits the limit (measured with the wire codec) and p3 asks for
    each part once: it does not ask again on each of the updates that keep coming."""
    config = SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        clients=4,
        ops=600,
        faults=("receive-omission:p3@0.2..0.8",),
        seed=3,
    )
    run = run_simulation(config, message_bytes_max=SMALL_MESSAGE_BYTES)
    syncs = _sent(run, (Sync,), "p1")
    assert len(syncs) >= 5  # the gap took several parts
    assert max(len(encode(e[5])) for e in syncs) <= SMALL_MESSAGE_BYTES
    asks = [e for e in _sent(run, (Behind,), "p3") if e[0] >= 0.8]
    updates = [
        e
        for e in run.trace.events
        if e[1] == tr.DELIVER and e[2] == "p3" and isinstance(e[5], Update) and e[0] >= 0.8
    ]
    caught_up = next(
        e[0] for e in syncs if e[0] >= 0.8 and e[5].start + len(e[5].commands) > e[5].length
    )
    asks_while_behind = [e for e in asks if e[0] <= caught_up]
    updates_while_behind = [e for e in updates if e[0] <= caught_up]
    assert len(updates_while_behind) > 2 * len(asks_while_behind)
    assert len(asks_while_behind) <= len([e for e in syncs if e[0] >= 0.8]) + 2
    applied = _final_applied(run)
    assert applied["p3"] == applied["p1"] == 600
    assert check_log_agreement(run.trace).ok


def test_takeover_and_votes_carry_only_what_the_receiver_lacks_in_parts() -> None:
    """p3 lags when p1 crashes: p2's takeover brings p3 the gap in parts under the limit,
    p3's vote carries its log from p2's commit point only, and the run ends with all of
    it replicated."""
    config = SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        clients=4,
        ops=500,
        faults=("receive-omission:p3@0.2..0.7", "crash:p1@0.7"),
        seed=5,
    )
    run = run_simulation(config, message_bytes_max=SMALL_MESSAGE_BYTES)
    assert "p2" in {node for _, node, is_primary in _primaries(run) if is_primary}
    log_messages = _sent(run, LOG_MESSAGES)
    assert log_messages
    assert max(len(encode(e[5])) for e in log_messages) <= SMALL_MESSAGE_BYTES
    takeovers = _sent(run, (Takeover,), "p2")
    assert takeovers and all(t[5].start > 1 for t in takeovers)  # never the whole log
    assert _log_length(run, "p3") == _log_length(run, "p2") == 500
    assert check_log_agreement(run.trace).ok


def test_a_restarted_primary_is_a_candidate_again() -> None:
    """Kill p2, kill p1, restart p1 (seen on a real cluster): p3 had deserted p1 and
    kept it off its list of candidates forever, p1 voted for itself, and nobody was
    elected. Desertion lasts one round: p1 is elected within a few rounds."""
    config = SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        clients=3,
        ops=400,
        faults=("crash:p2@0.3", "crash:p1@0.6", "restart:p1@1.0"),
        time_limit_s=5.0,
    )
    run = run_simulation(config)
    after = [(t, node) for t, node, is_primary in _primaries(run) if is_primary and t >= 1.0]
    assert after, "nobody was elected after p1 restarted"
    t, primary = after[0]
    assert primary == "p1" and t <= 1.0 + 2 * config.tau_s + 2 * config.delta_s
    assert run.trace.events[-1][0] < 5.0  # the clients finished their work
    assert check_log_agreement(run.trace).ok


def test_a_server_far_behind_fetches_committed_entries_before_it_votes() -> None:
    """p3 misses more than LAG_ENTRIES_MAX committed entries, then p1 crashes: p2 needs
    p3's vote. p3 does not vote while far behind; it fetches committed entries from p2
    part by part (there is no primary to ask), then votes, and p2 is elected."""
    ops = LAG_ENTRIES_MAX + 700
    config = SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        clients=16,
        ops=ops,
        faults=("receive-omission:p3@0.1..2.5", "crash:p1@2.5"),
        seed=2,
        time_limit_s=20.0,
    )
    run = run_simulation(config, message_bytes_max=8 * SMALL_MESSAGE_BYTES)
    fetches = _sent(run, (Fetch,), "p3")
    assert fetches and min(e[0] for e in fetches) >= 2.5
    parts = _sent(run, (Committed,), "p2")
    assert len(parts) >= 2
    assert max(len(encode(e[5])) for e in parts) <= 8 * SMALL_MESSAGE_BYTES
    votes = _sent(run, (Vote,), "p3")
    assert votes and votes[0][0] > fetches[0][0]  # caught up first, then voted
    elected = [(t, node) for t, node, is_primary in _primaries(run) if is_primary and t > 2.5]
    assert elected and elected[0][1] == "p2"
    assert _log_length(run, "p2") == _log_length(run, "p3") == ops
    assert not [e for e in run.trace.events if e[1] == tr.HALT]
    assert check_log_agreement(run.trace).ok


def test_a_fetched_committed_part_keeps_the_entries_after_it() -> None:
    """A server fetching committed entries keeps the entries after them when its log
    already holds them: they may be entries it acknowledged, committed by a primary it
    has not heard of since (see "Logs are ranked by the epoch that installed them" in
    ``quorum.py``). A part that disagrees with its log replaces the log from there."""
    config = ProtocolConfig(("p1", "p2", "p3"), ("c1",), "kv", 0.01, 0.05)
    p3 = QuorumReplica("p3", config)
    out = Out(random.Random(0))
    p3.on_start(out)
    ours = [Command("c1", seq, Op("append", "k", str(seq))) for seq in (1, 2, 3)]
    p3.entries, p3.epochs, p3.primary = list(ours), [0, 0, 0], None
    p3.on_message("p1", Committed(1, (0,), (ours[0],), 1), out)
    assert (p3.entries, p3.commit) == (ours, 1)
    other = Command("c2", 1, Op("append", "k", "x"))
    p3.on_message("p1", Committed(2, (129,), (other,), 2), out)
    assert (p3.entries, p3.commit) == ([ours[0], other], 2)
