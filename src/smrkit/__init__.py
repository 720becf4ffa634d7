"""smrkit: state machine replication you can run, break and check.

One protocol implementation (sans-I/O, see :mod:`smrkit.core`) runs in a deterministic
simulator (:mod:`smrkit.sim`), and its runs are judged by checkers
(:mod:`smrkit.check`) that also accept other people's histories.
"""

__version__ = "0.1.0"
