"""The primary-backup properties of seed 001, measured on a trace.

One pass over the events reconstructs who was primary when (the ``primary`` events record
each replica's predicate Prmy), each client's ``Dest``, every request a client sent and
what became of it. From that:

* **Pb1** — at most one server is primary at any instant (checked event by event, so
  even a hand-over at a single instant in the wrong order is caught);
* **Pb2** — a client sends each request to its ``Dest`` and to no other server;
* **Pb3** — a request that reaches a server that is not the primary is not processed:
  that server neither applies it nor answers anything while not primary — except a
  reply it received from a server and passes on (a backup relaying for a client whose
  link to the primary fails, :mod:`smrkit.protocols.primary_backup.client_relay`);
  those are counted (``relayed_replies``), not violations;
* **Pb4** — the service is a (k, Δ)-bofo server: every request gets a response except
  those sent during at most k periods each no longer than Δ. A request *gets a
  response* when the server it reached sends the reply for it and the reply reaches the
  client. The check asks whether all unanswered sends can be covered by k periods of
  length Δ (the definition, computed greedily), and whether the responses are
  consistent — that is the linearizability check, passed in. For the figures, the
  unanswered sends are grouped into *outages* (sends at most the target Δ apart belong
  to one); an outage's length is the time from its first to its last unanswered send;
* **Pb5** — a correct primary stays primary until some server or link fails;
* the properties bind the correct servers: what a Byzantine server sends (a reply
  while not primary) is not a violation, and its replies do not count as responses;
* **failover time** — the longest interval with no primary (instants at which a server
  was primary for zero time do not break an interval; the wait for the very first
  primary is reported apart, as start-up);
* **blocking time** — the longest time from a request reaching the primary to the reply
  leaving it, over the requests handled before the first failure (C-blocking is a
  property of failure-free runs; the part of a run before its first fault is one).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from smrkit.check.verdict import Verdict
from smrkit.core.messages import ClientReply, ClientRequest
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.sim import trace as tr
from smrkit.sim.trace import Trace

EPSILON_S = 1e-9
VIOLATIONS_SHOWN = 20
_V = TypeVar("_V")


@dataclass
class Outage:
    start: float
    end: float
    requests: int

    @property
    def length(self) -> float:
        return self.end - self.start


@dataclass
class PrimaryBackupAnalysis:
    """What one pass over a trace found; :func:`verdicts` turns it into checks."""

    end_time: float
    intervals: list[tuple[str, float, float]] = field(default_factory=list)
    pb1: list[tuple[float, list[str]]] = field(default_factory=list)
    pb2: list[tuple[float, str, str, str | None]] = field(default_factory=list)
    pb3: list[tuple[float, str, str]] = field(default_factory=list)
    pb5: list[tuple[float, str]] = field(default_factory=list)
    gaps: list[tuple[float, float]] = field(default_factory=list)
    startup_s: float = 0.0
    open_gap: bool = False
    blocking: list[tuple[float, float, str, str]] = field(default_factory=list)
    requests: list[tuple[float, bool]] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    relayed_replies: int = 0
    """Replies a server passed on to a client while not primary, each one it had
    received from a server (not a Pb3 violation: it processed nothing)."""

    @property
    def failover_s_max(self) -> float:
        return max((end - start for start, end in self.gaps), default=0.0)

    @property
    def blocking_s_max(self) -> float:
        return max((t_r - t_m for t_m, t_r, _, _ in self.blocking), default=0.0)

    @property
    def outage_s_max(self) -> float:
        return max((o.length for o in self.outages), default=0.0)

    def periods_needed(self, length_s: float) -> int:
        """How many periods of ``length_s`` it takes to cover every unanswered request."""
        count = 0
        covered_until = -math.inf
        for t, answered in self.requests:
            if not answered and t > covered_until + EPSILON_S:
                count += 1
                covered_until = t + length_s
        return count


def analyze(
    trace: Trace, *, tail_s: float = 0.0, merge_gap_s: float = 0.0
) -> PrimaryBackupAnalysis:
    """One pass over ``trace``. Requests sent in the last ``tail_s`` before the end of the
    run are left out of Pb4: the run may have stopped before they could be answered.
    Unanswered requests at most ``merge_gap_s`` apart count as one outage."""
    servers = set(trace.servers) - trace.byzantine  # the properties bind correct servers
    clients = set(trace.clients)
    result = PrimaryBackupAnalysis(end_time=trace.end_time)
    current: set[str] = set()
    since: dict[str, float] = {}
    down: set[str] = set()
    failed = False
    dest: dict[str, str | None] = {}
    in_step: tuple[str, str, int] | None = None
    requests: dict[int, list[Any]] = {}
    awaiting: dict[tuple[str, str, int], list[int]] = {}
    reply_links: dict[int, list[int]] = {}
    pending_block: dict[tuple[str, str, int], float] = {}
    passed_to: set[tuple[str, str, int]] = set()
    """Replies a server received from another server: it may pass them on."""

    for t, kind, node, other, num, data in trace.events:
        if kind == tr.DELIVER:
            in_step = None
            msg_type = type(data)
            if msg_type is ClientRequest and node in servers:
                key = (node, data.client, data.seq)
                if num in requests:
                    awaiting.setdefault(key, []).append(num)
                if node in current:
                    if not failed:
                        pending_block.setdefault(key, t)
                else:
                    in_step = key
            elif msg_type is ClientReply and node in clients:
                for request in reply_links.pop(num, ()):
                    requests[request][1] = True
            elif msg_type is ClientReply and node in servers:
                passed_to.add((node, data.client, data.seq))
        elif kind == tr.SEND:
            msg_type = type(data)
            if msg_type is ClientRequest and node in clients:
                if dest.get(node) != other:
                    result.pb2.append((t, node, other, dest.get(node)))
                requests[num] = [t, False]
            elif msg_type is ClientReply and node in servers:
                key = (node, data.client, data.seq)
                if node not in current and key in passed_to:
                    result.relayed_replies += 1
                elif node not in current:
                    result.pb3.append(
                        (t, node, f"replied to {data.client}#{data.seq} while not primary")
                    )
                linked = awaiting.pop(key, None)
                if linked:
                    reply_links[num] = linked
                block = pending_block.pop(key, None)
                if block is not None and not failed:
                    result.blocking.append((block, t, node, f"{data.client}#{data.seq}"))
        elif kind == tr.APPLY:
            if (
                in_step is not None
                and in_step[0] == node
                and (data.client, data.seq) == in_step[1:]
            ):
                result.pb3.append(
                    (t, node, f"applied {data.client}#{data.seq}, received while not primary")
                )
        elif kind in (tr.TIMER, tr.START):
            in_step = None
        elif kind == tr.PRIMARY:
            if data:
                current.add(node)
                since[node] = t
                if len(current) > 1:
                    result.pb1.append((t, sorted(current)))
            else:
                current.discard(node)
                result.intervals.append((node, since.pop(node), t))
                if node not in down and not failed:
                    result.pb5.append((t, node))
        elif kind == tr.DEST:
            dest[node] = other
        elif kind in (tr.CRASH, tr.HALT):
            down.add(node)
            failed = True
        elif kind == tr.FAULT:
            failed = True

    end = result.end_time
    for node in sorted(current):
        result.intervals.append((node, since[node], end))
    _gaps(result)
    cutoff = end - tail_s
    result.requests = sorted(
        (t, answered) for t, answered in requests.values() if answered or t < cutoff
    )
    result.outages = _outages(result.requests, merge_gap_s)
    return result


def _gaps(result: PrimaryBackupAnalysis) -> None:
    """Failover gaps: the complement of the (positive-length) primary intervals."""
    spans = sorted((s, e) for _, s, e in result.intervals if e - s > EPSILON_S)
    end = result.end_time
    if not spans:
        result.startup_s = end
        result.open_gap = end > 0
        return
    result.startup_s = spans[0][0]
    covered = spans[0][1]
    for start, stop in spans[1:]:
        if start > covered + EPSILON_S:
            result.gaps.append((covered, start))
        covered = max(covered, stop)
    if covered < end - EPSILON_S:
        result.gaps.append((covered, end))
        result.open_gap = True


def _outages(requests: list[tuple[float, bool]], merge_gap_s: float) -> list[Outage]:
    """Group unanswered sends into outages: consecutive unanswered sends at most
    ``merge_gap_s`` apart belong to one outage, whatever was answered between them —
    during a failover, clients that already know the new primary get answers while the
    others are still writing to the old one, and that is one outage, not several."""
    outages: list[Outage] = []
    current: Outage | None = None
    for t, answered in requests:
        if answered:
            continue
        if current is None or t - current.end > merge_gap_s:
            current = Outage(t, t, 1)
            outages.append(current)
        else:
            current.end = t
            current.requests += 1
    return outages


def verdicts(
    analysis: PrimaryBackupAnalysis, targets: PrimaryBackupClaims, *, linearizable: bool | None
) -> dict[str, Verdict]:
    """Pb1–Pb5 and the failover and blocking targets as checks."""
    a = analysis
    checks: dict[str, Verdict] = {}
    checks["pb1"] = _listed(
        a.pb1,
        "never two primaries",
        lambda v: f"two primaries at t={v[0]:.6f}: {v[1]}",
        lambda v: {"t": v[0], "primaries": v[1]},
    )
    checks["pb2"] = _listed(
        a.pb2,
        "every request went to the client's Dest",
        lambda v: f"{v[1]} sent to {v[2]} while its Dest was {v[3]}",
        lambda v: {"t": v[0], "client": v[1], "to": v[2], "dest": v[3]},
    )
    relayed = f" ({a.relayed_replies} replies relayed by backups)" if a.relayed_replies else ""
    checks["pb3"] = _listed(
        a.pb3,
        "no request processed by a non-primary" + relayed,
        lambda v: f"{v[1]} {v[2]}",
        lambda v: {"t": v[0], "server": v[1], "what": v[2]},
    )
    k_target, d_target = targets.outage_count, targets.outage_s
    periods = None if d_target is None else a.periods_needed(d_target)
    cover_ok = periods is None or k_target is None or periods <= k_target
    consistent = linearizable is not False
    unanswered = sum(1 for _, answered in a.requests if not answered)
    bofo = f"({len(a.outages)}, {a.outage_s_max:.4f} s)"
    if d_target is not None and k_target is not None:
        claim = f"({k_target}, {d_target:.4f} s)-bofo"
        summary = (
            f"outages {bofo}; covered by {periods} period(s) of {d_target:.4f} s, target {claim}"
        )
    else:
        summary = f"outages {bofo}"
    if not consistent:
        summary += "; responses not consistent (history not linearizable)"
    checks["pb4"] = Verdict(
        cover_ok and consistent,
        summary,
        {
            "outage_count": len(a.outages),
            "outage_s_max": a.outage_s_max,
            "periods_needed": periods,
            "target_k": k_target,
            "target_delta_s": d_target,
            "requests": len(a.requests),
            "unanswered": unanswered,
            "consistent": consistent,
            "outages": [
                {"start": o.start, "end": o.end, "requests": o.requests} for o in a.outages[:50]
            ],
        },
    )
    checks["pb5"] = _listed(
        a.pb5,
        "no correct primary lost its role before a failure",
        lambda v: f"{v[1]} stopped being primary at t={v[0]:.6f} with no failure",
        lambda v: {"t": v[0], "server": v[1]},
    )
    failover = a.failover_s_max
    failover_ok = not a.open_gap and (
        targets.failover_s is None or failover <= targets.failover_s + EPSILON_S
    )
    checks["failover"] = Verdict(
        failover_ok,
        _measure_summary("longest interval with no primary", failover, targets.failover_s)
        + ("; no primary at the end of the run" if a.open_gap else ""),
        {
            "failover_s_max": failover,
            "target_s": targets.failover_s,
            "gaps": [{"start": s, "end": e} for s, e in a.gaps[:50]],
            "open_at_end": a.open_gap,
            "startup_s": a.startup_s,
        },
    )
    blocking = a.blocking_s_max
    checks["blocking"] = Verdict(
        targets.blocking_s is None or blocking <= targets.blocking_s + EPSILON_S,
        _measure_summary(
            "longest request-to-reply at the primary "
            f"({len(a.blocking)} requests before any failure)",
            blocking,
            targets.blocking_s,
        ),
        {"blocking_s_max": blocking, "target_s": targets.blocking_s, "samples": len(a.blocking)},
    )
    return checks


def _listed(
    violations: Sequence[_V],
    fine: str,
    first: Callable[[_V], str],
    record: Callable[[_V], dict[str, Any]],
) -> Verdict:
    """A check that holds when it found no violation; the summary names the first one."""
    summary = fine if not violations else first(violations[0])
    details = {"violations": [record(v) for v in violations[:VIOLATIONS_SHOWN]]}
    return Verdict(not violations, summary, details)


def _measure_summary(what: str, value: float, target: float | None) -> str:
    text = f"{what}: {value:.4f} s"
    if target is not None:
        text += f" (target ≤ {target:.4f} s)"
    return text
