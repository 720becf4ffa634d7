"""Raft (Ongaro and Ousterhout, 2014): state machine replication for omission failures
under partial synchrony — seed 003's OFT-SMR.

Algorithm. Servers are followers, candidates or leaders; time is divided into terms,
each with at most one leader. A follower that hears no leader for an election time-out
(drawn at random from ``out.rng``, so that candidates rarely collide) becomes a
candidate: it starts a new term, votes for itself and asks the others for their vote.
A server votes at most once per term, for a candidate whose log is at least as
up-to-date as its own (a later last term, or the same and at least as long); a
candidate with a majority of votes leads. The leader appends each client command to its
log and sends the entries each follower lacks (``AppendEntries``) with the index and
term of the entry before them; a follower accepts them only if it holds that entry
(the consistency check), else it answers with the first index of the conflicting term
so that the leader skips back a whole term per round trip (fast back-up). An entry is
*committed* once a majority holds it and it is of the leader's own term; the entries
before it are committed with it (§5.4.2: counting replicas of an earlier term's entry
is not enough — Figure 8 — so a new leader appends a no-op of its term at once). Every
server applies committed entries in log order to the replicated service
(:mod:`smrkit.protocols.service`), which applies each client's ``(client, seq)`` once
and answers retries from its session cache: exactly once. The leader answers the client.

PreVote and CheckQuorum (the Raft dissertation's §9.6 and §6.2; ``RaftConfig.pre_vote``
and ``check_quorum``, both on by default, both off the paper's Figure 2). A server whose
time-out fires first asks the others whether they would vote for it in the next term
(``PreVote``, which changes no term and no vote anywhere); a server says yes only if
the asker's log is at least as up to date and it has heard from no leader within the
shortest election time-out. Only with a majority of yeses does the asker start a term.
So a server that cannot win — cut off by a partition, or behind — never raises its
term, and on its return does not depose a working leader. A leader that has had no
reply from a majority for an election time-out (counted in its heartbeats, τ each)
steps down and points each client whose command it holds at another server — the
follower it heard from least recently, most likely across the cut. The leader's
heartbeat resends from a follower's ``match_index + 1`` only to a follower that has not
replied since the last heartbeat (what was sent may be lost); to the others it sends an
empty heartbeat or the next part, so that a follower kept busy is not sent the same
entries again every τ.

Reads go through the log like writes: a ``get`` is committed and applied at its place
in the log, so it sees every write acknowledged before it (linearizable) without any
assumption on clocks — a read index would save the log append but needs a heartbeat
round anyway, and a lease would need bounded clock drift, which the model does not give.

Persistence. The current term, the vote and the log are saved (``out.save``) in the
step that changes them; the runtime makes saves durable before the step's messages
leave, so no vote and no acknowledgement is sent before what it promises is on disk
(PySyncObj's issue #84: a vote not persisted lets a restarted server vote twice in a
term). The commit index is volatile and learnt again from the leader.

Snapshots. When the applied part of the log exceeds ``LOG_ENTRIES_MAX`` entries, a
server snapshots its replicated service and drops those entries; a follower that needs
entries the leader dropped gets the snapshot (``InstallSnapshot``, in parts of at most
``message_bytes_max``). Entries also travel in parts of at most ``message_bytes_max``.

Failure model. General omission — and crash, with or without restarts — of at most f
of n = 2f + 1 servers (any two majorities intersect); clients are correct.

Timing model. Safe under any timing, even asynchrony: election safety, log matching,
leader completeness and state machine safety depend on no delay bound. Live after GST
under ``partial-sync``: once messages take at most δ, a leader's heartbeats (every τ)
reach its followers before their time-outs (at least 2τ + 2δ), and after a leader's
crash a new one is elected within an election time-out, a pre-vote round and a vote
round. CheckQuorum needs no timing for its safety: a leader that steps down needlessly
costs an election, never a second leader in a term.

Bounds. n = 2f + 1 (with n = 2f a partition into halves commits nothing). After GST,
a command commits in 2δ after it reaches the leader (one round trip to a majority) and
is answered δ later; a leader is elected within ``[T, 2T] + 4δ`` of its predecessor's
crash (``T = 2τ + 2δ``; 2δ without PreVote), plus one time-out per split vote; a leader
cut off from a majority steps down within ``⌈T/τ⌉·τ + τ`` of its last reply from it.

:func:`build_raft_group` runs Raft over any deterministic state machine.
"""

from smrkit.protocols.raft.node import RaftConfig, RaftNode
from smrkit.protocols.raft.spec import build_raft_group

__all__ = ["RaftConfig", "RaftNode", "build_raft_group"]
