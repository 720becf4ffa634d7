"""smrkit: state machine replication you can run, break and check.

One protocol implementation (sans-I/O, see :mod:`smrkit.core`) runs in a deterministic
simulator (:mod:`smrkit.sim`), and its runs are judged by checkers
(:mod:`smrkit.check`) that also accept other people's histories.
"""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``smrkit.Client``, imported on first use so that ``import smrkit`` stays cheap."""
    if name == "Client":
        from smrkit.net.client import Client

        return Client
    raise AttributeError(f"module 'smrkit' has no attribute {name!r}")
