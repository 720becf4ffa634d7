"""``chain`` on the command line: bad usage is one line and exit 2."""

from __future__ import annotations

import pytest
from cli_helpers import assert_usage_error


def test_a_sweep_of_chain_points_to_its_bench(capsys: pytest.CaptureFixture[str]) -> None:
    assert_usage_error(
        "sweep", ["--protocol", "chain", "--seeds", "0..9"], "bench/chain_sweep.py", capsys
    )


def test_a_fault_on_a_master_node_the_run_lacks_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert_usage_error(
        "sim", ["--protocol", "chain", "--fault", "crash:m4@1.0"], "m1, m2, m3", capsys
    )
