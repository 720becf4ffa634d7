"""pb-general-omission: primary-backup for f general-omission failures (seed 001, §5).

A faulty server omits to send and to receive. The protocol is the lease-and-quorum engine
of :mod:`.quorum`: every decision — keeping the role for a round, committing an update,
electing a new primary — needs f + 1 of the n = 2f + 1 servers, and a server that cannot
gather them halts, which turns its omissions into a crash.

Against Table 1. n = 2f + 1 meets Theorem 4 (n > 2f), which holds whatever D and Γ;
failover ``τ + 2δ + (f − 1)·max(τ, 2δ)`` meets Theorem 12's 2f·δ
up to τ for f = 1 only (see :mod:`.quorum`); blocking 2δ meets Theorem 7 for
f > 1. With n = 2f servers two halves of f can each elect a primary: ``smrkit bounds``
finds that run, and ``smrkit worlds --replicas 4 --f 2`` replays seed 000's argument.

Bounds. n = 2f + 1, blocking 2δ (the target of the issue is 2δ + τ), failover at most
``τ + 2δ + (f − 1)·max(τ, 2δ)``; as a (k, Δ)-bofo service, at most f outages of at most
that plus 38δ
(a primary that drops one client's messages is found out only when that client turns to
another server, after three time-outs of 8δ, and a backup tells the primary — on the
client's word, which counts only where clients are correct, as the model assumes).
With untrusted clients (the TCP runtime, ``--untrusted-clients``) no client's word
counts and a backup relays such a client's requests instead (:mod:`.client_relay`):
at most f·(C + 1) outages for C clients, of at most the failover plus 22δ (see
"Untrusted clients" in :mod:`.quorum`).
"""

from __future__ import annotations

from smrkit.core.failure_models import FailureModel
from smrkit.protocols.primary_backup.quorum import quorum_spec
from smrkit.protocols.registry import register

SPEC = register(
    quorum_spec(
        "pb-general-omission",
        "primary-backup for f general-omission failures, n = 2f + 1 (seed 001 §5)",
        FailureModel.GENERAL_OMISSION,
    )
)
