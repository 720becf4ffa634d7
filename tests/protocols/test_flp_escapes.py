"""What escapes FLP (issue 12 §4), pinned on small cases: Ben-Or's randomized consensus,
Paxos with time-outs under partial synchrony, FLP §4's protocol for initially dead
processes — each run judged by the consensus checks, which must also be able to say
"bad" (broken variants below). The long sweeps are ``bench/flp_escapes.py``."""

from __future__ import annotations

import pytest

from smrkit.check.agreement_run import AgreementEvaluation, evaluate_agreement, first_decisions
from smrkit.core import Message, NodeId, Out
from smrkit.explore.initially_dead import explore_initially_dead, search_case
from smrkit.protocols.claims import ConsensusClaims
from smrkit.protocols.consensus.ben_or import BenOr, Proposal, Report, carried_value
from smrkit.protocols.consensus.initially_dead import (
    Hello,
    InitiallyDeadConsensus,
    initial_clique,
)
from smrkit.protocols.consensus.paxos_timeouts import TimedPaxos
from smrkit.sim.kernel.fingerprint import plain_data_problems
from smrkit.sim.world import ConfigError, SimConfig, SimRun, run_simulation


def judge(run: SimRun) -> AgreementEvaluation:
    """Seed 002's consensus checks over the run's records (what ``smrkit sim`` prints)."""
    assert isinstance(run.claims, ConsensusClaims)
    return evaluate_agreement(run.trace, run.claims)


def decided(run: SimRun) -> dict[str, tuple[float, object]]:
    """Each process's first decision: (time, value); times are steps under ``async``."""
    return {node: (r.t, r.data) for node, r in first_decisions(run.trace.events).items()}


def last_decision(run: SimRun) -> float | None:
    return max((t for t, _ in decided(run).values()), default=None)


def _ben_or(seed: int, **kwargs: object) -> SimRun:
    config = SimConfig(protocol="ben-or", timing="async", seed=seed, **kwargs)  # type: ignore[arg-type]
    return run_simulation(config)


def _rounds(run: SimRun) -> list[int]:
    return [node.decided_round for node in run.nodes.values() if isinstance(node, BenOr)]


# --- ben-or ----------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["random", "oldest", "split"])
@pytest.mark.parametrize("n", [3, 5])
def test_ben_or_decides_agrees_and_is_valid_in_every_pinned_seed(n: int, schedule: str) -> None:
    for seed in range(8):
        run = _ben_or(seed, replicas=n, schedule=schedule)
        evaluation = judge(run)
        assert evaluation.ok, (seed, evaluation.failed)
        assert set(evaluation.checks) == {"termination", "validity", "agreement", "integrity"}
        assert all(r >= 1 for r in _rounds(run))


def test_ben_or_survives_f_crashes_mid_run() -> None:
    for seed in range(6):
        run = _ben_or(seed, replicas=5, schedule="split", faults=("crash:p2@40", "crash:p5@90"))
        evaluation = judge(run)
        assert evaluation.ok, (seed, evaluation.failed)
        assert len(decided(run)) == 3


def test_unanimous_inputs_decide_that_value_in_round_one() -> None:
    for value in (0, 1):
        run = _ben_or(1, replicas=5, inputs=(value,) * 5, schedule="split")
        assert {v for _, v in decided(run).values()} == {value}
        assert _rounds(run) == [1] * 5
        assert all(node.coins == 0 for node in run.nodes.values() if isinstance(node, BenOr))


def test_the_split_adversary_costs_ben_or_rounds_and_coins() -> None:
    """Pinned seeds: under ``split`` the coin is flipped in every seed and the runs take
    more rounds than the random order's (the bench has the distributions)."""
    split = [_ben_or(seed, replicas=5, schedule="split") for seed in range(10)]
    rand = [_ben_or(seed, replicas=5, schedule="random") for seed in range(10)]
    assert all(sum(n.coins for n in r.nodes.values() if isinstance(n, BenOr)) for r in split)
    assert sum(max(_rounds(r)) for r in split) > sum(max(_rounds(r)) for r in rand)


def test_a_ben_or_run_is_a_pure_function_of_its_seed() -> None:
    first, again, other = _ben_or(7, replicas=5), _ben_or(7, replicas=5), _ben_or(8, replicas=5)
    assert first.trace.trace_hash() == again.trace.trace_hash()
    assert first.trace.trace_hash() != other.trace.trace_hash()


def test_carried_value_is_what_the_split_schedule_reads() -> None:
    assert carried_value(Report(3, 1)) == (("report", 3), 1)
    assert carried_value(Proposal(2, None)) == (("proposal", 2), None)
    assert carried_value(Hello(0)) is None


def test_ben_or_rejects_a_non_binary_input() -> None:
    with pytest.raises(ConfigError, match="input must be 0 or 1, not 2"):
        _ben_or(0, inputs=(0, 2, 1))


class HastyBenOr(BenOr):
    """Broken: decides the first report it hears, without waiting for n − f of them."""

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, Report) and not self.decided:
            self.decide(msg.value)
            self.decided_round = msg.round
        super().on_message(src, msg, out)


def test_the_checks_go_red_on_a_broken_ben_or_and_on_too_many_crashes() -> None:
    from smrkit.check.claims import judge_claims
    from smrkit.protocols.claims import ConsensusClaims
    from smrkit.sim.choosers import RandomOrder
    from smrkit.sim.faults import FaultPlan
    from smrkit.sim.network import AsyncNetwork
    from smrkit.sim.simulator import Simulator

    peers = ("p1", "p2", "p3")
    broken = 0
    for seed in range(30):
        nodes = [HastyBenOr(p, peers, v) for p, v in zip(peers, (0, 1, 0), strict=True)]
        sim = Simulator(
            nodes,
            seed=seed,
            network=AsyncNetwork(),
            plan=FaultPlan(),
            header={"servers": list(peers), "clients": []},
            time_limit_s=100_000,
            chooser=RandomOrder(seed),
        )
        sim.run()
        broken += not judge_claims(sim.trace, ConsensusClaims(), replicas=3)["agreement"].ok
    assert broken > 0
    # two crashes out of three: the survivor waits for n − f = 2 reports for ever
    run = _ben_or(0, replicas=3, faults=("crash:p2@3", "crash:p3@3"))
    evaluation = judge(run)
    assert evaluation.failed == ["termination"]


# --- paxos-timeouts under partial synchrony -------------------------------------------


def _paxos(seed: int, **kwargs: object) -> SimRun:
    config = SimConfig(
        protocol="paxos-timeouts",
        timing="partial-sync",
        gst_s=1.0,
        seed=seed,
        **kwargs,  # type: ignore[arg-type]
    )
    return run_simulation(config)


@pytest.mark.parametrize("faults", [(), ("crash:p1@0.5",)])
def test_paxos_with_time_outs_decides_after_gst_in_every_pinned_seed(
    faults: tuple[str, ...],
) -> None:
    for seed in range(8):
        run = _paxos(seed, faults=faults)
        evaluation = judge(run)
        assert evaluation.ok, (seed, evaluation.failed)
        assert set(evaluation.checks) == {"termination", "validity", "agreement", "integrity"}
        last = last_decision(run)
        assert last < 1.0 + 0.25, last  # GST + p2's time-out (12δ) and a ballot, at most


def test_paxos_with_time_outs_stays_safe_in_asynchrony() -> None:
    for seed in range(10):
        run = run_simulation(
            SimConfig(protocol="paxos-timeouts", timing="async", seed=seed, time_limit_s=3000)
        )
        assert judge(run).checks["agreement"].ok


def test_liveness_after_gst_goes_red_without_a_majority() -> None:
    run = _paxos(0, faults=("crash:p2@0.2", "crash:p3@0.2"), time_limit_s=3.0)
    evaluation = judge(run)
    assert "termination" in evaluation.failed
    assert evaluation.checks["agreement"].ok


# --- initially dead processes ----------------------------------------------------------


def test_every_schedule_of_n3_t1_decides_agrees_and_is_valid() -> None:
    exploration = explore_initially_dead(3, 1)
    assert len(exploration.cases) == 8 * 4
    assert exploration.complete and exploration.violations == []
    assert exploration.unique == 13_008  # pinned: 12,744 with nobody dead, 264 with one


def test_n5_with_two_dead_is_explored_completely() -> None:
    result = search_case((0, 1, 0, 1, 1), ("p4", "p5"))
    assert result.complete and not result.discoveries
    assert result.unique == 511


class HastyInitiallyDead(InitiallyDeadConsensus):
    """Broken: decides after the first hello, the smaller of its value and the hello's."""

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, Hello) and not self.decided:
            self.decide(min(self.input, msg.value))
            self.done = True
            return
        super().on_message(src, msg, out)


def test_the_explorer_finds_the_disagreement_of_a_hasty_variant() -> None:
    result = search_case((0, 1, 1), (), build=HastyInitiallyDead)
    assert "agreement" in result.discoveries


def test_the_initial_clique_is_the_source_component() -> None:
    # p1 <- p2, p2 <- p1, p3 <- p1: {p1, p2} is the clique, p3 hangs below it
    known = {"p1": (0, ("p2",)), "p2": (1, ("p1",)), "p3": (1, ("p1",))}
    assert initial_clique({"p1", "p2", "p3"}, known) == ["p1", "p2"]


def test_initially_dead_runs_in_sim_with_dead_processes() -> None:
    for seed in range(6):
        run = run_simulation(
            SimConfig(
                protocol="initially-dead",
                timing="async",
                replicas=5,
                seed=seed,
                inputs=(1, 0, 1, 0, 0),
                faults=("crash:p1@0", "crash:p3@0"),
            )
        )
        evaluation = judge(run)
        assert evaluation.ok, (seed, evaluation.failed)
        assert len(decided(run)) == 3


@pytest.mark.parametrize("name", ["ben-or", "initially-dead", "paxos-timeouts"])
def test_consensus_nodes_are_configuration_plus_plain_data(name: str) -> None:
    timing = "partial-sync" if name == "paxos-timeouts" else "async"
    run = run_simulation(SimConfig(protocol=name, timing=timing, replicas=3, seed=2))
    for node_id, node in run.nodes.items():
        hash(node.config)  # type: ignore[attr-defined]
        assert plain_data_problems(node, f"{name} {node_id}") == []
    assert isinstance(next(iter(run.nodes.values())), BenOr | InitiallyDeadConsensus | TimedPaxos)
