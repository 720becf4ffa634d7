"""The model checker over every behaviour of a bounded Byzantine adversary: Dolev-Strong
and EIG hold where the theory says, and lose agreement where it says they must."""

from __future__ import annotations

import json

import pytest

from smrkit.cli.main import main
from smrkit.core.byzantine import AdversaryConfig
from smrkit.core.ids import server_ids
from smrkit.core.node import Node
from smrkit.explore.byzantine_models import SENDER_VALUE, _properties, byzantine_model
from smrkit.explore.models import Model, model_from_parameters
from smrkit.explore.replay import path_to_json, replay
from smrkit.explore.search import search
from smrkit.explore.space import LOCK_STEP, SpaceConfig
from smrkit.protocols.byzantine import dolev_strong as ds


@pytest.mark.parametrize(
    ("n", "f", "byzantine", "unique"),
    [(3, 1, None, 39), (4, 1, None, 139), (3, 2, None, 527), (4, 1, ["p2"], 11)],
)
def test_dolev_strong_holds_against_every_chain(
    n: int, f: int, byzantine: list[str] | None, unique: int
) -> None:
    model = byzantine_model("dolev-strong", n, f, byzantine)
    result = search(model.build_space(), model.properties)
    assert result.complete and result.ok
    assert result.unique == unique


def test_eig_holds_for_n_4_f_1() -> None:
    model = byzantine_model("eig", 4, 1, None)
    result = search(model.build_space(), model.properties)
    assert result.complete and result.ok
    assert result.unique == 39394


def test_eig_loses_agreement_with_n_3_and_the_path_replays() -> None:
    model = byzantine_model("eig", 3, 1, None)
    space = model.build_space()
    result = search(space, model.properties)
    assert set(result.discoveries) == {"agreement"}
    moves = path_to_json(space, result.discoveries["agreement"].path)
    assert [m["kind"] for m in moves].count("act") >= 1
    rebuilt = model_from_parameters(model.parameters)
    world = replay(rebuilt, moves).world
    decisions = {p: world.nodes[p].decision for p in ("p1", "p2")}  # type: ignore[attr-defined]
    assert len(set(decisions.values())) == 2


def test_dolev_strong_cut_to_f_rounds_loses_agreement_to_f_plus_one_traitors() -> None:
    """Built for f = 1 (two rounds) against two traitors: a chain p1 → p2 → one correct
    process, released in the last round, splits the correct processes."""
    ids = server_ids(4)
    bad = ("p1", "p2")

    def nodes() -> list[Node]:
        config = AdversaryConfig(ids, "any-chain")
        built: list[Node] = []
        for p in ids:
            honest = ds.DolevStrong(p, ids, "p1", 1, SENDER_VALUE if p == "p1" else None)
            built.append(ds.ChainAdversary(honest, config) if p in bad else honest)
        return built

    model = Model(
        "ds-short",
        nodes,
        SpaceConfig(timing=LOCK_STEP, horizon_s=3.0),
        _properties(["p3", "p4"], None, 3),
    )
    result = search(model.build_space(), model.properties)
    assert "agreement" in result.discoveries


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--model", "eig", "--byzantine", "p9"], "--byzantine names p9"),
        (["--model", "dolev-strong", "--byzantine", "p1,p2,p3"], "at most f = 2"),
        (["--model", "eig", "--crashes", "1"], "do not apply to eig"),
        (["--model", "paxos", "--f", "1"], "--f applies to consensus-naive, floodset,"),
        (["--model", "paxos", "--byzantine", "p1"], "--byzantine applies to dolev-strong, eig"),
    ],
)
def test_bad_byzantine_model_options_are_one_line_and_exit_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["explore", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_command_line_explores_dolev_strong_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["explore", "--model", "dolev-strong", "--servers", "4", "--f", "1", "--json"])
    assert exit_info.value.code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unique"] == 139 and data["complete"]
    assert {p["name"]: p["verdict"] for p in data["properties"]} == {
        "agreement": "holds",
        "validity": "holds",
        "termination": "holds",
    }
