"""Claims per protocol family: each protocol promises what its family can promise."""

from __future__ import annotations

from smrkit.protocols import (
    TIMINGS,
    ConsensusClaims,
    PartialSyncClaims,
    PrimaryBackupClaims,
    get_protocol,
    service_protocols,
)
from smrkit.protocols.claims import ActiveReplicationClaims
from smrkit.report.summary import target_json

ACTIVE = ["smr-active", "smr-active-crash", "smr-active-server-vote"]
PARTIAL_SYNC = ["raft", "raft-unsafe-commit"]


def test_every_primary_backup_protocol_claims_its_figures_for_synchronous_timing() -> None:
    for name in service_protocols():
        if name in ACTIVE or name in PARTIAL_SYNC:
            continue
        spec = get_protocol(name)
        claims = spec.claims(1, 0.01, 0.05)
        assert isinstance(claims, PrimaryBackupClaims) and claims.family == "primary-backup"
        assert claims.failover_s is not None and claims.outage_count is not None
        assert spec.timings == ("synchronous",)
        assert spec.timing_problem("synchronous") is None
        assert set(spec.timings) <= set(TIMINGS)
        problem = spec.timing_problem("async")
        assert problem == f"{name} is built for synchronous timing; this run is async"


def test_the_active_replication_protocols_claim_votes_in_lock_step() -> None:
    active = _claiming(ActiveReplicationClaims)
    assert active == ACTIVE
    for name in active:
        spec = get_protocol(name)
        claims = spec.claims(1, 0.01, 0.05)
        assert isinstance(claims, ActiveReplicationClaims)
        assert claims.family == "active replication" and spec.timings == ("lock-step",)
        byzantine = spec.failure_model.value == "byzantine"
        assert (claims.replicas_min, claims.votes) == ((3, 2) if byzantine else (2, 1))


def test_the_other_families_say_what_they_promise() -> None:
    floodset = ConsensusClaims(decides_by_round=2)  # f + 1 for f = 1
    raft = PartialSyncClaims(replicas_min=3)  # 2f + 1 for f = 1
    assert (floodset.family, raft.family) == ("consensus", "partially-synchronous replication")
    assert target_json(floodset) == {
        "specification": "consensus",
        "decides_by_round": 2,
        "uniform": False,
        "early_stopping": False,
    }
    assert target_json(raft)["replicas_min"] == 3 and target_json(raft)["live_after_gst"]


def test_the_raft_protocols_claim_safety_in_asynchrony_and_liveness_after_gst() -> None:
    assert _claiming(PartialSyncClaims) == PARTIAL_SYNC
    for name in PARTIAL_SYNC:
        spec = get_protocol(name)
        claims = spec.claims(2, 0.01, 0.05)
        assert isinstance(claims, PartialSyncClaims) and claims.replicas_min == 5
        assert claims.safe_in_asynchrony and claims.live_after_gst
        assert spec.timings[0] == "partial-sync" and spec.restartable and spec.recovers


def _claiming(family: type) -> list[str]:
    """The service protocols whose claims (f = 1) are of ``family``."""
    return [
        name
        for name in service_protocols()
        if isinstance(get_protocol(name).claims(1, 0.01, 0.05), family)
    ]
