"""Chain replication with a replicated master (seed 003's OFS-SMR): reconfiguration
after each kind of failure, state transfer to a new tail, and fault safety — with the
master unavailable the chain stops, while the broken variant forks."""

from __future__ import annotations

import random

import pytest

from smrkit.check.evaluate import evaluate_run
from smrkit.core.messages import ClientRequest
from smrkit.core.node import Out
from smrkit.core.ops import Command, Op
from smrkit.protocols.chain.config import ChainConfig, next_config
from smrkit.protocols.chain.messages import Forward, NewConfig
from smrkit.protocols.chain.replica import ChainReplica, ChainReplicaConfig
from smrkit.protocols.chain.timing import ChainTiming
from smrkit.sim.world import ConfigError, SimConfig, run_simulation

MASTER_LOST = ("crash:m1@0.3", "crash:m2@0.3", "link:p2-p3@0.5")
"""The master loses its majority, then a link inside the chain is cut."""


def judged(*faults: str, protocol: str = "chain", ops: int = 300, seed: int = 0) -> dict:
    config = SimConfig(
        protocol=protocol,
        ops=ops,
        faults=faults,
        seed=seed,
        timing="partial-sync",
        time_limit_s=6.0,
    )
    run = run_simulation(config)
    evaluation = evaluate_run(run)
    return {
        "checks": {name: check.ok for name, check in evaluation.checks.items()},
        "ops": evaluation.history.counts(),
        "measured": evaluation.measured(),
    }


def test_a_fault_free_chain_answers_every_op_in_one_epoch() -> None:
    result = judged()
    assert all(result["checks"].values())
    assert result["ops"]["ok"] == result["ops"]["invoked"] == 300
    assert result["measured"]["epochs"] == 1
    # A query is one round trip to the tail; an update travels the chain too.
    assert result["measured"]["query_latency_delta_p50"] <= 2
    assert result["measured"]["update_latency_delta_p50"] <= 4


@pytest.mark.parametrize("fault", ["crash:p1@0.5", "crash:p2@0.5", "crash:p3@0.5"])
def test_a_failed_head_middle_or_tail_is_removed_and_the_chain_goes_on(fault: str) -> None:
    result = judged(fault)
    assert all(result["checks"].values()), result["checks"]
    assert result["ops"]["ok"] == 300
    assert result["measured"]["epochs"] == 2
    (reconfiguration,) = result["measured"]["reconfigurations"]
    assert reconfiguration["reconfigure_s"] is not None
    assert (
        result["measured"]["reconfigure_delta_max"] <= result["measured"]["reconfigure_claim_delta"]
    )


def test_a_restarted_replica_rejoins_as_the_tail_with_the_old_tails_state() -> None:
    result = judged("crash:p3@0.3", "restart:p3@1.0", "crash:p1@2.0", ops=400)
    assert all(result["checks"].values()), result["checks"]
    assert result["ops"]["ok"] == 400
    # p3 removed, p3 joins, p1 removed: the rejoined p3 is the tail that commits.
    assert result["measured"]["epochs"] >= 3


def test_a_master_minority_crash_changes_nothing() -> None:
    result = judged("crash:m1@0.3")
    assert all(result["checks"].values())
    assert result["ops"]["ok"] == 300


def test_without_its_master_the_chain_stops_safely() -> None:
    result = judged(*MASTER_LOST)
    assert all(result["checks"].values()), result["checks"]
    ops = result["ops"]
    assert ops["info"] > 0 and ops["ok"] < 300  # it stopped serving …
    lease_s = ChainTiming.derive(0.01, 0.05, 3).lease_s
    assert result["measured"]["last_ack_s"] <= 0.3 + lease_s  # … within a lease
    assert result["measured"]["epochs"] == 1  # and nobody reconfigured it


def test_the_broken_variant_forks_under_the_same_faults() -> None:
    result = judged(*MASTER_LOST, protocol="chain-unsafe")
    assert result["checks"]["linearizable"] is False
    assert result["checks"]["fault_safe"] is False


def test_fault_safe_goes_red_when_a_replica_applies_without_the_master() -> None:
    result = judged("crash:m1@0.3", "crash:m2@0.3", protocol="chain-unsafe")
    assert result["checks"]["fault_safe"] is False
    assert result["ops"]["ok"] == 300  # it served everything: that is the fault


@pytest.mark.parametrize(
    "faults",
    [
        ("link:p1-p2@0.5..0.9",),
        ("link:p2-p3@0.4",),
        ("crash:m2@0.2", "restart:m2@0.6", "crash:p2@0.8"),
        tuple(f"link:p2-{o}@0.5..1.2" for o in ("p1", "p3", "m1", "m2", "m3")),
        ("crash:p1@0.2", "restart:p1@0.5", "crash:p3@1.0", "restart:p3@1.4"),
    ],
)
def test_pinned_fault_plans_stay_linearizable_with_agreeing_logs(faults: tuple[str, ...]) -> None:
    result = judged(*faults, seed=7)
    assert all(result["checks"].values()), (faults, result["checks"])


def test_next_config_removes_silent_members_before_suspected_ones() -> None:
    config = ChainConfig(4, ("p1", "p2", "p3"))
    assert next_config(config, silent={"p3"}, suspected={"p2"}, fresh=()) == ChainConfig(
        5, ("p1", "p2")
    )
    # Every replica above a broken link suspects its successor: the lowest goes.
    assert next_config(config, silent=(), suspected={"p2", "p3"}, fresh=()) == ChainConfig(
        5, ("p1", "p2")
    )
    assert next_config(config, silent=(), suspected=(), fresh={"p4"}) == ChainConfig(
        5, ("p1", "p2", "p3", "p4"), "p4"
    )
    assert next_config(config, silent={"p1", "p2", "p3"}, suspected=(), fresh=()) is None
    joining = ChainConfig(5, ("p1", "p2", "p4"), "p4")
    # The joiner is fresh until it hears of its epoch: it stays; a fresh member goes.
    assert next_config(joining, silent=(), suspected=(), fresh={"p4"}) is None
    assert next_config(joining, silent=(), suspected=(), fresh={"p2", "p4"}) == ChainConfig(
        6, ("p1", "p4"), None
    )
    # A joiner still installing its state goes with any other removal.
    assert next_config(
        joining, silent={"p1"}, suspected=(), fresh=(), installing={"p4"}
    ) == ChainConfig(6, ("p2",))
    assert next_config(config, silent=(), suspected=(), fresh=()) is None


def _replica() -> tuple[ChainReplica, Out]:
    timing = ChainTiming.derive(0.01, 0.05, 2)
    config = ChainReplicaConfig(
        ("m1", "m2", "m3"), ChainConfig(2, ("p1", "p2")), ("c1",), "kv", 100, timing
    )
    replica = ChainReplica("p2", config)
    replica.epoch = 2
    return replica, Out(random.Random(0))


def test_a_message_of_an_older_epoch_is_counted_and_dropped() -> None:
    replica, out = _replica()
    command = Command("c1", 1, Op("put", "x", "1"))
    replica.on_message("p1", Forward(1, 1, command), out)
    assert replica.anomalies == {"older epoch": 1}
    assert replica.applied == [] and out.sends == []


def test_a_replica_removed_from_the_chain_halts() -> None:
    replica, out = _replica()
    replica.on_message("m1", NewConfig(ChainConfig(3, ("p1",))), out)
    assert out.halt_reason == "removed from the chain in epoch 3"


def test_a_stopped_replica_answers_no_client() -> None:
    replica, out = _replica()  # the tail, but it holds no lease
    replica.on_message("c1", ClientRequest("c1", 1, Op("get", "x", None)), out)
    assert out.sends == []
    assert replica.anomalies == {"request while stopped": 1}


def test_a_fault_on_an_unknown_master_node_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="m9"):
        run_simulation(SimConfig(protocol="chain", faults=("crash:m9@1.0",)))
