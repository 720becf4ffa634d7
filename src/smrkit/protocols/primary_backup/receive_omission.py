"""pb-receive-omission: primary-backup for f receive-omission failures (seed 001, §5).

A faulty server fails to receive some of the messages sent to it. It cannot tell its own
fault from a silent sender, so it must not act alone: the protocol is the lease-and-quorum
engine of :mod:`.quorum`. A primary that stops hearing acknowledgements halts; a backup
that stops hearing the primary can only take over with the votes of a quorum, which a
primary that kept its lease makes impossible.

Against Table 1. Failover ``τ + 2δ + (f − 1)·max(τ, 2δ)`` meets Theorem 11's 2f·δ
up to τ for f = 1 only (see :mod:`.quorum`); blocking 2δ
meets Theorem 5's 2δ (f > 1; Theorem 6 allows δ for f = 1). n = 2f + 1 is what the paper
achieves too; its lower bound ⌊3f/2⌋ + 1 (Theorem 3) is not known to be tight.

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
        "pb-receive-omission",
        "primary-backup for f receive-omission failures, n = 2f + 1 (seed 001 §5)",
        FailureModel.RECEIVE_OMISSION,
    )
)
