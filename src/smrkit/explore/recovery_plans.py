"""Random fault plans for a protocol built for omission failures with recovery (Raft,
``ProtocolSpec.recovers``), and the sweep configuration that draws one per seed.

A plan picks at most f faulty servers and gives each one or two of: a crash (sometimes
in the middle of a step's sends), a crash followed by a restart with what it saved, a
second crash-restart cycle, a general, send or receive omission window (total or
lossy), a cut link to one correct server, or — for the faulty servers together — a
partition that cuts them off from the rest for a window. Every fault names a faulty
server (a cut link is charged to its faulty end), so every plan is admissible for the
protocol's model with its f. GST is drawn too (0 to half the horizon): before it the
partially synchronous network delays and reorders at will, so elections collide.

Seed ``s`` → the plan drawn from ``random.Random(f"recovery-plan/{s}")``: a failing seed
replays with ``smrkit sim … --seed s --gst G --fault …``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from smrkit.core.ids import NodeId, server_ids
from smrkit.protocols.registry import get_protocol
from smrkit.sim.world import SimConfig


def _window(rng: random.Random, horizon_s: float) -> tuple[float, float]:
    start = round(rng.uniform(0.0, horizon_s), 3)
    return start, round(start + rng.uniform(0.05, horizon_s / 2), 3)


def _faults_of(
    server: NodeId, correct: Sequence[NodeId], rng: random.Random, horizon_s: float
) -> list[str]:
    """One faulty server's faults (see the module docstring)."""
    kind = rng.choice(["crash", "restart", "restart", "cycles", "omission", "link"])
    start, end = _window(rng, horizon_s)
    if kind == "crash":
        cut = rng.choice(["", "", "/0", "/1", "/2"])
        return [f"crash:{server}@{start}{cut}"]
    if kind == "restart":
        return [f"crash:{server}@{start}", f"restart:{server}@{end}"]
    if kind == "cycles":
        later = round(end + rng.uniform(0.05, horizon_s / 2), 3)
        again = round(later + rng.uniform(0.05, horizon_s / 4), 3)
        return [
            f"crash:{server}@{start}",
            f"restart:{server}@{end}",
            f"crash:{server}@{later}",
            f"restart:{server}@{again}",
        ]
    lossy = "" if rng.random() < 0.6 else f"~{round(rng.uniform(0.2, 0.9), 2)}"
    if kind == "omission":
        which = rng.choice(["general-omission", "send-omission", "receive-omission"])
        return [f"{which}:{server}@{start}..{end}{lossy}"]
    peer = rng.choice(list(correct))
    return [f"link:{server}-{peer}@{start}..{end}{lossy}"]


def recovery_plan(
    servers: Sequence[NodeId], f: int, horizon_s: float, rng: random.Random
) -> tuple[str, ...]:
    """At most ``f`` faulty servers, their faults in ``[0, horizon_s)`` (and restarts
    after), and sometimes a partition of the faulty ones from the rest."""
    faulty = sorted(rng.sample(list(servers), rng.randint(0, f)))
    correct = [s for s in servers if s not in faulty]
    specs: list[str] = []
    for server in faulty:
        for _ in range(rng.choice([1, 1, 2])):
            specs += _faults_of(server, correct, rng, horizon_s)
    if faulty and rng.random() < 0.3:
        start, end = _window(rng, horizon_s)
        specs += [f"link:{a}-{b}@{start}..{end}" for a in faulty for b in correct]
    return tuple(specs)


def recovery_config(base: SimConfig, seed: int, horizon_s: float) -> SimConfig:
    """``base`` with seed ``seed``, its plan and its GST (see the module docstring)."""
    spec = get_protocol(base.protocol)
    n = spec.replicas_default if base.replicas is None else base.replicas
    rng = random.Random(f"recovery-plan/{seed}")
    gst = round(rng.choice([0.0, rng.uniform(0.0, horizon_s / 2)]), 3)
    plan = recovery_plan(server_ids(n), spec.tolerated(n), horizon_s, rng)
    values = base.to_json()
    values.update(seed=seed, faults=list(plan), gst_s=gst, timing="partial-sync")
    return SimConfig.from_json(values)
