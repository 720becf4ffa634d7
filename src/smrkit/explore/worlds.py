"""Seed 000's impossibility proof, as three runs: worlds A, B and C and the views they share.

The theorem. No protocol implements state machine replication — here the two-client
write-once register — with two servers when the adversary may make one server and any
number of clients omit messages, even in lock-step synchrony. The proof builds three
worlds, each a fault plan here:

* **A** — client c1 writes C1; server p2 omits everything (``general-omission:p2@0``). A
  safe and live protocol must tell c1 that C1 is the committed value.
* **B** — the mirror image: client c2 writes C2; server p1 omits everything.
* **C** — both clients write. c1 omits with p2 (``send-omission:c1->p2@0`` and
  ``receive-omission:c1<-p2@0``), c2 omits with p1, and p2 omits with p1.

Server p1 and client c1 receive the same messages at the same times in A and in C: in both,
nothing from p2 or c2 ever reaches them, and c1's messages and p1's are all they hear. A
deterministic protocol then makes them send and output the same, so c1 learns C1 in C as in
A. Symmetrically p2 and c2 cannot tell B from C, so c2 learns C2 in C. Two clients learn
different committed values: safety is lost — unless the protocol did not tell c1 in A, or
c2 in B: then it gave up liveness. Every protocol loses one of the two, and the run shows
which. (Note 2 of the post: with n ≤ 2f servers, the servers split into two halves of at
most f each, the ⌈n/2⌉ lowest-ranked playing p1 and the rest playing p2.)

How the runs are made comparable. The proof is an argument about identical executions, so
the runs must differ only in the faults: every message takes exactly δ (δ_min = δ), the
seed is fixed, each node draws from a generator seeded by its own id, and every world runs
to the same horizon with no early stop. The clients are smrkit's standard client (it keeps
``Dest``, retries after a time-out and tries the next server after three), each given one
write, or nothing to do in the world where it stays silent. A run shows "not learned by the
horizon", never "never"; the default horizon is many times the failover time and client
time-out of every built-in protocol.

A process's *view* is what it receives (time, sender, message) and what it does (the
messages it sends, its changes of Prmy, halting, and a client's results), in order — the
trace minus message ids, which number messages across the whole run. The run
*demonstrates the theorem* when the views the proof calls identical are identical and
safety or liveness is lost. Views that differ mean the protocol sees something the model
excludes; neither property lost would contradict the theorem. The tool says which.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from smrkit import __version__
from smrkit.core.ids import NodeId, server_ids
from smrkit.core.node import Node
from smrkit.core.ops import Op, Value
from smrkit.protocols.client import StandardClient
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec
from smrkit.sim import trace as tr
from smrkit.sim.faults import FaultPlan
from smrkit.sim.network import SynchronousNetwork
from smrkit.sim.simulator import SimulationError, Simulator
from smrkit.sim.trace import Trace

CLIENT_1, CLIENT_2 = "c1", "c2"
WANTS: dict[NodeId, str] = {CLIENT_1: "C1", CLIENT_2: "C2"}
"""The command each client wants committed: a write of this value to the register."""
SEED = 0
APP = "register"


class WorldsError(ValueError):
    """The worlds cannot be built or run (bad n and f, or a protocol that fails to build
    or raises); the message says what to change."""


# --- the worlds -----------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """One world of the proof: who writes what, and the fault plan."""

    name: str
    writes: dict[NodeId, str]
    faults: tuple[str, ...]
    story: str


def split_servers(n: int, f: int) -> tuple[tuple[NodeId, ...], tuple[NodeId, ...]]:
    """The two halves (playing server 1 and server 2): each must fit in the adversary's f."""
    if n < 2:
        raise WorldsError(f"the worlds need at least 2 servers, got --replicas {n}")
    if f < 1:
        raise WorldsError(f"the adversary needs at least one failure, got --f {f}")
    if n > 2 * f:
        raise WorldsError(
            f"the proof needs n <= 2f (note 2 of seed 000), got n = {n} and f = {f}; "
            f"use --f {(n + 1) // 2} or at most --replicas {2 * f}"
        )
    servers = server_ids(n)
    half = (n + 1) // 2
    return servers[:half], servers[half:]


def build_worlds(first: Sequence[NodeId], second: Sequence[NodeId]) -> dict[str, World]:
    """Worlds A, B and C exactly as the post builds them, for the two halves."""
    one, two = "server 1" if len(first) == 1 else "the first half", "server 2"
    if len(second) > 1:
        two = "the second half"
    cut_c1 = [f"send-omission:{CLIENT_1}->{q}@0" for q in second]
    cut_c1 += [f"receive-omission:{CLIENT_1}<-{q}@0" for q in second]
    cut_c2 = [f"send-omission:{CLIENT_2}->{p}@0" for p in first]
    cut_c2 += [f"receive-omission:{CLIENT_2}<-{p}@0" for p in first]
    cut_servers = [f"send-omission:{q}->{p}@0" for q in second for p in first]
    cut_servers += [f"receive-omission:{q}<-{p}@0" for q in second for p in first]
    return {
        "A": World(
            "A",
            {CLIENT_1: WANTS[CLIENT_1]},
            tuple(f"general-omission:{q}@0" for q in second),
            f"c1 writes C1; {two} omits every message",
        ),
        "B": World(
            "B",
            {CLIENT_2: WANTS[CLIENT_2]},
            tuple(f"general-omission:{p}@0" for p in first),
            f"c2 writes C2; {one} omits every message",
        ),
        "C": World(
            "C",
            dict(WANTS),
            tuple(cut_c1 + cut_c2 + cut_servers),
            f"both write; c1 omits with {two}, c2 with {one}, {two} with {one}",
        ),
    }


# --- running a world ------------------------------------------------------------------


class _OneWrite:
    """The op source of a client in a world: its one write, or nothing."""

    def __init__(self, value: str | None) -> None:
        self._value = value

    def next_op(self, client: NodeId, rng: random.Random) -> Op | None:
        value, self._value = self._value, None
        return None if value is None else Op("write", None, value)


@dataclass(frozen=True)
class Outcome:
    """What a client learned: ``status`` ``ok`` (``value`` is the committed value),
    ``fail`` (the write was refused) or ``none`` (no answer by the horizon)."""

    status: str
    value: Value = None

    @property
    def learned(self) -> bool:
        return self.status == "ok"


@dataclass
class WorldRun:
    world: World
    trace: Trace
    outcomes: dict[NodeId, Outcome]


def run_world(
    spec: ProtocolSpec,
    world: World,
    servers: Sequence[NodeId],
    *,
    delta_s: float,
    tau_s: float,
    horizon_s: float,
) -> WorldRun:
    clients = (CLIENT_1, CLIENT_2)
    config = ProtocolConfig(tuple(servers), clients, APP, delta_s, tau_s)
    try:
        nodes: list[Node] = list(spec.build(config))
    except Exception as error:
        raise WorldsError(
            f"building {spec.name}'s servers raised {type(error).__name__}: {error}; a Replica "
            "class must accept (node_id, config)"
        ) from None
    timeout = spec.client_timeout_s(delta_s, tau_s)
    for client in clients:
        ops = _OneWrite(world.writes.get(client))
        nodes.append(StandardClient(client, servers, ops, timeout_s=timeout))
    plan = FaultPlan.parse(world.faults)
    header = {
        "smrkit": __version__,
        "worlds": world.name,
        "protocol": spec.name,
        "app": APP,
        "servers": list(servers),
        "clients": list(clients),
        "writes": dict(world.writes),
        "delta_s": delta_s,
        "delta_min_s": delta_s,
        "tau_s": tau_s,
        "seed": SEED,
        "horizon_s": horizon_s,
        "faults": list(plan.specs),
    }
    simulator = Simulator(
        nodes,
        seed=SEED,
        network=SynchronousNetwork(delta_s, delta_s, random.Random(f"{SEED}/net")),
        plan=plan,
        header=header,
        time_limit_s=horizon_s,
        stop_when_clients_done=False,
    )
    try:
        trace = simulator.run()
    except SimulationError as error:
        raise WorldsError(f"in world {world.name}, {error}") from None
    return WorldRun(world, trace, {c: _outcome(trace, c) for c in clients})


def _outcome(trace: Trace, client: NodeId) -> Outcome:
    for _, kind, node, _, _, data in trace.events:
        if kind == tr.COMPLETE and node == client:
            status, result = data
            return Outcome(status, result if status == "ok" else None)
    return Outcome("none")


# --- views ----------------------------------------------------------------------------

ViewEntry = tuple[float, str, NodeId | None, Any]
"""``(time, what, peer, data)``: ``receive``/``send`` (peer, message), ``primary`` (Prmy),
``halt`` (reason), ``output`` (a client's ``(status, result)``)."""

_VIEW_KINDS = {
    tr.DELIVER: "receive",
    tr.SEND: "send",
    tr.PRIMARY: "primary",
    tr.HALT: "halt",
    tr.COMPLETE: "output",
}


def view(trace: Trace, process: NodeId) -> list[ViewEntry]:
    """What ``process`` received and did, in order, without the run-wide message ids."""
    return [
        (t, _VIEW_KINDS[kind], other, data)
        for t, kind, node, other, _, data in trace.events
        if node == process and kind in _VIEW_KINDS
    ]


@dataclass(frozen=True)
class ViewComparison:
    """One process's views in two worlds; where they first differ, if they do."""

    process: NodeId
    worlds: tuple[str, str]
    lengths: tuple[int, int]
    first_difference: int | None
    entries: tuple[ViewEntry | None, ViewEntry | None] = (None, None)

    @property
    def identical(self) -> bool:
        return self.first_difference is None


def compare_views(process: NodeId, left: WorldRun, right: WorldRun) -> ViewComparison:
    a, b = view(left.trace, process), view(right.trace, process)
    worlds = (left.world.name, right.world.name)
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return ViewComparison(process, worlds, (len(a), len(b)), index, (x, y))
    if len(a) != len(b):
        index = min(len(a), len(b))
        extra = (a[index] if index < len(a) else None, b[index] if index < len(b) else None)
        return ViewComparison(process, worlds, (len(a), len(b)), index, extra)
    return ViewComparison(process, worlds, (len(a), len(b)), None)


# --- the verdict ----------------------------------------------------------------------


@dataclass
class WorldsResult:
    """The three runs, the view comparisons the proof relies on, and what was lost."""

    protocol: ProtocolSpec
    declared: bool
    n: int
    f: int
    delta_s: float
    tau_s: float
    horizon_s: float
    halves: tuple[tuple[NodeId, ...], tuple[NodeId, ...]]
    runs: dict[str, WorldRun]
    comparisons: list[ViewComparison]
    lost: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    @property
    def views_identical(self) -> bool:
        return all(c.identical for c in self.comparisons)

    @property
    def gives_up(self) -> str | None:
        """``safety`` if it was lost, else ``liveness`` if that was, else ``None``."""
        return self.lost[0] if self.lost else None

    @property
    def demonstrates(self) -> bool:
        """The proof's shape holds: the views it calls identical are, and one property went."""
        return self.views_identical and bool(self.lost)


def judge(runs: dict[str, WorldRun], horizon_s: float) -> tuple[list[str], list[str]]:
    """The properties lost (``safety`` first) and one sentence per finding."""
    safety: list[str] = []
    liveness: list[str] = []
    for name, run in runs.items():
        learned = {c: o.value for c, o in run.outcomes.items() if o.learned}
        written = set(run.world.writes.values())
        for client, value in learned.items():
            if value not in written:
                safety.append(f"in {name}, {client} learned {value!r}, which nobody wrote")
        if len(set(learned.values())) > 1:
            told = " and ".join(f"{c} learned {v!r}" for c, v in sorted(learned.items()))
            safety.append(f"in {name}, {told}: two committed values")
    for name, client in (("A", CLIENT_1), ("B", CLIENT_2)):
        outcome = runs[name].outcomes[client]
        if not outcome.learned:
            why = "its write was refused" if outcome.status == "fail" else "no answer"
            liveness.append(
                f"in {name}, {client} never learned a committed value ({why} by the horizon, "
                f"{horizon_s} s)"
            )
    lost = (["safety"] if safety else []) + (["liveness"] if liveness else [])
    return lost, safety + liveness


def demonstrate(
    spec: ProtocolSpec,
    *,
    declared: bool = True,
    n: int = 2,
    f: int = 1,
    delta_s: float = 0.01,
    tau_s: float = 0.05,
    horizon_s: float = 1.0,
) -> WorldsResult:
    """Run worlds A, B and C for ``spec`` with ``n`` servers and judge them."""
    first, second = split_servers(n, f)
    problem = spec.replicas_problem(n)
    if problem is not None:
        raise WorldsError(f"{problem} (got --replicas {n})")
    if delta_s <= 0 or tau_s <= 0 or horizon_s <= 0:
        raise WorldsError("delta, tau and the horizon must be positive")
    servers = (*first, *second)
    runs = {
        name: run_world(spec, world, servers, delta_s=delta_s, tau_s=tau_s, horizon_s=horizon_s)
        for name, world in build_worlds(first, second).items()
    }
    comparisons = [compare_views(p, runs["A"], runs["C"]) for p in (*first, CLIENT_1)]
    comparisons += [compare_views(q, runs["B"], runs["C"]) for q in (*second, CLIENT_2)]
    lost, findings = judge(runs, horizon_s)
    return WorldsResult(
        protocol=spec,
        declared=declared,
        n=n,
        f=f,
        delta_s=delta_s,
        tau_s=tau_s,
        horizon_s=horizon_s,
        halves=(first, second),
        runs=runs,
        comparisons=comparisons,
        lost=lost,
        findings=findings,
    )
