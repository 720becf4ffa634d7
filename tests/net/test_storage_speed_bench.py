"""bench/storage_speed.py: its figures say "bad" — an engine that loses what it was
told to sync is reported unverified, however fast it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_modules import load_bench
from smrkit.net.log_storage import LogStorage


def test_both_engines_hold_every_row_and_their_costs_are_figures(tmp_path: Path) -> None:
    result = load_bench("storage_speed").measure(tmp_path, 4, 8)
    assert result["verified"] is True
    assert result["log_wall_us"] > 0 and result["sqlite_wall_us"] > 0
    assert result["ratio_wall"] > 0 and result["ratio_cpu"] >= 0


def test_an_engine_that_loses_its_writes_is_not_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LogStorage, "sync", lambda self: None)  # never reaches the file
    result = load_bench("storage_speed").measure(tmp_path, 4, 8)
    assert result["log_verified"] is False and result["verified"] is False
    assert result["sqlite_verified"] is True
