"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from testdata_location import MISSING, find_testdata


@pytest.fixture(scope="session")
def testdata() -> Path:
    found = find_testdata()
    if found is None:
        pytest.skip(MISSING)
    return found
