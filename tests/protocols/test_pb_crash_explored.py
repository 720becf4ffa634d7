"""pb-crash model-checked (issue 10): n = 2, one client, two operations, delays in
{δ_min, δ}, any crash at any step — Pb1, log agreement and linearizability hold in every
state up to the horizon; the reply-before-update variant yields a shortest
counterexample, a trace that ``smrkit replay`` re-runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from broken_variants import BROKEN, register_broken

from smrkit.cli.main import main
from smrkit.explore.models import pb_model
from smrkit.explore.replay import path_to_json, replay
from smrkit.explore.search import search


def test_pb_crash_keeps_its_properties_in_every_state() -> None:
    model = pb_model("pb-crash", servers=2)
    result = search(model.build_space(), model.properties)
    assert result.complete and result.horizon_cut
    assert result.discoveries == {}
    assert result.unique > 1000
    assert model.space.delays == (0.001, 0.01) and model.space.crash_budget == 1


def test_replying_before_the_update_is_caught_with_a_shortest_counterexample() -> None:
    register_broken()
    model = pb_model(BROKEN, servers=2)
    space = model.build_space()
    result = search(space, model.properties, bfs=True)
    assert set(result.discoveries) == {"linearizable"}
    moves = path_to_json(space, result.discoveries["linearizable"].path)
    crash = [m for m in moves if "sends_before_crash" in m]
    assert crash == [crash[0]] and crash[0]["sends_before_crash"] == 1
    assert crash[0]["node"] == "p1" and crash[0]["msg"]["type"] == "ClientRequest"
    last = moves[-1]
    assert (last["src"], last["node"], last["msg"]["type"]) == ("p2", "c1", "ClientReply")
    assert last["msg"]["result"] is None  # the get misses the acknowledged put
    # shortest: nothing shorter violates it
    shorter = search(model.build_space(), model.properties, bfs=True, max_depth=len(moves))
    assert "linearizable" not in shorter.discoveries
    world = replay(model, moves).world
    applied = world.nodes["p2"].applied  # type: ignore[attr-defined]
    assert [command.op.f for command in applied] == ["get"]  # the put is lost


def test_the_counterexample_trace_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register_broken()
    trace = tmp_path / "counterexample.jsonl"
    page = tmp_path / "counterexample.html"
    with pytest.raises(SystemExit) as exit_info:
        main(["explore", "--model", BROKEN, "--trace", str(trace), "--html", str(page), "--json"])
    assert exit_info.value.code == 1
    data = json.loads(capsys.readouterr().out)
    verdicts = {p["name"]: p["verdict"] for p in data["properties"]}
    assert verdicts == {"Pb1": "holds", "log agreement": "holds", "linearizable": "violated"}
    html = page.read_text()
    assert "<svg" in html
    # the page shows the path move by move, the crash the search chose as its fault plan,
    # and no table of measured figures (a model checker's path measures none)
    assert 'id="path"' in html and html.count("<li") >= len(verdicts) + 16
    assert "move 6: c1 → p1" in html and "p1 crashes after sending 1" in html
    assert "Measured against bound" not in html and "failure model" in html and ">crash<" in html
    with pytest.raises(SystemExit) as exit_info:
        main(["replay", str(trace), "--json"])
    assert exit_info.value.code == 1
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["replay"]["identical"] is True
    assert {p["name"]: p["ok"] for p in replayed["properties"]} == {
        "Pb1": True,
        "log agreement": True,
        "linearizable": False,
    }
    lines = trace.read_text().splitlines()
    lines[3] = lines[3].replace('"t":', '"t":1')  # tamper with a recorded event
    trace.write_text("\n".join(lines) + "\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["replay", str(trace)])
    assert exit_info.value.code == 3
