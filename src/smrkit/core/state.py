"""Configuration apart from state: what a search copies and hashes, and what it shares.

A node (and any object a node keeps its state in) separates two kinds of attribute:

* its **configuration** — immutable values fixed when it is built (its id, the servers,
  δ and τ, an application's step function): the attributes named in the class's
  ``config_fields``. A copy shares them; a fingerprint leaves them out;
* its **state** — everything else: plain data (ints, floats, strings, tuples, lists,
  dicts, sets, frozen dataclasses such as messages, and small state objects made of the
  same), never a handle, a closure or a random generator (randomness is ``out.rng``,
  which the runtime owns).

:class:`Configured` gives a class that separation's deep copy; the kernel's fingerprint
(:mod:`smrkit.sim.kernel.fingerprint`) reads ``config_fields`` the same way, and a test
holds every protocol to it.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar


class Configured:
    """Base of objects whose ``config_fields`` are configuration and the rest state."""

    config_fields: ClassVar[tuple[str, ...]] = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        shared = type(self).config_fields
        state = clone.__dict__
        for name, value in vars(self).items():
            state[name] = value if name in shared else copy.deepcopy(value, memo)
        return clone


def state_fields(obj: object) -> dict[str, Any]:
    """The state attributes of ``obj``: its ``vars`` minus its class's ``config_fields``."""
    shared = getattr(type(obj), "config_fields", ())
    return {name: value for name, value in vars(obj).items() if name not in shared}
