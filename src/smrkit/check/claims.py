"""A run judged against what its protocol family claims (:mod:`smrkit.protocols.claims`).

Primary-backup claims are judged by :mod:`smrkit.check.pb` (failover, blocking, the
(k, Δ) of Pb4). This module judges the other two families from a trace's records:

* :class:`~smrkit.protocols.claims.ConsensusClaims` — from the consensus observer's
  ``proposed`` and ``decided`` records: **termination** (every correct process decided),
  **agreement** (no two correct processes — or, ``uniform``, no two processes at all —
  decided differently) and **decides by round** (every decision is in a round no later
  than the claim, in the seeds' numbering: floodset decides by round f + 1);
* :class:`~smrkit.protocols.claims.PartialSyncClaims` — **replicas** (the run has at
  least ``replicas_min`` servers: n = 2f + 1 for Paxos and Raft), **agreement** (safety,
  whatever the timing did) and **live after GST**: every correct process decides by
  GST + ``live_within_s`` (consensus records), or every request is answered within
  ``live_within_s`` of the later of its invocation and GST (client records; requests
  invoked too close to the end of the run are left out).

*Correct* means: neither crashed, halted nor Byzantine. Each verdict names the processes,
rounds, times and values involved. Issue 11's checkers add the full specifications of
seed 002 (validity, integrity, the broadcast properties); these are the claims' own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smrkit.check.verdict import Verdict
from smrkit.protocols.claims import Claims, ConsensusClaims, PartialSyncClaims
from smrkit.sim import trace as tr
from smrkit.sim.trace import Trace

EPSILON_S = 1e-9


@dataclass
class Decisions:
    """What the consensus records of a run say."""

    processes: list[str]
    correct: list[str]
    first: dict[str, tuple[float, int | None, Any]] = field(default_factory=dict)
    """Each process's first decision: (time, round, value)."""


def decisions(trace: Trace) -> Decisions:
    """The processes (those that proposed) and their first decisions."""
    processes: list[str] = []
    down = {node for _, _, node, *_ in trace.select((tr.CRASH, tr.HALT))} | trace.byzantine
    first: dict[str, tuple[float, int | None, Any]] = {}
    for t, kind, node, _, num, data in trace.events:
        if kind == tr.PROPOSED and node not in processes:
            processes.append(node)
        elif kind == tr.DECIDED and node not in first:
            first[node] = (t, num, data)
            if node not in processes:
                processes.append(node)
    correct = [p for p in processes if p not in down]
    return Decisions(processes, correct, first)


def judge_claims(
    trace: Trace, claims: Claims, *, replicas: int, gst_s: float = 0.0
) -> dict[str, Verdict]:
    """The verdicts of ``claims`` on ``trace`` (``replicas`` servers, GST at ``gst_s``)."""
    if isinstance(claims, ConsensusClaims):
        return _consensus(trace, claims)
    if isinstance(claims, PartialSyncClaims):
        return _partial_sync(trace, claims, replicas, gst_s)
    raise ValueError(f"{claims.family} claims are judged by smrkit.check.pb")


def _consensus(trace: Trace, claims: ConsensusClaims) -> dict[str, Verdict]:
    found = decisions(trace)
    checks = {
        "termination": _termination(found),
        "agreement": _agreement(found, uniform=claims.uniform),
    }
    bound = claims.decides_by_round
    if bound is not None:
        rounds = {p: found.first[p][1] for p in found.correct if p in found.first}
        late = {p: r for p, r in rounds.items() if r is None or r > bound}
        last = max((r for _, r, _ in found.first.values() if r is not None), default=None)
        summary = (
            f"every correct process decided by round {bound} (last: round {last})"
            if not late
            else "decided after round "
            + f"{bound}: "
            + ", ".join(f"{p} in round {r}" for p, r in sorted(late.items()))
        )
        checks["decides_by_round"] = Verdict(
            not late, summary, {"bound": bound, "last": last, "late": late}
        )
    return checks


def _termination(found: Decisions) -> Verdict:
    undecided = [p for p in found.correct if p not in found.first]
    if not found.correct:
        return Verdict(False, "no correct process: nothing decided", {"undecided": []})
    if undecided:
        return Verdict(
            False,
            f"{len(undecided)} correct process(es) never decided: {', '.join(undecided)}",
            {"undecided": undecided},
        )
    return Verdict(True, f"all {len(found.correct)} correct processes decided", {"undecided": []})


def _agreement(found: Decisions, *, uniform: bool) -> Verdict:
    bound = found.processes if uniform else found.correct
    values: dict[str, Any] = {p: found.first[p][2] for p in bound if p in found.first}
    distinct = sorted({repr(v) for v in values.values()})
    details = {"decisions": {p: repr(v) for p, v in values.items()}, "uniform": uniform}
    if len(distinct) > 1:
        groups = "; ".join(
            f"{value} by {', '.join(p for p, v in values.items() if repr(v) == value)}"
            for value in distinct
        )
        return Verdict(False, f"processes decided differently: {groups}", details)
    who = "processes" if uniform else "correct processes"
    return Verdict(True, f"{len(values)} {who} decided {distinct[0] if distinct else '—'}", details)


def _partial_sync(
    trace: Trace, claims: PartialSyncClaims, replicas: int, gst_s: float
) -> dict[str, Verdict]:
    checks: dict[str, Verdict] = {}
    if claims.replicas_min is not None:
        checks["replicas"] = Verdict(
            replicas >= claims.replicas_min,
            f"n = {replicas}, the protocol needs n ≥ {claims.replicas_min}",
            {"replicas": replicas, "replicas_min": claims.replicas_min},
        )
    found = decisions(trace)
    if found.processes:
        checks["agreement"] = _agreement(found, uniform=False)
        if claims.live_after_gst:
            checks["live_after_gst"] = _decided_after_gst(found, claims.live_within_s, gst_s)
    elif claims.live_after_gst:
        checks["live_after_gst"] = _answered_after_gst(trace, claims.live_within_s, gst_s)
    return checks


def _decided_after_gst(found: Decisions, within_s: float | None, gst_s: float) -> Verdict:
    deadline = None if within_s is None else gst_s + within_s
    late = [
        p
        for p in found.correct
        if p not in found.first
        or (deadline is not None and found.first[p][0] > deadline + EPSILON_S)
    ]
    times = {p: found.first[p][0] for p in found.correct if p in found.first}
    details = {"gst_s": gst_s, "deadline_s": deadline, "decided_at": times, "late": late}
    if not found.correct:
        return Verdict(False, "no correct process", details)
    by = "eventually" if deadline is None else f"by GST + {within_s:.4f} s = {deadline:.4f} s"
    if late:
        return Verdict(
            False,
            f"not every correct process decided {by}: {', '.join(late)}",
            details,
        )
    last = max(times.values())
    return Verdict(True, f"every correct process decided {by} (last at {last:.4f} s)", details)


def _answered_after_gst(trace: Trace, within_s: float | None, gst_s: float) -> Verdict:
    invoked: dict[tuple[str, int], float] = {}
    completed: dict[tuple[str, int], float] = {}
    for t, kind, node, _, num, _ in trace.events:
        if kind == tr.INVOKE:
            invoked[(node, num)] = t
        elif kind == tr.COMPLETE:
            completed.setdefault((node, num), t)
    end = trace.end_time
    slack = 0.0 if within_s is None else within_s
    late: list[str] = []
    judged = 0
    for key, t in invoked.items():
        due = max(t, gst_s) + slack
        if due > end:
            continue  # the run stopped before it was due
        judged += 1
        done = completed.get(key)
        if done is None or (within_s is not None and done > due + EPSILON_S):
            late.append(f"{key[0]}#{key[1]}")
    details = {"gst_s": gst_s, "within_s": within_s, "requests": judged, "late": late[:50]}
    if judged == 0:
        return Verdict(False, "no request was due before the run ended", details)
    if late:
        return Verdict(False, f"{len(late)} of {judged} requests not answered in time", details)
    return Verdict(True, f"all {judged} requests answered in time after GST", details)
