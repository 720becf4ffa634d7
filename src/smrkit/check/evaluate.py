"""Judge a run: every check of smrkit over one trace, against the protocol's claims.

The same function judges a fresh simulation and a trace file read back from disk, so a
saved trace is a complete bug report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smrkit.check.claims import Decisions, decisions, judge_claims, validity
from smrkit.check.history import History
from smrkit.check.linearizability import LinearizabilityResult, check_linearizability
from smrkit.check.logs import check_log_agreement
from smrkit.check.pb import PrimaryBackupAnalysis, analyze, verdicts
from smrkit.check.trace_history import history_from_trace
from smrkit.check.verdict import Verdict
from smrkit.protocols.claims import PrimaryBackupClaims
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


class Judged:
    """What every judged run answers: do all its checks hold, and which failed."""

    checks: dict[str, Verdict]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.ok]


@dataclass
class Evaluation(Judged):
    checks: dict[str, Verdict]
    history: History
    linearizability: LinearizabilityResult
    analysis: PrimaryBackupAnalysis

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
            "outage_periods": self.checks["pb4"].details.get("periods_needed"),
            "relayed_replies": a.relayed_replies,
        }


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
    counts = history.counts()
    lin_summary = {
        "linearizable": f"{lin.ops} ops over {lin.partitions} keys are linearizable",
        "violation": "not linearizable"
        + (f" (key {lin.witness.partition})" if lin.witness is not None else ""),
        "unknown": f"undecided within {linearizability_timeout_s} s",
    }[lin.verdict]
    checks["linearizable"] = Verdict(
        lin.verdict == "linearizable",
        lin_summary,
        {
            "verdict": lin.verdict,
            "ops": counts,
            "seconds": lin.seconds,
            "witness": None if lin.witness is None else lin.witness.to_json(),
        },
    )
    checks["log_agreement"] = check_log_agreement(trace)
    ordered = {name: checks[name] for name in CHECK_ORDER}
    return Evaluation(ordered, history, lin, analysis)


@dataclass
class ConsensusEvaluation(Judged):
    """A consensus run judged: the claims' verdicts (termination or liveness after GST,
    agreement) and validity, from the consensus records."""

    checks: dict[str, Verdict]
    decisions: Decisions

    def measured(self) -> dict[str, Any]:
        """How many processes decided what, and when (the last decision's time: virtual
        seconds, or steps under ``async``)."""
        first = self.decisions.first
        return {
            "processes": len(self.decisions.processes),
            "correct": len(self.decisions.correct),
            "decided": len(first),
            "values": sorted({repr(value) for _, _, value in first.values()}),
            "last_decision_at": max((t for t, _, _ in first.values()), default=None),
        }


def evaluate_consensus_run(run: SimRun) -> ConsensusEvaluation:
    """Judge a run of consensus processes (``ProtocolSpec.consensus``)."""
    gst = (run.config.gst_s or 0.0) if run.config.timing == "partial-sync" else 0.0
    checks = judge_claims(run.trace, run.claims, replicas=run.n, gst_s=gst)
    checks["validity"] = validity(run.trace)
    return ConsensusEvaluation(checks, decisions(run.trace))


def evaluate_run(run: SimRun, **kwargs: Any) -> Evaluation:
    """Evaluate a finished simulation against its protocol's claims."""
    claims = run.claims
    if not isinstance(claims, PrimaryBackupClaims):
        raise ValueError(
            f"{run.protocol.name} makes {claims.family} claims; smrkit sim checks only "
            "primary-backup runs so far"
        )
    return evaluate(run.trace, claims, tail_s=run.client_timeout_s, **kwargs)
