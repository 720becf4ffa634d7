"""Where the shared test data lives (read in place, never copied into the repository).

``$SMRKIT_TESTDATA`` if set, else ``../shared/testdata`` beside the checkout, else the
workspace's ``/work/shared/testdata`` (a fresh clone elsewhere still finds it).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def find_testdata() -> Path | None:
    override = os.environ.get("SMRKIT_TESTDATA")
    candidates = [Path(override)] if override else []
    candidates += [REPO.parent / "shared" / "testdata", Path("/work/shared/testdata")]
    for candidate in candidates:
        if (candidate / "jepsen-etcd" / "verdicts.json").is_file():
            return candidate
    return None


MISSING = "shared test data not found: set SMRKIT_TESTDATA or put it at ../shared/testdata"
