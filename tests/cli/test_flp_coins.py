"""Lemma 2's adversary against coins it cannot read (:mod:`smrkit.explore.flp.coins`):
ben-or escapes it (a pinned seed decides, and the run replays through ``smrkit replay``),
and the same adversary keeps ben-or with readable coins undecided — the figure's red."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import run_cli

from smrkit.explore.flp.coins import DECIDED, adversary_against_coins
from smrkit.explore.flp.configuration import Setup
from smrkit.explore.flp.lemma2 import STEPS
from smrkit.protocols.consensus.ben_or import BEN_OR, BEN_OR_FIXED_COINS

X_1 = (1, 0, 0)
"""Lemma 1's ambiguous X_1 for n = 3 (p1's input 1)."""


def test_a_coin_not_yet_flipped_is_both_branches_to_the_search() -> None:
    setup = Setup(BEN_OR, X_1)
    state = setup.initial()
    seen_coin = False
    for _ in range(40):  # follow the first move each time until a node asks for a coin
        moves = setup.moves(state)
        coins = sorted(v for m, _ in moves if (v := setup.coin(m)) is not None)
        if coins:
            assert coins == [0, 1] and len(moves) == 2  # nothing else moves meanwhile
            seen_coin = True
            break
        state = moves[0][1]
    assert seen_coin


def test_ben_or_decides_despite_the_adversary_exit_4_and_replays(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace = tmp_path / "benor.jsonl"
    args = ["flp", "--protocol", "ben-or", "--seed", "2", "--steps", "60", "--bound", "500"]
    code, out, _ = run_cli([*args, "--json", "--trace", str(trace)], capsys)
    data = json.loads(out)
    assert code == 4
    assert data["ambiguous_initial"]["inputs"] == list(X_1)
    coins = data["coins"]
    assert coins["escaped"] is True and coins["seed"] == 2
    assert coins["first_decision_move"] == 58 and coins["coins_flipped"] == 6
    assert data["run"]["end"] == DECIDED and data["run"]["decided"]
    assert data["violation"] is None
    code, out, _ = run_cli(["replay", str(trace)], capsys)
    assert re.search(r"no live node decided\s+VIOLATED \(at move 58\)", out), out
    assert "replay identical" in out


def test_the_same_adversary_keeps_readable_coins_undecided() -> None:
    """The red of "the adversary failed": on ben-or whose coins are a table fixed in
    advance (no coin is drawn), the same adversary with the same seed keeps every
    correct node undecided for the whole run — FLP applies."""
    fixed = adversary_against_coins(Setup(BEN_OR_FIXED_COINS, X_1), 2, 30, bound=500)
    assert not fixed.escaped and fixed.run.end == STEPS and len(fixed.run.moves) == 30
    assert fixed.coins == 0 and fixed.foiled == 0 and fixed.run.decided == []
