"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from testdata_location import MISSING, find_testdata


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rewrite",
        action="store_true",
        help="scenario scripts (tests/**/testdata/*.txt): write the actual outputs into "
        "the scripts instead of checking them (or set SMRKIT_REWRITE=1)",
    )


@pytest.fixture
def rewrite(request: pytest.FixtureRequest) -> bool:
    """Whether scenario scripts are rewritten rather than checked."""
    return bool(request.config.getoption("--rewrite")) or os.environ.get("SMRKIT_REWRITE") == "1"


@pytest.fixture(scope="session")
def testdata() -> Path:
    found = find_testdata()
    if found is None:
        pytest.skip(MISSING)
    return found


@pytest.fixture
def restore_registry() -> Iterator[None]:
    """Protocols a test registers (a user's ``module:Name``) are gone after it: other
    tests in the same worker walk every registered protocol."""
    from smrkit.protocols import registry

    before = dict(registry._PROTOCOLS)
    yield
    registry._PROTOCOLS.clear()
    registry._PROTOCOLS.update(before)
