"""Seed 002's lock-step crash protocols as ``smrkit explore`` models: the explorer meets
the very states ``smrkit rounds``' exhaustive search meets (the unique-state counts are
its ``states``), agrees with it on every verdict, judges each finished run as the kernel's
run of the same path is judged, and each of its properties can go red."""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path

import pytest

from smrkit.check.agreement_run import TRB
from smrkit.cli.main import main
from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out
from smrkit.explore.crash_models import crash_claims, crash_model, judge_run, lock_step_model
from smrkit.explore.models import Model, model_from_parameters
from smrkit.explore.properties import View
from smrkit.explore.replay import path_to_json, replay
from smrkit.explore.rounds import RoundsSearch, resolve_round_protocol
from smrkit.explore.search import search
from smrkit.explore.space import Move, State
from smrkit.protocols.agreement import FloodSet, Known
from smrkit.protocols.claims import ConsensusClaims


def explore(model: Model) -> tuple[int, set[str], bool]:
    result = search(model.build_space(), model.properties)
    return result.unique, set(result.discoveries), result.complete


@pytest.mark.parametrize(
    ("name", "n", "f", "rounds", "unique"),
    [
        ("floodset", 3, 1, 2, 52),
        ("floodset", 4, 2, 3, 1_213),
        ("floodset-early", 4, 2, 3, 4_023),
        ("trb", 4, 2, 3, 614),
        ("consensus-naive", 4, 0, 1, 3),
    ],
)
def test_r_f_plus_1_holds_in_every_state_the_rounds_search_meets(
    name: str, n: int, f: int, rounds: int, unique: int
) -> None:
    found, broken, complete = explore(crash_model(name, n, f, rounds))
    assert complete and not broken and found == unique
    if f == 0:
        return  # smrkit rounds asks for f >= 1
    make, trb = resolve_round_protocol(name)
    exhaustive = RoundsSearch(name, make, replicas=n, f=f, rounds=rounds, trb=trb).search()
    assert exhaustive.exhausted and exhaustive.violation is None
    assert exhaustive.states == unique


@pytest.mark.parametrize(
    ("name", "n", "f", "rounds"),
    [
        ("floodset", 3, 1, 1),
        ("floodset", 4, 2, 2),
        ("floodset-early", 4, 2, 2),
        ("trb", 4, 2, 2),
        ("consensus-naive", 3, 1, 1),
    ],
)
def test_r_at_most_f_is_broken_by_both_searches(name: str, n: int, f: int, rounds: int) -> None:
    model = crash_model(name, n, f, rounds)
    space = model.build_space()
    result = search(space, model.properties)
    assert set(result.discoveries) == {"agreement"}
    make, trb = resolve_round_protocol(name)
    violation = RoundsSearch(name, make, replicas=n, f=f, rounds=rounds, trb=trb).search().violation
    assert violation is not None and "agreement" in violation.broken
    # the counterexample is a whole run, and the kernel's run of it breaks agreement too
    moves = path_to_json(space, result.discoveries["agreement"].path)
    trace = replay(model_from_parameters(model.parameters), moves).trace
    checks = judge_run(model.parameters, trace.events, trace.servers)
    assert [c for c, check in checks.items() if not check.ok] == ["agreement"]


def test_one_crash_breaks_consensus_naive_and_none_does_not() -> None:
    model = crash_model("consensus-naive", 3, 1)
    space = model.build_space()
    result = search(space, model.properties)
    assert result.complete and result.unique == 30 and set(result.discoveries) == {"agreement"}
    moves = path_to_json(space, result.discoveries["agreement"].path)
    assert moves == [
        {"kind": "round", "round": 1, "crashes": [["p1", ["p2"]]]},
        {"kind": "round", "round": 2, "crashes": []},
    ]
    world = replay(model, moves).world
    assert [world.nodes[p].decision for p in ("p2", "p3")] == [0, 1]  # type: ignore[attr-defined]
    assert explore(crash_model("consensus-naive", 3, 0))[1] == set()


class NeverDecides(FloodSet):
    """Floodset that relays and never decides."""

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        if r <= self.config.rounds:
            out.send_all(self.config.others(self.id), Known(self.known))
        else:
            self.done = True


def test_decides_by_round_and_termination_can_say_bad() -> None:
    early = ConsensusClaims(decides_by_round=3, early_stopping=True)
    late = lock_step_model("late", FloodSet, early, 4, 2, 3)
    assert explore(late)[1] == {"decides_by_round"}  # no crash: decides in 3, claim says 2
    never = lock_step_model("never", NeverDecides, ConsensusClaims(), 3, 1, 2)
    assert explore(never)[1] == {"termination"}


@pytest.mark.parametrize(
    ("name", "rounds", "finals"), [("floodset-early", 2, 22), ("trb", 2, 9), ("floodset", 1, 16)]
)
def test_every_finished_run_is_judged_as_the_kernel_judges_it(
    name: str, rounds: int, finals: int
) -> None:
    """Every final state of n = 3, f = 1, reached by a shortest path: the explorer's
    verdicts there are the checkers' verdicts on the kernel's run of that path, rounds
    of the decisions included."""
    model = crash_model(name, 3, 1, rounds)
    space = model.build_space()
    paths: dict[State, tuple[Move, ...]] = {space.initial(): ()}
    queue = deque([space.initial()])
    finished = 0
    while queue:
        state = queue.popleft()
        if space.rounds_over(state):
            finished += 1
            verdicts = {p.name: p.condition(View(space, state)) for p in model.properties}
            trace = replay(model, path_to_json(space, paths[state])).trace
            checks = judge_run(model.parameters, trace.events, trace.servers)
            assert verdicts == {c: check.ok for c, check in checks.items()}, paths[state]
            continue
        for move, after in space.successors(state):
            if after not in paths:
                paths[after] = (*paths[state], move)
                queue.append(after)
    assert finished == finals


def test_trb_is_judged_as_terminating_reliable_broadcast_from_p1() -> None:
    claims = crash_claims("trb", 2, 3)
    assert claims.specification == TRB and claims.sender == "p1"
    assert claims.early_stopping and claims.decides_by_round == 3


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_the_command_line_explores_floodset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["explore", "--model", "floodset", "--servers", "3", "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["unique"] == 52 and data["complete"]
    assert data["parameters"] == {"model": "floodset", "servers": 3, "f": 1, "rounds": 2}
    assert {p["name"]: p["verdict"] for p in data["properties"]} == {
        "termination": "holds",
        "validity": "holds",
        "agreement": "holds",
        "integrity": "holds",
        "decides_by_round": "holds",
    }


def test_a_counterexample_replays_and_is_drawn_as_rounds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace, page = tmp_path / "naive.jsonl", tmp_path / "naive.html"
    argv = ["explore", "--model", "consensus-naive", "--servers", "3"]
    code, out, _ = run([*argv, "--trace", str(trace), "--html", str(page)], capsys)
    assert code == 1 and "agreement          violated (path of 2 moves)" in out
    assert "1. round 1  (p1 crashes, only p2 gets its messages)" in out
    again = tmp_path / "again.html"
    code, out, _ = run(["replay", str(trace), "--html", str(again)], capsys)
    assert code == 1 and "agreement          VIOLATED (at move 2)" in out
    for html in (page.read_text(), again.read_text()):
        assert "processes decided differently: 0 by p2 in round 1; 1 by p3 in round 1" in html
        assert "<h2>Rounds</h2>" in html and "hidden from p3" in html
    assert "unique=30" in page.read_text()  # how the search found it


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--model", "floodset", "--f", "4"], "--f 4 must lie in [0, n - 1 = 3]"),
        (["--model", "floodset", "--servers", "1"], "needs at least 2 processes"),
        (["--model", "consensus-naive", "--rounds", "2"], "always decides after round 1"),
        (["--model", "trb", "--crashes", "1"], "--crashes do not apply to trb"),
        (["--model", "trb", "--byzantine", "p1"], "--byzantine do not apply to trb"),
        (["--model", "paxos", "--rounds", "2"], "--rounds applies to consensus-naive"),
        (["--model", "floodset", "--rounds", "0"], "Invalid value for '--rounds'"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["explore", *args], capsys)
    assert code == 2 and out == ""
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
