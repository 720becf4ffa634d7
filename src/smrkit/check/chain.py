"""Judging a chain-replication run (seed 003's fault-safe SMR, :mod:`smrkit.protocols.chain`).

Three checks, each able to go red:

* ``linearizable`` — the clients' history (the same checker as every protocol's);
* ``log_agreement`` — the replicas that never crashed or halted applied prefixes of one
  another (in a chain, each one's log is a prefix of its predecessor's);
* ``fault_safe`` — the chain never forked and never ran without its master: at no
  instant did two replicas act as the tail (the one that commits and answers queries:
  ``primary`` records), and no replica applied a command while a majority of master
  nodes had been down (crashed, not yet restarted) for longer than a lease.

And the figures: the latency of committed updates and of queries, and for each fault
on a chain replica the time until the master's next configuration reached a replica
(``reconfigure``) and until the next update was acknowledged (``recover``), in δ.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from smrkit.check.evaluate import Evaluation, _linearizable
from smrkit.check.history import History, Status
from smrkit.check.linearizability import check_linearizability
from smrkit.check.logs import check_log_agreement
from smrkit.check.pb import analyze
from smrkit.check.trace_history import history_from_trace
from smrkit.check.verdict import Verdict
from smrkit.protocols.claims import FaultSafeClaims
from smrkit.sim import trace as tr
from smrkit.sim.faults import FaultPlan
from smrkit.sim.trace import Trace

EPSILON_S = 1e-9
QUERY_FUNCTIONS = frozenset({"get", "read"})


@dataclass
class ChainEvaluation(Evaluation):
    figures: dict[str, Any] | None = None

    def measured(self) -> dict[str, Any]:
        return dict(self.figures or {})


def evaluate_chain(
    trace: Trace,
    claims: FaultSafeClaims,
    *,
    lease_s: float,
    linearizability_timeout_s: float | None = 60.0,
) -> ChainEvaluation:
    history = history_from_trace(trace)
    lin = check_linearizability(history, timeout_s=linearizability_timeout_s)
    checks = {
        "linearizable": _linearizable(lin, history, linearizability_timeout_s),
        "log_agreement": check_log_agreement(trace),
        "fault_safe": check_fault_safe(trace, lease_s=lease_s),
    }
    analysis = analyze(trace, tail_s=0.0, merge_gap_s=0.0)
    evaluation = ChainEvaluation(checks, history, lin, analysis)
    evaluation.figures = chain_figures(trace, history, claims)
    return evaluation


def check_fault_safe(trace: Trace, *, lease_s: float) -> Verdict:
    """At most one acting tail at every instant; no command applied while the master
    had been without a majority for longer than a lease."""
    masters = list(trace.header.get("auxiliary", []))
    replicas = set(trace.servers)
    tails: set[str] = set()
    forks: list[dict[str, Any]] = []
    down: set[str] = set()
    lost_since: float | None = None
    blind: list[dict[str, Any]] = []
    majority = len(masters) // 2 + 1
    for t, kind, node, _, num, data in trace.events:
        if kind == tr.PRIMARY and node in replicas:
            (tails.add if data else tails.discard)(node)
            if len(tails) > 1 and len(forks) < 10:
                forks.append({"t": t, "tails": sorted(tails)})
        elif kind in (tr.CRASH, tr.HALT) and node in masters:
            down.add(node)
            if lost_since is None and len(masters) - len(down) < majority:
                lost_since = t
        elif kind == tr.START and node in down:
            down.discard(node)
            if len(masters) - len(down) >= majority:
                lost_since = None
        elif (
            kind == tr.APPLY
            and node in replicas
            and lost_since is not None
            and len(blind) < 10
            and t > lost_since + lease_s + EPSILON_S
        ):
            blind.append({"t": t, "replica": node, "entry": num, "master_lost_s": lost_since})
    details: dict[str, Any] = {"forks": forks, "applied_without_master": blind}
    if forks:
        first = forks[0]
        return Verdict(
            False,
            f"two replicas acted as the tail at {first['t']:.4f} s: " + ", ".join(first["tails"]),
            details,
        )
    if blind:
        first = blind[0]
        return Verdict(
            False,
            f"{first['replica']} applied entry {first['entry']} at {first['t']:.4f} s, "
            f"more than a lease after the master lost its majority "
            f"({first['master_lost_s']:.4f} s)",
            details,
        )
    return Verdict(True, "one tail at a time; nothing applied without the master's lease", details)


def chain_figures(trace: Trace, history: History, claims: FaultSafeClaims) -> dict[str, Any]:
    delta = float(trace.header.get("delta_s", 1.0))
    updates = [
        op.ret - op.call
        for op in history.ops
        if op.status is Status.OK and op.f not in QUERY_FUNCTIONS
    ]
    queries = [
        op.ret - op.call for op in history.ops if op.status is Status.OK and op.f in QUERY_FUNCTIONS
    ]
    acks = sorted(op.ret for op in history.ops if op.status is Status.OK)
    reconfigurations = _reconfigurations(trace, acks)
    worst = max((r["reconfigure_s"] for r in reconfigurations if r["reconfigure_s"]), default=None)
    return {
        "update_latency_delta_p50": _in(statistics.median(updates), delta) if updates else None,
        "update_latency_delta_max": _in(max(updates), delta) if updates else None,
        "query_latency_delta_p50": _in(statistics.median(queries), delta) if queries else None,
        "epochs": _epochs(trace),
        "reconfigurations": reconfigurations,
        "reconfigure_delta_max": None if worst is None else _in(worst, delta),
        "reconfigure_claim_delta": None
        if claims.reconfigure_within_s is None
        else _in(claims.reconfigure_within_s, delta),
        "last_ack_s": acks[-1] if acks else None,
    }


def _in(seconds: float, delta: float) -> float:
    return round(seconds / delta, 2)


def _epochs(trace: Trace) -> int:
    from smrkit.protocols.chain.messages import NewConfig

    highest = 1
    for _, kind, _, _, _, msg in trace.events:
        if kind == tr.DELIVER and isinstance(msg, NewConfig):
            highest = max(highest, msg.config.epoch)
    return highest


def _reconfigurations(trace: Trace, acks: list[float]) -> list[dict[str, Any]]:
    """For each fault that begins on a chain replica: when the next configuration first
    reached a replica, and when the next update or query was answered after that."""
    from smrkit.protocols.chain.messages import NewConfig

    servers = set(trace.servers)
    faults: list[tuple[float, str]] = []
    configs: list[float] = []
    epoch = 1
    for t, kind, node, _, _, data in trace.events:
        if kind == tr.FAULT and data[0] == "begin":
            fault = FaultPlan.parse([data[1]]).faults[0]
            if fault.kind != "restart" and servers & set(fault.nodes()):
                faults.append((t, data[1]))
        elif (
            kind == tr.DELIVER
            and node in servers
            and isinstance(data, NewConfig)
            and data.config.epoch > epoch
        ):
            epoch = data.config.epoch
            configs.append(t)
    found = []
    for t, spec in faults:
        after = [c for c in configs if c >= t]
        changed = after[0] if after else None
        answered = [a for a in acks if a >= (changed if changed is not None else t)]
        found.append(
            {
                "fault": spec,
                "at_s": t,
                "reconfigure_s": None if changed is None else round(changed - t, 6),
                "recover_s": round(answered[0] - t, 6) if answered and changed else None,
            }
        )
    return found
