"""Seed 004's FLP proof, run (:mod:`smrkit.explore.flp`): Lemma 1's walk, the valency
oracle's witnesses, Lemma 2's run on each protocol, and each figure made to go red."""

from __future__ import annotations

from pathlib import Path

import pytest

from smrkit.explore.flp.configuration import Setup
from smrkit.explore.flp.lemma2 import BLOCKED, BOUND, STEPS, VIOLATION, build_nondeciding_run
from smrkit.explore.flp.protocols import FlpProtocolError, resolve_binary
from smrkit.explore.replay import path_verdicts, replay
from smrkit.protocols.consensus.binary_registry import BINARY_PROTOCOLS

REPO = Path(__file__).resolve().parents[2]
USER = "tests.explore.flp_protocols"


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def _labels(result: object) -> list[str]:
    return [v.label for v in result.lemma1.valencies]  # type: ignore[attr-defined]


def test_floodset_waiting_for_all_blocks_once_lemma_1s_pivot_crashes() -> None:
    result = build_nondeciding_run(BINARY_PROTOCOLS["floodset-all"], 3)
    assert _labels(result) == ["0-valent", "0-valent", "0-valent", "1-valent"]
    assert result.lemma1.ambiguous is None and result.lemma1.pivot == 3
    run = result.run
    assert run is not None and result.violation is None
    assert run.moves[0] == {"kind": "crash", "node": "p3"}
    assert run.end == BLOCKED and run.decided == [] and run.undelivered == 0
    assert (len(run.moves), run.deliveries, run.max_age) == (5, 2, 2)


@pytest.mark.parametrize("name", ["wait-majority", "floodset-n-1"])
def test_waiting_for_n_minus_1_breaks_agreement_and_the_run_replays(name: str) -> None:
    result = build_nondeciding_run(BINARY_PROTOCOLS[name], 3)
    assert result.run is None
    assert result.violation is not None and result.violation.startswith("agreement")
    assert _labels(result)[2] == "violation"
    bad = result.violation_run
    assert bad is not None and bad.end == VIOLATION and len(bad.decided) == 2
    verdicts = {v.name: v.ok for v in path_verdicts(bad.setup.model, bad.moves)}
    assert verdicts == {"agreement": False, "validity": True, "no live node decided": False}


def test_paxos_single_duels_forever_every_configuration_ambiguous() -> None:
    result = build_nondeciding_run(BINARY_PROTOCOLS["paxos-single"], 3, steps=10, bound=300)
    assert result.violation is None and result.lemma1.ambiguous == 1
    run = result.run
    assert run is not None and run.end == STEPS and len(run.moves) == 10
    assert run.decided == [] and run.decided_at == []
    assert set(run.labels) == {"ambiguous"}
    assert run.lemma2_steps, "Lemma 2 delivered the oldest message at least once"
    assert 0 < run.max_age < 10 and run.max_undelivered_age < 10
    # Every configuration's two witnesses really decide 0 and 1 (the oracle's proof).
    setup, oracle = run.setup, result.lemma1.oracles[1]
    state = setup.initial()
    for number, json_move in enumerate(run.moves):
        state = next(s for m, s in setup.moves(state) if setup.to_json(m) == json_move)
        if number % 4:
            continue
        valency = oracle.classify(state)
        for value, schedule in valency.witnesses.items():
            end = state
            for move in schedule:
                end = dict(setup.moves(end))[move]
            assert value in setup.decisions(end).values()
    replayed = replay(setup.model, run.moves)
    assert not replayed.world.down and all(
        not node.decided  # type: ignore[attr-defined]
        for node in replayed.world.nodes.values()
    )
    verdicts = path_verdicts(setup.model, run.moves)
    assert all(v.ok for v in verdicts)


@pytest.mark.usefixtures("at_repo_root")
def test_a_user_protocol_blocks_when_its_coordinator_crashes() -> None:
    result = build_nondeciding_run(resolve_binary(f"{USER}:Coordinator"), 3)
    assert _labels(result) == ["0-valent", "0-valent", "ambiguous", "1-valent"]
    run = result.run
    assert run is not None and run.end == BLOCKED and run.decided == []
    assert run.moves[-1] == {"kind": "crash", "node": "p1"}


@pytest.mark.usefixtures("at_repo_root")
def test_a_search_cut_short_says_so() -> None:
    from smrkit.cli.flp_cmd import EXIT_INCONCLUSIVE, exit_code

    result = build_nondeciding_run(resolve_binary(f"{USER}:Coordinator"), 3, lemma2_bound=1)
    assert result.run is not None and result.run.end == BOUND
    assert exit_code(result) == EXIT_INCONCLUSIVE


@pytest.mark.usefixtures("at_repo_root")
@pytest.mark.parametrize(
    ("name", "property_", "where"),
    [("DecideOwnInput", "agreement", 1), ("AlwaysZero", "validity", 3)],
)
def test_unsafe_protocols_are_caught_by_lemma_1(name: str, property_: str, where: int) -> None:
    result = build_nondeciding_run(resolve_binary(f"{USER}:{name}"), 3)
    assert result.violation is not None and result.violation.startswith(property_)
    assert result.lemma1.violation == where and result.run is None


def test_the_oracle_answers_unknown_past_its_bound_never_a_guess() -> None:
    from smrkit.explore.flp.valency import Oracle

    setup = Setup(BINARY_PROTOCOLS["paxos-single"], (0, 0, 0))
    valency = Oracle(setup, bound=200).classify(setup.initial())
    assert valency.label == "unknown" and set(valency.witnesses) == {0}
    small = Setup(BINARY_PROTOCOLS["floodset-all"], (0, 0, 0))
    assert Oracle(small, bound=10).classify(small.initial()).label == "unknown"
    assert Oracle(small).classify(small.initial()).label == "0-valent"


def test_names_that_are_no_binary_protocol() -> None:
    with pytest.raises(FlpProtocolError, match="unknown protocol 'nope'"):
        resolve_binary("nope")
    with pytest.raises(FlpProtocolError, match="not a BinaryProcess subclass"):
        resolve_binary("smrkit.protocols.consensus.binary:BinaryConfig")


@pytest.mark.usefixtures("at_repo_root")
def test_the_byzantine_adversary_two_faced_node_breaks_validity_of_paxos() -> None:
    result = build_nondeciding_run(BINARY_PROTOCOLS["paxos-single"], 3, "byzantine", bound=300)
    assert result.violation is not None and result.violation.startswith("validity")
    bad = result.violation_run
    assert bad is not None and bad.setup.byzantine == "p1"
    assert {"kind": "fire", "node": "p1", "timer": ["claim", 1]} in bad.moves
    verdicts = {v.name: v.ok for v in path_verdicts(bad.setup.model, bad.moves)}
    assert verdicts["validity"] is False


@pytest.mark.usefixtures("at_repo_root")
def test_a_protocol_safe_against_a_two_faced_node_is_blocked_by_it() -> None:
    result = build_nondeciding_run(resolve_binary(f"{USER}:AllSame"), 3, "byzantine")
    assert result.violation is None
    run = result.run
    assert run is not None and run.end == BLOCKED and run.decided == []
    assert run.setup.byzantine == "p1" and run.setup.inputs == (0, 0, 0)
    assert {"kind": "fire", "node": "p1", "timer": ["claim", 1]} in run.moves
    assert all(v.ok for v in path_verdicts(run.setup.model, run.moves))
