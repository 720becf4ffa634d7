"""``bench/raft_hot_path.py`` reports CPU per operation only for runs in which every
command was answered: a leader that answers nothing stops it with an error."""

from __future__ import annotations

import json
import sys

import pytest

from bench_modules import load_bench
from smrkit.protocols.raft import RaftNode


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    bench = load_bench("raft_hot_path")
    argv = ["raft_hot_path", "--batch", "4", "--rounds", "3", "--repeats", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    bench.main()
    return capsys.readouterr().out


def test_a_run_that_answers_every_command_reports_its_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = json.loads(_run(monkeypatch, capsys))
    assert figures["batch"] == 4
    for phase in ("leader_us", "follower_us", "codec_us"):
        assert 0 < figures[phase] < figures["total_us"]


def test_a_leader_that_answers_nothing_gets_no_figure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(RaftNode, "_apply", lambda self, out: None)
    with pytest.raises(SystemExit, match="answered 0 of 4 commands"):
        _run(monkeypatch, capsys)
