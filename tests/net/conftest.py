"""A real cluster for each test that asks for one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_net_support import running_cluster

from smrkit.net.config import ClusterConfig


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ClusterConfig]:
    with running_cluster(tmp_path / "cluster") as config:
        yield config
