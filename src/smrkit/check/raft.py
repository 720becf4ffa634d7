"""Raft's own safety properties, and its liveness figures, read from a trace.

The leader-log observer (:class:`smrkit.sim.observers.LeaderLogObserver`) records each
election won (``elected``: the term and the winner's log) and each advance of a commit
index (``committed``: the entries newly committed, by term). From those:

* **election safety** (Raft's Figure 3): at most one server wins the election of a term;
* **leader completeness**: an entry committed while its committer was in term T is in
  the log of the leader of every term after T, at the same index with the same term
  (an index the leader has compacted into a snapshot counts as held: only committed
  entries are compacted). Log agreement — state machine safety — is
  :mod:`smrkit.check.logs`'s, over the applied commands;
* the **figures**: how long after GST a leader that goes on to commit was in place,
  how long after each leader's crash the next one was elected, and commit latency —
  from the leader's receipt of a client's request to its commit — for requests
  received after GST; in seconds and in δ. A run in which nothing was committed after
  GST has no figures (``None``), never a reassuring zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from smrkit.check.verdict import Verdict
from smrkit.core.messages import ClientRequest
from smrkit.sim import trace as tr
from smrkit.sim.trace import Trace

EPSILON_S = 1e-9


@dataclass(frozen=True)
class Election:
    t: float
    leader: str
    term: int
    base_index: int
    base_term: int
    terms: tuple[int, ...]

    def term_at(self, index: int) -> int | None:
        """The term of the leader's entry ``index``; ``None`` beyond its log; ``-1``
        inside its snapshot (compacted, so committed: held)."""
        if index <= self.base_index:
            return -1
        offset = index - self.base_index - 1
        return self.terms[offset] if offset < len(self.terms) else None


@dataclass(frozen=True)
class Commit:
    t: float
    node: str
    term: int
    """The committer's term when it committed."""
    first: int
    entries: tuple[tuple[int, str | None, int], ...]


def elections(trace: Trace) -> list[Election]:
    return [
        Election(t, node, num, data[0], data[1], tuple(data[2]))
        for t, _, node, _, num, data in trace.select((tr.ELECTED,))
    ]


def commits(trace: Trace) -> list[Commit]:
    return [
        Commit(t, node, data[0], data[1], tuple(tuple(e) for e in data[2]))
        for t, _, node, _, _, data in trace.select((tr.COMMITTED,))
    ]


def check_election_safety(trace: Trace) -> Verdict:
    """At most one leader per term."""
    winners: dict[int, list[str]] = {}
    for election in elections(trace):
        names = winners.setdefault(election.term, [])
        if election.leader not in names:
            names.append(election.leader)
    twice = {term: names for term, names in winners.items() if len(names) > 1}
    details: dict[str, Any] = {"terms": len(winners), "elections": sum(map(len, winners.values()))}
    if twice:
        term = min(twice)
        details["terms_with_two_leaders"] = {str(t): names for t, names in sorted(twice.items())}
        return Verdict(False, f"two leaders in term {term}: {', '.join(twice[term])}", details)
    if not winners:
        return Verdict(True, "no server was ever elected (nothing to compare)", details)
    return Verdict(True, f"one leader in each of {len(winners)} terms", details)


def check_leader_completeness(trace: Trace) -> Verdict:
    """Every committed entry is in every later term's leader's log."""
    committed: dict[int, tuple[int, int, str, float]] = {}
    """index -> (entry term, the least term it was committed in, by whom, when)."""
    conflicts: list[str] = []
    for commit in commits(trace):
        for offset, (term, _, _) in enumerate(commit.entries):
            index = commit.first + offset
            known = committed.get(index)
            if known is None or commit.term < known[1]:
                if known is not None and known[0] != term:
                    conflicts.append(f"entry {index} committed with terms {known[0]} and {term}")
                committed[index] = (term, commit.term, commit.node, commit.t)
            elif known[0] != term:
                conflicts.append(f"entry {index} committed with terms {known[0]} and {term}")
    missing: list[dict[str, Any]] = []
    for election in elections(trace):
        for index, (term, in_term, node, t) in committed.items():
            if in_term >= election.term:
                continue
            held = election.term_at(index)
            if held in (-1, term):
                continue
            missing.append(
                {
                    "index": index,
                    "term": term,
                    "committed_by": node,
                    "committed_at": t,
                    "committed_in_term": in_term,
                    "leader": election.leader,
                    "leader_term": election.term,
                    "leader_has_term": held,
                }
            )
    details: dict[str, Any] = {"committed": len(committed), "conflicts": conflicts[:10]}
    if missing:
        first = min(missing, key=lambda m: (m["leader_term"], m["index"]))
        details["missing"] = missing[:10]
        has = "nothing" if first["leader_has_term"] is None else f"term {first['leader_has_term']}"
        return Verdict(
            False,
            f"entry {first['index']} (term {first['term']}), committed by "
            f"{first['committed_by']} in term {first['committed_in_term']}, is not in the log "
            f"of {first['leader']}, leader of term {first['leader_term']} (it has {has} there)",
            details,
        )
    if conflicts:
        return Verdict(False, conflicts[0], details)
    return Verdict(
        True,
        f"{len(committed)} committed entries, each in every later leader's log",
        details,
    )


def _quantiles(values: list[float], delta_s: float) -> dict[str, Any]:
    """Median, p99 and max of ``values`` (seconds) and in δ; ``None`` figures if empty."""
    if not values:
        return {"count": 0, "median_s": None, "p99_s": None, "max_s": None, "median_delta": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]

    median, p99, most = at(0.5), at(0.99), ordered[-1]
    return {
        "count": len(values),
        "median_s": median,
        "p99_s": p99,
        "max_s": most,
        "median_delta": median / delta_s,
        "p99_delta": p99 / delta_s,
        "max_delta": most / delta_s,
    }


def raft_figures(trace: Trace, *, gst_s: float, delta_s: float) -> dict[str, Any]:
    """Elections, time to elect after GST and after each leader's crash, commit
    latency (see the module docstring)."""
    won = elections(trace)
    done = commits(trace)
    led = {(e.leader, e.term): e for e in won}
    leader_commits = [c for c in done if (c.node, c.term) in led]
    after_gst = [c for c in leader_commits if c.t >= gst_s - EPSILON_S]
    elect_after_gst: float | None = None
    if after_gst:
        first = after_gst[0]
        elect_after_gst = max(0.0, led[(first.node, first.term)].t - gst_s)
    committed_terms = {c.term for c in leader_commits}
    crashes: list[dict[str, Any]] = []
    leading: dict[str, int] = {}
    for t, kind, node, _, num, data in trace.select((tr.ELECTED, tr.PRIMARY, tr.CRASH)):
        if kind == tr.ELECTED:
            leading[node] = num
        elif kind == tr.PRIMARY:
            if not data:
                leading.pop(node, None)  # stepped down (or crashed: recorded after)
        elif node in leading:
            term = leading.pop(node)
            nxt = next(
                (e for e in won if e.t >= t and e.term > term and e.term in committed_terms), None
            )
            crashes.append(
                {
                    "leader": node,
                    "term": term,
                    "crashed_at": t,
                    "after_gst": t >= gst_s - EPSILON_S,
                    "next_leader": None if nxt is None else nxt.leader,
                    "elect_s": None if nxt is None else nxt.t - t,
                    "elect_delta": None if nxt is None else (nxt.t - t) / delta_s,
                }
            )
    latencies = _commit_latencies(trace, leader_commits, gst_s)
    elect_crash = [c["elect_s"] for c in crashes if c["elect_s"] is not None]
    return {
        "elections": len(won),
        "terms": max((e.term for e in won), default=0),
        "committed": max((c.first + len(c.entries) - 1 for c in done), default=0),
        "elect_after_gst_s": elect_after_gst,
        "elect_after_gst_delta": None if elect_after_gst is None else elect_after_gst / delta_s,
        "elect_after_crash_s_max": max(elect_crash) if elect_crash else None,
        "elect_after_crash_delta_max": max(elect_crash) / delta_s if elect_crash else None,
        "leader_crashes": crashes,
        "commit_latency": _quantiles(latencies, delta_s),
    }


def _commit_latencies(trace: Trace, leader_commits: list[Commit], gst_s: float) -> list[float]:
    """From a leader's first receipt of a request (at or after GST) to its commit."""
    received: dict[tuple[str, str, int], float] = {}
    for t, _, node, _, _, msg in trace.select((tr.DELIVER,)):
        if isinstance(msg, ClientRequest) and t >= gst_s - EPSILON_S:
            received.setdefault((node, msg.client, msg.seq), t)
    latencies: list[float] = []
    for commit in leader_commits:
        for _, client, seq in commit.entries:
            if client is None:
                continue
            at = received.pop((commit.node, client, seq), None)
            if at is not None:
                latencies.append(commit.t - at)
    return latencies
