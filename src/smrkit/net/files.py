"""Files of a cluster directory that only their owner may read or enter.

The secrets are mode 600 (:mod:`smrkit.net.auth`); what the replicas and tests write is
as private: ``data/`` (the replicated state, client data included), ``logs/`` and
``tests/`` (histories hold every value written) and ``run/`` are mode 700, and the
files in them mode 600, whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) mode 700; an existing one is made 700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    path.chmod(DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if it does not exist, mode 600 either way."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    path.chmod(FILE_MODE)
    return path


def open_private(path: Path, mode: str = "w") -> IO[str]:
    """Open a text file for writing (``w``) or appending (``a``), mode 600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, mode)


def open_private_binary(path: Path) -> IO[bytes]:
    """Open a file for appending bytes, mode 600 (a replica's log)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "ab")
