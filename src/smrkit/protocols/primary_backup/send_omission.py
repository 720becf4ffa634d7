"""pb-send-omission: primary-backup for f send-omission failures (seed 001, §5).

A faulty server omits some of the messages it sends (any number of them; it counts as one
failure); it receives everything. The protocol is the lease-and-quorum engine of
:mod:`.quorum`: a primary whose heartbeats or updates do not get through loses the
acknowledgements of a quorum and halts itself before anyone else can take over, so a send
omission by the primary becomes a crash (the translation of Neiger and Toueg).

Against Table 1. Failover ``τ + 2δ + (f − 1)·max(τ, 2δ)`` meets Theorem 12's 2f·δ
up to τ for f = 1 only (see :mod:`.quorum`); blocking 2δ
meets Theorem 7's 2δ for f > 1 (Theorem 8 allows δ for f = 1: not reproduced). Degree
of replication falls short: this protocol needs n = 2f + 1, while Theorem 1 only demands
f + 1 and the paper reports a protocol with f + 1 servers. Its quorums are what make it
safe without knowing who omitted a message; a send-omission protocol with f + 1 servers
must instead rely on "a missing message proves its sender faulty", which smrkit does
not implement yet.

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
        "pb-send-omission",
        "primary-backup for f send-omission failures, n = 2f + 1 (seed 001 §5)",
        FailureModel.SEND_OMISSION,
    )
)
