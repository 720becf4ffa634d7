"""What n = 2f breaks in majority replication (seed 003's OFT-SMR: n > 2f), by running it.

Beside Table 1's primary-backup rows, ``smrkit bounds`` measures a majority protocol
(``raft``) on both sides of the bound: with n > 2f, the servers left after f faults are
a majority and keep committing; with n = 2f, f faults leave half, and nothing commits
again — a minority partition cannot commit, and with f crashes nothing is live.

Each row is a simulated run under ``partial-sync`` (GST at 0: the network is timely, so
only the faults decide) with clients issuing commands throughout. The faults hit at
``FAULT_AT_S`` and are *aimed*: the leader at that instant (read off the same run
without faults, which is the same run up to then) is among the crashed servers, or on
the minority side of a partition. After the faults the servers fall into *sides* — the
live servers a side can reach — and for each side the row counts the entries it
commits after the faults have settled (``SETTLE_DELTAS`` δ later: what was in flight has
arrived): entries applied there at an index beyond any applied anywhere before then.
The theorem's prediction for a side is that it commits if and only if it holds more
than n/2 servers; a row is red when a measured side contradicts it: a
majority that commits nothing (not live where the bound promises it), or a minority
that commits (a protocol committing without a majority: unsafe).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from smrkit.core.ids import server_ids
from smrkit.sim import trace as tr
from smrkit.sim.world import SimConfig, run_simulation

FAULT_AT_S = 1.0
"""The faults hit here: elections are over and commands are flowing."""

SETTLE_DELTAS = 5
"""What the faults leave in flight arrives within δ (GST is 0), and a majority may still
finish committing what it held before them: commits count from this many δ after the
faults on."""

RUN_FOR_S = 4.0
"""How long a row's run lasts: time enough after the faults for a new election and
commits (hundreds of round trips at δ = 10 ms)."""


@dataclass(frozen=True)
class Case:
    """A row: ``protocol`` with ``n`` servers, ``f`` of them faulty — crashed
    (``partition`` false) or cut off from the others (``partition`` true)."""

    protocol: str
    n: int
    f: int
    partition: bool


def cases_for(protocol: str, fs: Sequence[int]) -> list[Case]:
    """For each f: n = 2f + 1 and n = 2f, with f crashes, then with f servers cut off."""
    return [
        Case(protocol, n, f, partition)
        for partition in (False, True)
        for f in fs
        for n in (2 * f + 1, 2 * f)
    ]


@dataclass
class Side:
    servers: tuple[str, ...]
    majority: bool
    commits: int
    """Entries committed on this side after the faults."""

    @property
    def ok(self) -> bool:
        return (self.commits > 0) == self.majority

    def to_json(self) -> dict[str, Any]:
        return {
            "servers": list(self.servers),
            "majority": self.majority,
            "commits": self.commits,
            "expected": "commits" if self.majority else "no commits",
            "ok": self.ok,
        }


@dataclass
class MajorityRow:
    case: Case
    faults: tuple[str, ...]
    leader: str | None
    sides: list[Side]
    acknowledged_after: int
    """Client commands completed after the faults settled."""
    seed: int

    @property
    def bound_holds(self) -> bool:
        return self.case.n > 2 * self.case.f

    @property
    def ok(self) -> bool:
        return all(side.ok for side in self.sides)

    @property
    def outcome(self) -> str:
        committed = [side for side in self.sides if side.commits > 0]
        if not committed:
            return "nothing commits"
        return "; ".join(
            f"{'+'.join(side.servers)} commits {side.commits}" for side in committed
        ) + ("" if len(committed) == len(self.sides) else ", the rest nothing")

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": self.case.protocol,
            "n": self.case.n,
            "f": self.case.f,
            "fault": "partition" if self.case.partition else "crash",
            "bound": "n > 2f",
            "bound_holds": self.bound_holds,
            "faults": list(self.faults),
            "leader_hit": self.leader,
            "seed": self.seed,
            "sides": [side.to_json() for side in self.sides],
            "acknowledged_after": self.acknowledged_after,
            "outcome": self.outcome,
            "ok": self.ok,
        }


def base_config(case: Case, *, seed: int = 0, delta_s: float = 0.01) -> SimConfig:
    return SimConfig(
        protocol=case.protocol,
        replicas=case.n,
        clients=2,
        ops=100_000,
        delta_s=delta_s,
        timing="partial-sync",
        gst_s=0.0,
        seed=seed,
        time_limit_s=RUN_FOR_S,
    )


def leader_at(config: SimConfig, at: float) -> str | None:
    """The leader at ``at`` in ``config``'s run without faults (the last server to have
    become primary before then and not stepped down)."""
    run = run_simulation(replace(config, faults=(), time_limit_s=at))
    leaders: dict[str, bool] = {}
    for t, kind, node, _, _, data in run.trace.events:
        if kind == tr.PRIMARY and t <= at:
            leaders[node] = bool(data)
    current = [node for node, primary in leaders.items() if primary]
    return current[-1] if current else None


def plan_for(case: Case, leader: str | None) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The fault plan of ``case`` aimed at ``leader``, and the sides it leaves."""
    servers = list(server_ids(case.n))
    first = leader if leader in servers else servers[0]
    hit = [first, *[s for s in servers if s != first][: case.f - 1]]
    rest = [s for s in servers if s not in hit]
    at = FAULT_AT_S
    if not case.partition:
        return tuple(f"crash:{s}@{at}" for s in hit), [tuple(rest)]
    cuts = tuple(f"link:{a}-{b}@{at}" for a in hit for b in rest)
    return cuts, [tuple(sorted(hit)), tuple(rest)]


def measure(case: Case, *, seed: int = 0, delta_s: float = 0.01) -> MajorityRow:
    """Run ``case`` and count each side's commits after the faults."""
    config = base_config(case, seed=seed, delta_s=delta_s)
    leader = leader_at(config, FAULT_AT_S)
    faults, sides = plan_for(case, leader)
    run = run_simulation(replace(config, faults=faults))
    settled = FAULT_AT_S + SETTLE_DELTAS * delta_s
    before = 0
    after: dict[str, set[int]] = {}
    acknowledged = 0
    for t, kind, node, _, index, _ in run.trace.events:
        if kind == tr.APPLY:
            if t < settled:
                before = max(before, int(index))
            else:
                after.setdefault(node, set()).add(int(index))
        elif kind == tr.COMPLETE and t >= settled:
            acknowledged += 1
    measured = []
    for side in sides:
        indices = set().union(*(after.get(s, set()) for s in side))
        commits = sum(1 for i in indices if i > before)
        measured.append(Side(side, 2 * len(side) > case.n, commits))
    return MajorityRow(case, faults, leader, measured, acknowledged, seed)


def majority_rows(
    protocol: str, fs: Sequence[int], *, seed: int = 0, delta_s: float = 0.01
) -> list[MajorityRow]:
    return [measure(case, seed=seed, delta_s=delta_s) for case in cases_for(protocol, fs)]


def majority_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The rows as plain text lines, under the primary-backup table."""
    header = ("protocol", "n", "f", "faults", "n > 2f", "sides (commits after the faults)", "")
    cells = []
    for row in rows:
        sides = ", ".join(
            f"{'+'.join(side['servers'])}: {side['commits']}"
            f"{'' if side['ok'] else ' (expected ' + side['expected'] + ')'}"
            for side in row["sides"]
        )
        cells.append(
            (
                row["protocol"],
                str(row["n"]),
                str(row["f"]),
                f"{row['fault']} (leader {row['leader_hit'] or '?'})",
                "holds" if row["bound_holds"] else "broken",
                sides,
                "ok" if row["ok"] else "CONTRADICTS THE BOUND",
            )
        )
    widths = [max(len(r[i]) for r in [header, *cells]) for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(f"{v:<{w}}" for v, w in zip(values, widths, strict=True)).rstrip()

    return [
        "Majority replication (seed 003: n > 2f), measured: f faults hit at "
        f"{FAULT_AT_S:g} s, the leader among them",
        line(header),
        "  ".join("─" * w for w in widths),
        *(line(c) for c in cells),
        "a side commits iff it holds more than n/2 servers; commits: entries committed "
        "there after the faults",
    ]
