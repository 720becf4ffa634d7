"""Judge a run: every check of smrkit over one trace, against the protocol's claims.

The same function judges a fresh simulation and a trace file read back from disk, so a
saved trace is a complete bug report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smrkit.check.claims import judge_claims
from smrkit.check.history import History
from smrkit.check.linearizability import LinearizabilityResult, check_linearizability
from smrkit.check.logs import check_log_agreement
from smrkit.check.pb import PrimaryBackupAnalysis, analyze, verdicts
from smrkit.check.raft import check_election_safety, check_leader_completeness, raft_figures
from smrkit.check.trace_history import history_from_trace
from smrkit.check.verdict import Verdict
from smrkit.core.messages import ClientReply
from smrkit.protocols.claims import (
    ActiveReplicationClaims,
    PartialSyncClaims,
    PrimaryBackupClaims,
)
from smrkit.sim.trace import Trace
from smrkit.sim.world import SimRun

CHECK_ORDER = (
    "pb1",
    "pb2",
    "pb3",
    "pb4",
    "pb5",
    "linearizable",
    "log_agreement",
    "failover",
    "blocking",
)

LINEARIZABILITY_TIMEOUT_S = 60.0


@dataclass
class Evaluation:
    checks: dict[str, Verdict]
    history: History
    linearizability: LinearizabilityResult
    analysis: PrimaryBackupAnalysis

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.ok]

    def measured(self) -> dict[str, Any]:
        """The figures of the run. ``outage_periods`` is what Pb4 judges: how many
        periods of the target Δ it takes to cover every unanswered request (``None``
        without a target Δ)."""
        a = self.analysis
        return {
            "failover_s_max": a.failover_s_max,
            "blocking_s_max": a.blocking_s_max,
            "outage_count": len(a.outages),
            "outage_s_max": a.outage_s_max,
            "outage_periods": self.checks["pb4"].details.get("periods_needed")
            if "pb4" in self.checks
            else None,
            "relayed_replies": a.relayed_replies,
        }


@dataclass
class ReplicationEvaluation(Evaluation):
    """A run of a replication protocol for partial synchrony (Raft): its figures are
    elections and commit latency (:func:`smrkit.check.raft.raft_figures`)."""

    figures: dict[str, Any] = field(default_factory=dict)

    def measured(self) -> dict[str, Any]:
        return self.figures


def evaluate_partial_sync(
    trace: Trace,
    claims: PartialSyncClaims,
    *,
    replicas: int,
    gst_s: float,
    delta_s: float,
    linearizability_timeout_s: float | None = LINEARIZABILITY_TIMEOUT_S,
) -> ReplicationEvaluation:
    """Raft's run: linearizable, log agreement (state machine safety), election safety,
    leader completeness, then the claims (n = 2f + 1, every request answered after
    GST); the figures of :func:`~smrkit.check.raft.raft_figures`."""
    history = history_from_trace(trace)
    lin = check_linearizability(history, timeout_s=linearizability_timeout_s)
    checks = {
        "linearizable": _linearizable(lin, history, linearizability_timeout_s),
        "log_agreement": check_log_agreement(trace),
        "election_safety": check_election_safety(trace),
        "leader_completeness": check_leader_completeness(trace),
        **judge_claims(trace, claims, replicas=replicas, gst_s=gst_s),
    }
    figures = raft_figures(trace, gst_s=gst_s, delta_s=delta_s)
    analysis = analyze(trace, tail_s=0.0, merge_gap_s=0.0)
    return ReplicationEvaluation(checks, history, lin, analysis, figures)


def evaluate(
    trace: Trace,
    targets: PrimaryBackupClaims,
    *,
    tail_s: float = 0.0,
    linearizability_timeout_s: float | None = LINEARIZABILITY_TIMEOUT_S,
) -> Evaluation:
    history = history_from_trace(trace)
    lin = check_linearizability(history, timeout_s=linearizability_timeout_s)
    merge_gap = targets.outage_s if targets.outage_s is not None else tail_s
    analysis = analyze(trace, tail_s=tail_s, merge_gap_s=merge_gap)
    linearizable = None if lin.verdict == "unknown" else lin.verdict == "linearizable"
    checks = verdicts(analysis, targets, linearizable=linearizable)
    checks["linearizable"] = _linearizable(lin, history, linearizability_timeout_s)
    checks["log_agreement"] = check_log_agreement(trace)
    ordered = {name: checks[name] for name in CHECK_ORDER}
    return Evaluation(ordered, history, lin, analysis)


def _linearizable(
    lin: LinearizabilityResult, history: History, linearizability_timeout_s: float | None
) -> Verdict:
    counts = history.counts()
    lin_summary = {
        "linearizable": f"{lin.ops} ops over {lin.partitions} keys are linearizable",
        "violation": "not linearizable"
        + (f" (key {lin.witness.partition})" if lin.witness is not None else ""),
        "unknown": f"undecided within {linearizability_timeout_s} s",
    }[lin.verdict]
    return Verdict(
        lin.verdict == "linearizable",
        lin_summary,
        {
            "verdict": lin.verdict,
            "ops": counts,
            "seconds": lin.seconds,
            "witness": None if lin.witness is None else lin.witness.to_json(),
        },
    )


def evaluate_active(
    trace: Trace,
    claims: ActiveReplicationClaims,
    *,
    replicas: int,
    linearizability_timeout_s: float | None = LINEARIZABILITY_TIMEOUT_S,
) -> Evaluation:
    """An actively replicated run: the clients' history linearizable, the correct
    replicas' logs prefixes of one another, every op answered by a vote, and the
    servers its f needs."""
    history = history_from_trace(trace)
    lin = check_linearizability(history, timeout_s=linearizability_timeout_s)
    checks = {
        "linearizable": _linearizable(lin, history, linearizability_timeout_s),
        "log_agreement": check_log_agreement(trace),
        "answered": _answered(trace, history, claims),
        "latency": _latency(trace, history, claims),
        "replicas": _replicas(replicas, claims),
    }
    return Evaluation(checks, history, lin, analyze(trace, tail_s=0.0, merge_gap_s=0.0))


def _answered(trace: Trace, history: History, claims: ActiveReplicationClaims) -> Verdict:
    """Every invoked op answered; how many replicas' replies the votes overruled."""
    counts = history.counts()
    verdicts = {
        (node, num): data[1] for _, kind, node, _, num, data in trace.events if kind == "complete"
    }
    outvoted = sum(
        1
        for _, kind, node, _, _, msg in trace.events
        if kind == "deliver"
        and isinstance(msg, ClientReply)
        and (node, msg.seq) in verdicts
        and msg.error is None
        and msg.result != verdicts[(node, msg.seq)]
    )
    answered = counts["ok"] + counts["fail"]
    votes = "" if claims.votes is None else f" (vote: {claims.votes} alike, at {claims.voter})"
    summary = f"{answered} of {counts['invoked']} ops answered{votes}; {outvoted} replies overruled"
    if counts["invoked"] == 0:
        summary = "no op was invoked: the service served nothing"
    return Verdict(
        counts["invoked"] > 0 and counts["info"] == 0,
        summary,
        {"invoked": counts["invoked"], "answered": answered, "outvoted": outvoted},
    )


def _latency(trace: Trace, history: History, claims: ActiveReplicationClaims) -> Verdict:
    """The most lock-step rounds an answered op waited, against the claim."""
    round_s = float(trace.header.get("delta_s", 1.0))
    rounds = [
        round((op.ret - op.call) / round_s)
        for op in history.ops
        if op.status.value != "info" and op.ret != float("inf")
    ]
    most = max(rounds, default=0)
    bound = claims.answered_within_rounds
    target = "" if bound is None else f" (claim: within {bound})"
    return Verdict(
        bound is None or most <= bound,
        f"the longest op waited {most} rounds{target}",
        {"rounds_max": most, "claim": bound},
    )


def _replicas(replicas: int, claims: ActiveReplicationClaims) -> Verdict:
    needed = claims.replicas_min
    if needed is None:
        return Verdict(True, f"{replicas} servers (no minimum claimed)", {"replicas": replicas})
    return Verdict(
        replicas >= needed,
        f"{replicas} servers, the protocol needs at least {needed} for its f",
        {"replicas": replicas, "replicas_min": needed},
    )


def evaluate_run(run: SimRun, **kwargs: Any) -> Evaluation:
    """Evaluate a finished simulation against its protocol's claims."""
    claims = run.claims
    if isinstance(claims, ActiveReplicationClaims):
        return evaluate_active(run.trace, claims, replicas=run.n, **kwargs)
    if isinstance(claims, PartialSyncClaims):
        gst_s = run.config.gst_s if run.config.gst_s is not None else 0.0
        return evaluate_partial_sync(
            run.trace,
            claims,
            replicas=run.n,
            gst_s=gst_s,
            delta_s=run.config.delta_s,
            **kwargs,
        )
    if not isinstance(claims, PrimaryBackupClaims):
        raise ValueError(
            f"{run.protocol.name} makes {claims.family} claims; smrkit sim checks only "
            "primary-backup runs so far"
        )
    return evaluate(run.trace, claims, tail_s=run.client_timeout_s, **kwargs)
