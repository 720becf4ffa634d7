"""The special values of seed 002's specifications, shared by protocols and checkers.

* :data:`NU` — consensus: a process may decide "no useful value"; integrity asks that
  a decided value other than NU was proposed by some process.
* :data:`SF` — terminating reliable broadcast: "sender faulty"; a process may deliver
  SF without anyone having broadcast it.
"""

from __future__ import annotations

from typing import Final

NU: Final = "NU"
SF: Final = "SF"
