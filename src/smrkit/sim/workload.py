"""Seeded workloads: which ops the clients issue.

A :class:`Workload` hands out a fixed total number of ops to the clients that ask for
them (closed loop: a client asks for its next op when the previous one completed). Each
op is drawn from the asking client's own seeded generator, so the ops depend only on the
seed and the order in which clients ask, which the simulator makes deterministic.

Written values are unique (``c3.17`` is client c3's 17th op), which makes a
linearizability violation visible: a read that returns a value nobody wrote last can
only be explained by a lost or reordered write. ``cas`` guesses its expected value from
the values this workload wrote to that key, so some succeed and some fail.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from smrkit.core.ids import NodeId
from smrkit.core.ops import Op, Value

DEFAULT_MIX: dict[str, dict[str, float]] = {
    "kv": {"get": 0.4, "put": 0.3, "append": 0.2, "cas": 0.1},
    "register": {"read": 0.5, "write": 0.5},
    "counter": {"read": 0.4, "add": 0.6},
}


class WorkloadError(ValueError):
    """A workload that cannot be generated (unknown op for the app, bad weights)."""


def parse_mix(text: str) -> dict[str, float]:
    """``"get=2,put=1"`` → ``{"get": 2.0, "put": 1.0}``."""
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, sep, weight = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise WorkloadError(f"bad mix entry {part!r}: write OP=WEIGHT, e.g. get=2,put=1")
        try:
            mix[name] = float(weight)
        except ValueError:
            raise WorkloadError(f"bad weight {weight!r} for {name} in the mix") from None
    return mix


class Workload:
    """``total`` ops of ``app`` over ``keys`` keys, mixed by ``mix`` weights."""

    def __init__(
        self, app: str, total: int, *, keys: int = 5, mix: Mapping[str, float] | None = None
    ) -> None:
        if app not in DEFAULT_MIX:
            raise WorkloadError(f"no workload for app {app!r}; apps: {', '.join(DEFAULT_MIX)}")
        if total < 0 or keys < 1:
            raise WorkloadError(f"need ops >= 0 and keys >= 1, got {total} and {keys}")
        weights = dict(DEFAULT_MIX[app] if mix is None else mix)
        unknown = sorted(set(weights) - set(DEFAULT_MIX[app]))
        if unknown:
            raise WorkloadError(
                f"{app} has no op {unknown[0]!r}; its ops are {', '.join(DEFAULT_MIX[app])}"
            )
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise WorkloadError("mix weights must be >= 0 and not all zero")
        self.app = app
        self.total = total
        self.keys = [f"k{i}" for i in range(keys)]
        self._functions = [f for f, w in weights.items() if w > 0]
        self._weights = [weights[f] for f in self._functions]
        self.issued = 0
        self._counts: dict[NodeId, int] = {}
        self._written: dict[str, list[Value]] = {}

    def next_op(self, client: NodeId, rng: random.Random) -> Op | None:
        if self.issued >= self.total:
            return None
        self.issued += 1
        count = self._counts.get(client, 0) + 1
        self._counts[client] = count
        token = f"{client}.{count}"
        f = rng.choices(self._functions, self._weights)[0]
        if self.app == "kv":
            return self._kv_op(f, token, rng)
        if self.app == "register":
            return Op(f, None, token if f == "write" else None)
        return Op(f, None, rng.randint(1, 5) if f == "add" else None)

    def _kv_op(self, f: str, token: str, rng: random.Random) -> Op:
        key = rng.choice(self.keys)
        written = self._written.setdefault(key, [])
        if f == "get":
            return Op("get", key)
        if f == "cas":
            recent = written[-3:]
            old: Value = rng.choice(recent) if recent and rng.random() < 0.8 else None
            written.append(token)
            return Op("cas", key, (old, token))
        value = token if f == "put" else f"{token};"
        written.append(value)
        return Op(f, key, value)
