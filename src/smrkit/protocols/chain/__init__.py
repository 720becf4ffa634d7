"""Chain replication with a replicated master: seed 003's fault-safe SMR (OFS-SMR).

Algorithm (van Renesse and Schneider, OSDI 2004). The f + 1 replicas form a chain, head
→ … → tail. A client sends updates to the head; the head executes an update, appends it
to its log and forwards it to its successor; each replica applies what its predecessor
forwards, in log order, and forwards it on. The update is *committed* when the tail
applies it: the tail answers the client and sends an acknowledgement back up the chain,
on which each replica drops the update from its *Sent* list (the updates it forwarded
and that are not yet acknowledged). Queries go to the tail, whose state is the committed
state. Each replica's applied sequence is therefore a prefix of its predecessor's
(:mod:`~smrkit.protocols.chain.replica`).

The master (:mod:`~smrkit.protocols.chain.master`) holds the configuration — the epoch
and the chain (:mod:`~smrkit.protocols.chain.config`) — and is itself replicated: a Raft
group (:mod:`smrkit.protocols.raft`) of three master nodes by default, apart from the
chain's replicas, whose state machine is the configuration. It detects failures
(replicas heartbeat it every τ; a replica's predecessor reports a successor that stopped
acknowledging), and its Raft leader proposes each next configuration as a command. A
failed *head* is dropped and its successor becomes head (updates it never forwarded were
never committed: their clients retry); a failed *tail* is dropped and its predecessor
becomes the tail, committing everything it holds; a failed *middle* replica is dropped
and its predecessor resends its Sent list to its new successor, which applies what it
lacks — the paper's rule, correct because an acknowledged update reached the tail.
Chain replicas save no log and no state to disk: a restarted replica comes back empty,
as a new replica, and the master adds it as the new tail (never in its old place): the
old tail sends it its state, which it replays before it serves. Nothing is lost by
that, since every committed update is held by every replica still in the chain.

Fault safety (seed 003: "losing liveness but safely terminating when a failure is
detected"). A replica acts — applies, forwards, acknowledges, answers — only while it
holds a lease granted by a majority of master nodes for its epoch, and stops when it
suspects its successor; no replica hears of a new configuration before every lease of
the old one has run out (a master node waits a lease after applying it), and every chain
message carries its epoch (one of another epoch is counted and dropped). So a replica
that cannot make progress stops, and no replica makes progress after that without the
master's new configuration: with the master unavailable the chain stops, it never forks.
The broken variant ``chain-unsafe`` keeps acting without a lease and, when it suspects
its successor, makes itself the tail: the same faults then give two tails and
non-linearizable reads.

Failure and timing model. Replicas: crash, and crash+link (a cut link makes a replica
stop, and the master removes one end of it); f = n − 1 of n = f + 1 chain replicas may
fail, one at a time between reconfigurations. Master: a minority of its nodes may crash
(3 tolerate 1) or omit, and they may restart with what they saved (Raft's model). Clocks
are synchronized with real time (seed 001's model), which leases need; messages may be
delayed arbitrarily before GST and by at most δ after (partial synchrony). Safety holds
under every timing and every such fault; liveness only after GST, while a majority of
master nodes is up and the chain keeps a correct replica.

Bounds. An update takes (n + 1)·δ from head to client (n − 1 hops down, the request and
the reply), a query 2δ; a failure costs the master's detection (2τ + 2δ without a
heartbeat, or the acknowledgement time-out), the wait for the old epoch's leases (3τ +
2δ from the last renewal, taken after the master commits) and a Raft commit (2δ after it
reaches the leader) — measured by ``smrkit sim``.
"""
