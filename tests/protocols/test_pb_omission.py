"""The omission protocols (the lease-and-quorum engine): a faulty server halts itself."""

from __future__ import annotations

import pytest

from smrkit.check.evaluate import evaluate_run
from smrkit.explore.sweep import random_plans, sweep
from smrkit.sim import trace as tr
from smrkit.sim.world import SimConfig, run_simulation

OMISSION = ["pb-send-omission", "pb-receive-omission", "pb-general-omission"]


def _halts(run_events: list[tr.Event]) -> list[tuple[str, str]]:
    return [(e[2], e[5]) for e in run_events if e[1] == tr.HALT]


@pytest.mark.parametrize("protocol", OMISSION)
def test_f_2_with_five_servers_over_random_plans(protocol: str) -> None:
    base = SimConfig(protocol=protocol, replicas=5, clients=3, ops=200)
    outcomes = sweep(base, range(60), random_plans(base, 1.0))
    assert [(o.seed, o.faults, o.failed) for o in outcomes if not o.ok] == []


@pytest.mark.parametrize(
    ("protocol", "fault"),
    [
        ("pb-receive-omission", "receive-omission:p1@0.3"),
        ("pb-send-omission", "send-omission:p1@0.3"),
        ("pb-general-omission", "general-omission:p1@0.3"),
    ],
)
def test_a_primary_that_omits_everything_halts_before_anyone_takes_over(
    protocol: str, fault: str
) -> None:
    run = run_simulation(
        SimConfig(protocol=protocol, replicas=3, clients=3, ops=300, faults=(fault,))
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    halts = _halts(run.trace.events)
    assert [node for node, _ in halts] == ["p1"]
    took_over = [e for e in run.trace.events if e[1] == tr.PRIMARY and e[5] and e[2] != "p1"]
    assert took_over and took_over[0][0] >= next(e[0] for e in run.trace.events if e[1] == tr.HALT)


def test_a_primary_whose_replies_to_a_client_are_lost_halts() -> None:
    """Only the replies to c1 are lost: the servers hear p1 fine, so only the client's
    resend can tell p1 it omits messages."""
    run = run_simulation(
        SimConfig(
            protocol="pb-send-omission",
            replicas=3,
            clients=3,
            ops=300,
            faults=("send-omission:p1->c1@0.3",),
        )
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    halts = _halts(run.trace.events)
    assert halts and halts[0][0] == "p1" and "never arrived" in halts[0][1]


def test_a_primary_that_drops_a_clients_requests_halts() -> None:
    run = run_simulation(
        SimConfig(
            protocol="pb-receive-omission",
            replicas=3,
            clients=3,
            ops=300,
            faults=("receive-omission:p1<-c2@0.3",),
        )
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    halts = _halts(run.trace.events)
    assert halts and halts[0][0] == "p1" and "never received" in halts[0][1]


def test_a_backup_that_cannot_hear_does_not_disturb_a_correct_primary() -> None:
    run = run_simulation(
        SimConfig(
            protocol="pb-general-omission",
            replicas=3,
            clients=3,
            ops=300,
            faults=("receive-omission:p3@0.2",),
        )
    )
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    changes = [(e[2], e[5]) for e in run.trace.events if e[1] == tr.PRIMARY]
    assert changes == [("p1", True)]


def test_with_two_servers_two_halves_each_elect_a_primary() -> None:
    """n = 2f (below Theorem 4's bound): the quorum is one server, each side elects."""
    run = run_simulation(
        SimConfig(
            protocol="pb-general-omission",
            replicas=2,
            clients=2,
            ops=200,
            faults=("send-omission:p1->p2@0.3", "receive-omission:p1<-p2@0.3"),
        )
    )
    assert "pb1" in evaluate_run(run).failed


def test_a_restarted_replica_recovers_what_it_saved_and_rejoins_as_a_follower() -> None:
    """What a replica saved (log, epoch, commit point) is enough to rebuild it: the
    restarted replica applies its committed entries again and follows no one until it
    hears a primary's heartbeat."""
    import random

    from smrkit.core.node import Out
    from smrkit.protocols.primary_backup.quorum import ROUND, QuorumReplica
    from smrkit.protocols.registry import ProtocolConfig

    run = run_simulation(
        SimConfig(
            protocol="pb-general-omission", replicas=3, clients=3, ops=300, faults=("crash:p3@1.0",)
        )
    )
    crashed = run.nodes["p3"]
    assert isinstance(crashed, QuorumReplica) and crashed.applied
    storage: dict[str, object] = {}
    for t, kind, node, *_ in run.trace.events:
        if kind == tr.SAVE and node == "p3":
            assert t < 1.0
    everything = Out(random.Random(0))
    crashed._saved, crashed._changed_from = (0, 0, 0), 0
    crashed._persist(everything)
    storage.update(everything.saves)
    config = ProtocolConfig(("p1", "p2", "p3"), ("c1", "c2", "c3"), "kv", 0.01, 0.05)
    reborn = QuorumReplica("p3", config)
    out = Out(random.Random(1), storage)
    out.now = 1.234
    reborn.on_start(out)
    assert reborn.entries == crashed.entries
    assert reborn.applied == crashed.applied[: crashed.commit]
    assert not reborn.is_primary and reborn.primary is None
    assert out.timers[ROUND] == pytest.approx(1.25)
    assert out.sends == []


def test_a_follower_that_missed_a_takeover_commits_nothing_of_its_old_tail() -> None:
    """Found by a kill -9 run of the real cluster (an append applied twice): a replica
    that joins a newer primary through its heartbeat, without the takeover, still holds
    the old epoch's uncommitted tail. It must not apply the new primary's commit point
    to that tail, only to the log a Sync gives it."""
    import random

    from smrkit.core import Command, Op
    from smrkit.core.node import Out
    from smrkit.protocols.primary_backup.quorum import (
        Behind,
        Heartbeat,
        QuorumReplica,
        Sync,
    )
    from smrkit.protocols.registry import ProtocolConfig

    config = ProtocolConfig(("p1", "p2", "p3"), ("c1",), "kv", 0.01, 0.05)
    follower = QuorumReplica("p3", config)
    first, stale, fresh = (
        Command("c1", seq, Op("append", "k", text)) for seq, text in ((1, "a"), (2, "b"), (2, "c"))
    )
    follower.entries, follower.epochs = [first, stale], [0, 0]
    follower._advance(1)
    out = Out(random.Random(0))
    follower.on_message("p2", Heartbeat(1, 65, True, 2, 2), out)
    assert follower.applied == [first]
    assert ("p2", Behind(65, 1)) in out.sends
    follower.on_message("p2", Sync(65, 2, (65,), (fresh,), 2, 2), Out(random.Random(0)))
    assert follower.applied == [first, fresh]
