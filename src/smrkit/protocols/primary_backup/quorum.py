"""The lease-and-quorum engine behind smrkit's omission-tolerant primary-backup protocols.

Omission failures cannot be masked by redundant paths: a server that fails to receive
cannot tell whether the sender or itself is at fault. They are masked by redundant
*servers* instead, with the translation of Neiger and Toueg (seed 001 §5): a server that
finds it cannot reach a quorum of f + 1 out of n = 2f + 1 halts, turning its omissions
into a crash. Any two quorums share a server, and every decision below needs one.

Rounds. At ``k·τ`` every server sends ``Heartbeat(k)`` to every other. A follower that
receives the round's heartbeat from its primary acknowledges it. The primary needs f
acknowledgements by ``k·τ + 2δ`` — a correct primary always gets them from the f + 1
correct servers — or it halts: it is faulty.

Election. A follower that has no heartbeat from its primary by ``k·τ + δ`` deserts it
(and stops acknowledging it), and votes, sending its log, for the lowest-ranked server it
heard from this round. A candidate with f + 1 votes (its own included) by ``k·τ + 2δ``
becomes the primary. In sub-round m (below) a voter votes for the first server that may
stand (heard this round, not far behind) ranked m-th or later (the primary deserted this
round left out of the ranking): voters may disagree
about a faulty server they heard only in part, never about a correct one, so once the
m-th server is correct every correct voter names it. (Voting for the m-th server of its
own list instead let one lossy server shift the lists apart, and split the vote round
after round.) A primary that kept its lease this round had f + 1 servers that did
not desert, so no candidate can gather f + 1 votes in the same round: never two
primaries (Pb1). A deserted primary halts at the same instant, just before. If the
candidate does not announce itself within δ, the voters try the next server 2δ later, so
each crash during an election costs 2δ, not a round. The new primary adopts the most
recent log among its votes (installed in the latest epoch, then longest: see "Logs are
ranked by the epoch that installed them"), sends it to everyone, and serves once f
servers have acknowledged it (2δ), or halts.

Replication. The primary applies a request, sends the update to every other server and
replies once f of them acknowledged it (2δ-blocking); an update that is not acknowledged
in time makes it halt. A committed entry is held by f + 1 servers, so every later quorum
of voters includes one of them, and the new primary's log contains it (the argument is
under "Logs are ranked by the epoch that installed them"). Followers apply
entries only once they are committed, so no replica ever has to undo one.

Failover. The primary fails just after a heartbeat; the next heartbeat is missed at
``(k+1)·τ``, the votes reach the candidate by ``(k+1)·τ + 2δ``, and each further crash of
a candidate before its ``Takeover`` reached anyone adds 2δ (the next sub-round). A
candidate that crashes in its takeover step, after its ``Takeover`` left, costs more: it
was primary for no time, but its followers acknowledged it, and since they cannot tell its
crash from an omission they must not vote again while it could still settle with their
acknowledgements and serve. They desert it at the next round's heartbeat: that crash costs
up to τ. A cascade longer than the sub-rounds that fit in a round waits for the next round
too. So each of the f − 1 failures after the first costs at most ``max(τ, 2δ)``, and the
failover time is at most ``τ + 2δ + (f − 1)·max(τ, 2δ)``; with n = 5 the plan aimed at
it (p1 crashes just after a heartbeat, p2 in its takeover step) reaches 2τ + 2δ. For
f = 1 that is τ + 2δ, Table 1's 2δ up to τ. For f ≥ 2 it is short of the paper's
``τ + 2f·δ``: the paper counts a candidate that was primary for an instant as a primary,
and smrkit's failover measure does not (a primary for no time serves nobody). Fencing
such a candidate off within the round would take leases shorter than a round, which this
engine does not have.

Rounds meet at their edges. With 2δ = τ (the real cluster's default) round k's lease
check and last election fall due at the very instant round k + 1 starts. The engine
does not depend on the order a runtime gives them: round k + 1 begins by settling
round k's business due at that instant (the lease check, the election, a takeover's
settling — each idempotent), so a primary that lost its followers halts, and a new
primary's first heartbeat already says it is the primary.

Logs in parts, never whole. Every message that carries log entries carries only what
its receiver lacks, in parts of at most ``message_bytes_max`` (estimated with
:func:`smrkit.core.sizes.encoded_bytes_bound`). Committed entries are the same at every
server, so a vote carries the voter's log from the lower of the two commit points
(the candidate's, as its heartbeat of the round said, and the voter's own), and a
takeover carries the new primary's log from the follower's commit point. A follower
that missed updates asks its primary once (``Behind``) and gets one part
(``Sync``); it asks for the next part when that one arrives, again after 2δ without
an answer, never on every update. A server whose commit point is more than
``LAG_ENTRIES_MAX`` entries behind the best one heard this round (a restarted replica)
neither stands nor votes: it fetches committed entries part by part from the server
that has most (``Fetch``/``Committed``), even when there is no primary, and takes part
again once it has caught up — so a vote or a takeover never has to carry a long gap
within 2δ.

Logs are ranked by the epoch that installed them. A server's log is *installed* in
epoch e when it holds all of the log of e's primary as that primary last announced its
length (``Takeover.length``, ``Sync.length``), in sync with it, or appends one of e's
updates; the primary's own log is installed in e at its election. A vote carries the
epoch that last installed the voter's log, and an election adopts the log installed
latest, then the longest — Viewstamped Replication's rule (its logs are ranked by the
view in which they were last in normal operation). Raft's rule, the epoch of the last
entry, is not enough here. A Raft leader commits an earlier term's entries only behind
one of its own (§5.4.2); this engine's new primary commits its whole adopted log at
settle, entries that keep their old epochs, so a server holding an uncommitted entry of
an intermediate epoch (a primary of that epoch, crashed and restarted) outranked every
holder of a committed entry, won an election and overwrote it: Raft's Figure 8,
``tests/protocols/testdata/quorum_figure8.txt``. Stamping the adopted tail with the new
epoch would mend that case only: a follower holding the first part of such a takeover
would hold a prefix stamped with the newest epoch, outranking the logs that hold the
committed entries after it. Three rules go with the ranking: a follower acknowledges
entries beyond its commit point only with a log installed in its primary's epoch (a log
caught up in part acknowledges only its commit point); a part of another log that would
shorten this one before the whole log has arrived is held back until the parts reach
the end of this log or of the whole log (a follower once dropped entries it had
acknowledged that way, ``quorum_takeover_parts.txt``, with f faulty servers); and a
restarted server takes its log for a prefix of its epoch's primary's only if it was
installed in that epoch (``quorum_restart_out_of_sync.txt``).

Why a committed entry survives, by induction over epochs. Facts: (1) an epoch has one
primary — a voter votes once per sub-round, and k·64 + m + 1 names one sub-round; (2) a
primary's log only grows during its epoch, and what a follower holds of it in sync is a
prefix of it; (3) a server's installing epoch only grows, and it is saved before any
acknowledgement leaves; (4) by the rules above, an acknowledgement of entry i beyond the
commit point comes from a log installed in the primary's epoch, and a log never loses an
entry to a part of another log that has not arrived whole; (5) a server acknowledges
only its primary, and a primary whose followers deserted to vote has lost its lease and
halts within that round (Election), so a voter's acknowledgements to an older primary
precede its vote. Claim: if entry i is committed in epoch e, the log adopted by the
primary of every later epoch e′ holds it at i. Let Q be the f + 1 servers that held it
when it was committed (the primary and f acknowledgers, their logs installed in e). The
f + 1 voters of e′ include some V in Q; at its vote V's log still holds i (4: it took
only e's updates, whole logs of epochs between e and e′, which hold i by induction, and
committed entries) and is installed in some epoch ≥ e (3). The adopted log L is
installed in an epoch e_L ≥ that. Where a part of a later epoch's log (before e′)
replaced entries of L since, that log holds i by induction, so those parts change
nothing at i. If e_L > e, L held the whole log of e_L's primary, which holds i by
induction (e < e_L < e′), and lost no entry since (4). If e_L = e, L's entries are e's
log's (2) or such parts, and L is at least as long as V's log, so L holds i. Committed
entries thus never change, and followers apply only those. The argument
needs the engine's timing only through (5), the lease, and restarts only through (3):
it holds for any number of crashes and restarts over time.

A client's word is evidence only where clients are correct. A client whose attempt
went unanswered says so on its next one (``ClientRequest.previous``), directly or
through a backup (``Unanswered``), and a primary that finds it never received the
attempt, or that its reply never arrived, halts: it omits messages. That is sound
under the failure models of seed 001, which assume correct clients, and it is how a
primary that drops one client's messages is found out. It is not sound against a
client that lies — and no word of a client's can be made sound: seed 000's argument is
that a server cannot tell its own omission from a client's, and a client that omits
on purpose is one. Nothing a correct server observes of its links to clients can
confirm the word either; only servers can corroborate, and they see nothing of those
links.

Untrusted clients. With ``clients_trusted`` off (the TCP runtime, whose clients hold
only a shared token; ``smrkit sim --untrusted-clients``) the engine takes no client's
word, so a lone client cannot halt a correct replica; server-to-server omissions are
still found out by the leases. A primary's omissions towards a client are not found
out at all: the client routes around them instead. A backup relays its requests to the
primary over the server-to-server link (:mod:`.client_relay`: it does so once the
client names a server that left it unanswered, and for the rest of the epoch), and the
standard client turns to the next server at its first time-out (``RELAY_ROTATE_AFTER``).
A client whose link to the primary fails at t sent its last unanswered attempt at t
at the latest: its retry, a time-out T = 8δ later, reaches a backup within δ, the
primary within 2δ, is committed within 2δ and its reply is back within 2δ more — the
client is answered by t + T + 6δ < t + 2T, before its next time-out, and stays relayed.
So the outage it sees is one unanswered send; a client pays each faulty server at most
once (a faulty relay costs it one more time-out and the next server), and the service
is a (k, Δ)-bofo server with k = f·(C + 1) for C clients (f outages of the servers'
failures, and at most f per client) and Δ = failover + 14δ + T, the failover term of
the trusted claims with one time-out where the client's word needed three. A lying
client makes only its own requests travel one hop more.

Desertion is for one round. A follower deserts its primary for the round in which it
missed the heartbeat, and does not vote for it in that round (a late heartbeat does
not make it a candidate). A server that restarts comes back as a follower and is a
candidate like any other: a deserter that kept excluding it would deadlock the vote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, rank
from smrkit.core.messages import (
    ClientReply,
    ClientRequest,
    Message,
    PrimaryHint,
    RelayedRequest,
)
from smrkit.core.node import SAME_INSTANT_S, Out, Replica, Timer
from smrkit.core.ops import Command
from smrkit.core.sizes import encoded_bytes_bound
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.protocols.primary_backup.client_relay import RELAY_ROTATE_AFTER, ClientRelay
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec
from smrkit.protocols.service import Freshness, ReplicatedService

ROTATE_AFTER = 3
"""The standard client tries another server after this many time-outs in a row; a
primary that drops one client's requests is found out only then."""

EPOCHS_PER_ROUND = 64
"""Epoch of the election in sub-round m of round k: ``k·64 + m + 1`` (0 is p1's start)."""

LAG_ENTRIES_MAX = 1024
"""A server whose commit point is further than this behind the best commit point heard
in the round neither stands for election nor votes: it catches up first."""

PART_OVERHEAD_BYTES = 256
"""Room for a log-carrying message's other fields when its entries are sized."""

# --- messages -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    round: int
    epoch: int
    primary: bool
    log_length: int
    commit: int


@dataclass(frozen=True, slots=True)
class HeartbeatAck(Message):
    round: int
    epoch: int


@dataclass(frozen=True, slots=True)
class Vote(Message):
    """A deserter's vote in sub-round ``sub`` of ``round``: its log, last installed in
    epoch ``installed`` and of ``length`` entries, sent from entry ``start`` on (the
    entries before are committed, the candidate has them). A long log comes in several
    votes with successive ``start``."""

    round: int
    sub: int
    installed: int
    length: int
    start: int
    epochs: tuple[int, ...]
    commands: tuple[Command, ...]


@dataclass(frozen=True, slots=True)
class Takeover(Message):
    """The new primary of ``epoch``: its log from entry ``start`` on (the follower has
    the entries before, committed), the first part of ``length`` entries; the other
    parts follow as :class:`Sync`."""

    epoch: int
    start: int
    epochs: tuple[int, ...]
    commands: tuple[Command, ...]
    commit: int
    length: int


@dataclass(frozen=True, slots=True)
class Ack(Message):
    """ "I hold the first ``log_length`` entries of epoch ``epoch``'s log"."""

    epoch: int
    log_length: int


@dataclass(frozen=True, slots=True)
class Update(Message):
    epoch: int
    index: int
    command: Command
    commit: int


@dataclass(frozen=True, slots=True)
class Behind(Message):
    """A follower missed updates: it holds only ``have`` entries."""

    epoch: int
    have: int


@dataclass(frozen=True, slots=True)
class Unanswered(Message):
    """A backup tells the primary: client ``client`` came to me with ``seq`` after its
    previous attempt, sent to you, got no answer."""

    client: NodeId
    seq: int


@dataclass(frozen=True, slots=True)
class Sync(Message):
    """A part of the primary's log, from entry ``start`` on; the whole log has
    ``length`` entries."""

    epoch: int
    start: int
    epochs: tuple[int, ...]
    commands: tuple[Command, ...]
    commit: int
    length: int


@dataclass(frozen=True, slots=True)
class Fetch(Message):
    """A server far behind asks any other for committed entries after ``have``."""

    have: int


@dataclass(frozen=True, slots=True)
class Committed(Message):
    """Committed entries from ``start`` on; the sender has committed ``commit``."""

    start: int
    epochs: tuple[int, ...]
    commands: tuple[Command, ...]
    commit: int


# --- configuration and state ----------------------------------------------------------


@dataclass(frozen=True)
class QuorumConfig:
    """A replica's immutable configuration: the servers in rank order and the others,
    the clients, τ, δ, the largest part of a log a message carries, the f it tolerates
    ((n − 1) / 2), the election sub-rounds that fit in a round, the clients' time-out
    and whether a client's word counts as evidence."""

    servers: tuple[NodeId, ...]
    others: tuple[NodeId, ...]
    clients: tuple[NodeId, ...]
    tau_s: float
    delta_s: float
    part_bytes_max: int
    f: int
    subs: int
    client_timeout_s: float
    clients_trusted: bool

    @classmethod
    def of(cls, node_id: NodeId, config: ProtocolConfig) -> QuorumConfig:
        servers = tuple(sorted(config.servers, key=rank))
        f = (len(servers) - 1) // 2
        # Sub-rounds end before the next round starts (2(m + 1)δ < τ), so a vote of
        # round k never meets a heartbeat of round k + 1.
        fitting = sum(1 for m in range(f) if 2 * (m + 1) * config.delta_s < config.tau_s)
        return cls(
            servers,
            tuple(s for s in servers if s != node_id),
            config.clients,
            config.tau_s,
            config.delta_s,
            max(1, config.message_bytes_max - PART_OVERHEAD_BYTES),
            f,
            max(1, fitting),
            client_timeout(config.delta_s, config.tau_s),
            config.clients_trusted,
        )


ROUND = "round"
DESERT = "desert"  # (DESERT, k): k·τ + δ
VOTE = "vote"  # (VOTE, k, m): k·τ + δ + 2mδ
ELECT = "elect"  # (ELECT, k, m): k·τ + 2δ + 2mδ
LEASE = "lease"  # (LEASE, k): k·τ + 2δ
SETTLE = "settle"  # (SETTLE, epoch): the election's instant + 2δ
COMMIT_BY = "commit-by"  # (COMMIT_BY, index): update + 2δ


class QuorumReplica(Replica):
    def __init__(self, node_id: NodeId, config: ProtocolConfig) -> None:
        super().__init__(node_id)
        if node_id not in config.servers:
            raise ValueError(f"{node_id} is not one of the servers {config.servers}")
        self.config = QuorumConfig.of(node_id, config)
        self.service = ReplicatedService(config.app, config.sessions_max)
        self.applied = self.service.log
        self.entries: list[Command] = []
        self.epochs: list[int] = []
        self.commit = 0
        self.epoch = 0
        self.primary: NodeId | None = self.config.servers[0]
        self.round = 0
        self.acked_round = -1
        self.heard: dict[NodeId, int] = {}
        self.commits: dict[NodeId, tuple[int, int]] = {}
        """Each server's commit point as its latest heartbeat said: ``(round, commit)``."""
        self.deserted: tuple[NodeId, int] | None = None
        """The primary this server deserted, and in which round (it is no candidate in
        that round)."""
        self.deserted_round = -1
        self.votes: dict[tuple[int, int], dict[NodeId, list[Any] | None]] = {}
        """Ballots by (round, sub-round): ``[installed, length, epochs, commands, base]``
        of a voter's log as received so far, ``base`` the committed entries it started
        from (``None``: this server's own, read at election)."""
        self.lease_round: int | None = None
        self.lease_acks: set[NodeId] = set()
        self.settling = False
        self.settle_at = math.inf
        self.match: dict[NodeId, int] = {}
        self.waiting: dict[int, tuple[NodeId, ClientRequest]] = {}
        self.held: list[tuple[NodeId, ClientRequest]] = []
        self.serving_since = 0.0 if node_id == self.config.servers[0] else math.inf
        self.replied_at: dict[NodeId, tuple[int, float]] = {}
        self.in_sync = True
        """Whether this log is a prefix of the current primary's: only then may the
        primary's commit point be applied to it."""
        self.asked: tuple[NodeId, int, float] | None = None
        """The catch-up request under way: to whom, from which entry on, and when."""
        self.installed = 0
        """The epoch whose primary's log this log last held whole (see "Logs are ranked
        by the epoch that installed them")."""
        self.staged: tuple[int, int, list[int], list[Command]] | None = None
        """Parts of the current primary's log held back, as ``(epoch, start, epochs,
        commands)``: spliced in, they would shorten this log before the whole arrived."""
        self._saved = (0, 0, 0, 0)
        self._changed_from = 0
        self.client_relay = None if config.clients_trusted else ClientRelay(config.sessions_max)
        """Where clients are untrusted: the requests this backup relays to the primary
        (:mod:`.client_relay`)."""

    # --- roles --------------------------------------------------------------------------

    def become_primary(
        self, epoch: int, elected_at: float, out: Out, voters: dict[NodeId, int]
    ) -> None:
        """Won the election due at ``elected_at``: announce the adopted log to every
        server (what each lacks, in parts), and serve once f servers hold all of it
        (or halt) 2δ later. ``voters`` maps each voter to a commit point it surely has
        (where its vote started)."""
        self.is_primary = True
        self.primary = self.id
        self.epoch = epoch
        self.settling = True
        # From the election's instant, not from when the step ran: a late step must not
        # move the deadline (a runtime orders timers by their instants).
        self.settle_at = elected_at + 2 * self.config.delta_s
        self.serving_since = math.inf
        self.match = {}
        self.asked = None
        self.staged = None
        self.installed = epoch
        length = len(self.entries)
        for server in self.config.others:
            known = max(self.commits.get(server, (-1, 0))[1], voters.get(server, 0))
            start = min(known, self.commit) + 1
            # A voter gets all it lacks (the takeover waits for it; it was not far behind
            # when it voted). Any other server far behind gets the first part and asks
            # for the rest.
            lagging = server not in voters and known + LAG_ENTRIES_MAX < self.commit
            first = True
            for begin, end in self._parts(start, length, only_first=lagging):
                epochs, commands = (
                    tuple(self.epochs[begin - 1 : end]),
                    tuple(self.entries[begin - 1 : end]),
                )
                if first:
                    out.send(server, Takeover(epoch, begin, epochs, commands, self.commit, length))
                    first = False
                else:
                    out.send(server, Sync(epoch, begin, epochs, commands, self.commit, length))
        out.send_all(self.service.clients_to_tell(self.config.clients), PrimaryHint(self.id, epoch))
        out.set_timer_at((SETTLE, epoch), self.settle_at)

    # --- log ----------------------------------------------------------------------------

    def _ballot_epoch(self) -> int:
        """What a ballot of this log says of its age: the epoch that last installed it."""
        return self.installed

    def _take_part(
        self,
        epoch: int,
        start: int,
        epochs: tuple[int, ...],
        commands: tuple[Command, ...],
        length: int,
    ) -> bool | None:
        """Take a part of epoch ``epoch``'s log (entries ``start …`` of ``length``), after
        the parts held back before it: ``None`` if it is held back too, as splicing it in
        would shorten this log before the whole log arrived — the entries it would drop
        may be committed ones this server acknowledged; else as :meth:`_splice`."""
        staged = self.staged
        if staged is not None and staged[0] == epoch and start == staged[1] + len(staged[3]):
            start, epochs, commands = staged[1], (*staged[2], *epochs), (*staged[3], *commands)
        self.staged = None
        if start - 1 + len(commands) < min(len(self.entries), length):
            self.staged = (epoch, start, list(epochs), list(commands))
            return None
        return self._splice(start, epochs, commands, length)

    def _staged_end(self) -> int | None:
        """The last entry of the parts held back for the current epoch, if any."""
        staged = self.staged
        if staged is None or staged[0] != self.epoch:
            return None
        return staged[1] + len(staged[3]) - 1

    def _note_installed(self, length: int) -> None:
        """This log now holds the current primary's whole log of ``length`` entries (as
        the primary announced it): it is installed in the current epoch."""
        if self.in_sync and len(self.entries) >= length:
            self.installed = self.epoch

    def _parts(self, start: int, end: int, *, only_first: bool = False) -> list[tuple[int, int]]:
        """Entries ``start … end`` of this log cut into parts ``(first, last)`` of at most
        ``part_bytes_max`` (at least one entry each); ``[(start, start - 1)]`` if empty."""
        parts: list[tuple[int, int]] = []
        begin = start
        while begin <= end:
            size = 0
            last = begin - 1
            while last < end:
                entry = encoded_bytes_bound(self.entries[last]) + 9
                if last >= begin and size + entry > self.config.part_bytes_max:
                    break
                size += entry
                last += 1
            parts.append((begin, last))
            if only_first:
                break
            begin = last + 1
        return parts or [(start, start - 1)]

    def _adopt(self, epochs: tuple[int, ...], commands: tuple[Command, ...]) -> bool:
        """Replace the uncommitted tail by another log (committed entries never change);
        ``False`` if the other log disagrees with what was applied."""
        applied = len(self.applied)
        if len(commands) < applied or tuple(self.entries[:applied]) != commands[:applied]:
            self.note("adopted log disagrees with applied entries")
            return False
        same = 0
        while (
            same < min(len(commands), len(self.entries))
            and self.entries[same] == commands[same]
            and self.epochs[same] == epochs[same]
        ):
            same += 1
        self._changed_from = min(self._changed_from, same)
        self.entries = list(commands)
        self.epochs = list(epochs)
        self.commit = min(self.commit, len(self.entries))
        return True

    def _splice(
        self, start: int, epochs: tuple[int, ...], commands: tuple[Command, ...], length: int
    ) -> bool:
        """Take a part of another log (entries ``start …`` of a log of ``length``): this
        log up to ``start - 1`` and the part. A part that ends before this server's
        applied entries, with more parts to come, keeps them (they are committed, so the
        other log has them too). ``False`` if the part disagrees with applied entries."""
        keep = start - 1
        assert keep <= len(self.entries), (keep, len(self.entries))
        new_epochs = (*self.epochs[:keep], *epochs)
        new_commands = (*self.entries[:keep], *commands)
        applied = len(self.applied)
        if len(new_commands) < min(applied, length):
            overlap = len(new_commands)
            if tuple(self.entries[keep:overlap]) != commands:
                self.note("adopted log disagrees with applied entries")
                return False
            new_epochs = (*new_epochs, *self.epochs[overlap:applied])
            new_commands = (*new_commands, *self.entries[overlap:applied])
        return self._adopt(new_epochs, new_commands)

    def _held_of_epoch(self) -> int:
        """How many entries of the current primary's log this server acknowledges: all
        of its log once it is in sync and installed in this epoch, else only the
        committed ones. A part of the log is not acknowledged beyond the commit point,
        so every server that counts towards a commit ranks its log by this epoch."""
        installed = self.in_sync and self.installed == self.epoch
        return len(self.entries) if installed else self.commit

    def _advance(self, commit: int) -> None:
        """Entries up to ``commit`` are committed: apply them."""
        self.commit = max(self.commit, min(commit, len(self.entries)))
        while len(self.applied) < self.commit:
            self.service.execute(self.entries[len(self.applied)])

    # --- handlers -----------------------------------------------------------------------

    def on_start(self, out: Out) -> None:
        if "length" in out.saved:
            self._recover(out)
            return
        out.save("length", 0)  # a restart finds this and recovers, even with an empty log
        if self.id == self.config.servers[0]:
            self.is_primary = True
        self._start_round(0, out)

    def _recover(self, out: Out) -> None:
        """Restarted with what it saved: its log, epoch and commit point. It comes back as
        a follower of nobody and joins whichever primary's heartbeat it hears first (a
        newer epoch than its own, or the same one), catching up with ``Behind``."""
        saved = out.saved
        length = saved["length"]
        assert isinstance(length, int), length
        for index in range(1, length + 1):
            entry = saved[f"entry/{index}"]
            assert isinstance(entry, (tuple, list)) and len(entry) == 2, entry
            epoch, command = entry
            assert isinstance(epoch, int) and isinstance(command, Command), entry
            self.epochs.append(epoch)
            self.entries.append(command)
        epoch_saved, commit_saved = saved.get("epoch", 0), saved.get("commit", 0)
        installed_saved = saved.get("installed", 0)
        assert isinstance(epoch_saved, int) and isinstance(commit_saved, int)
        assert isinstance(installed_saved, int)
        self.epoch = epoch_saved
        self.installed = installed_saved
        # Only a log installed in its epoch surely is a prefix of that epoch's primary's
        # log; any other asks for the primary's log from its commit point.
        self.in_sync = self.installed == self.epoch
        self._advance(commit_saved)
        self._saved = (len(self.entries), self.epoch, self.commit, self.installed)
        self._changed_from = len(self.entries)
        self.primary = None
        self.serving_since = math.inf
        self.round = math.ceil(out.now / self.config.tau_s)
        self.heard[self.id] = self.round
        self.commits[self.id] = (self.round, self.commit)
        out.set_timer_at(ROUND, self.round * self.config.tau_s)

    def _persist(self, out: Out) -> None:
        """Make the log, epoch, commit point and installing epoch durable before this
        step's messages leave (an ``Ack`` promises the entries survive a restart)."""
        length, epoch, commit, installed = self._saved
        first = min(self._changed_from, length, len(self.entries))
        for index in range(first, len(self.entries)):
            out.save(f"entry/{index + 1}", (self.epochs[index], self.entries[index]))
        if len(self.entries) != length or first < len(self.entries):
            out.save("length", len(self.entries))
        if self.epoch != epoch:
            out.save("epoch", self.epoch)
        if self.commit != commit:
            out.save("commit", self.commit)
        if self.installed != installed:
            out.save("installed", self.installed)
        self._saved = (len(self.entries), self.epoch, self.commit, self.installed)
        self._changed_from = len(self.entries)

    def on_timer(self, timer: Timer, out: Out) -> None:
        self._on_timer(timer, out)
        self._persist(out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        self._on_message(src, msg, out)
        self._persist(out)

    def _on_timer(self, timer: Timer, out: Out) -> None:
        if timer == ROUND:
            self._close_round(self.round, out)
            if not self._halting(out):
                self._start_round(self.round + 1, out)
            return
        assert isinstance(timer, tuple), timer
        kind = timer[0]
        if kind == DESERT:
            self._desert(timer[1], out)
        elif kind == VOTE:
            self._vote(timer[1], timer[2], out)
        elif kind == ELECT:
            self._elect(timer[1], timer[2], out)
        elif kind == LEASE:
            self._check_lease(timer[1], out)
        elif kind == SETTLE:
            self._settle(timer[1], out)
        else:
            assert kind == COMMIT_BY, timer
            if self.is_primary and self.commit < timer[1]:
                out.halt(f"update {timer[1]} not acknowledged by a quorum within 2δ")

    @staticmethod
    def _halting(out: Out) -> bool:
        return out.halt_reason is not None

    def _on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, ClientRequest):
            self._on_request(src, msg, out)
        elif src not in self.config.others:
            self.note(f"{type(msg).__name__} from a stranger")
        elif isinstance(msg, Heartbeat):
            self._on_heartbeat(src, msg, out)
        elif isinstance(msg, HeartbeatAck):
            if self.is_primary and msg.round == self.lease_round and msg.epoch == self.epoch:
                self.lease_acks.add(src)
        elif isinstance(msg, Vote):
            self._on_vote(src, msg)
        elif isinstance(msg, Takeover):
            self._on_takeover(src, msg, out)
        elif isinstance(msg, Ack):
            self._on_ack(src, msg, out)
        elif isinstance(msg, Update):
            self._on_update(src, msg, out)
        elif isinstance(msg, Behind):
            if self.is_primary and msg.epoch == self.epoch:
                self._send_part(src, msg.have, out)
        elif isinstance(msg, Sync):
            self._on_sync(src, msg, out)
        elif isinstance(msg, Fetch):
            self._on_fetch(src, msg, out)
        elif isinstance(msg, Committed):
            self._on_committed(src, msg, out)
        elif isinstance(msg, Unanswered):
            self._on_unanswered(msg, out)
        elif isinstance(msg, RelayedRequest):
            self._on_relayed(src, msg, out)
        elif isinstance(msg, ClientReply):
            self._on_relayed_reply(msg, out)
        else:
            self.note(f"unexpected {type(msg).__name__}")

    # --- rounds, leases and elections ---------------------------------------------------

    def _start_round(self, k: int, out: Out) -> None:
        self.round = k
        self.heard[self.id] = k
        self.commits[self.id] = (k, self.commit)
        self.votes = {key: v for key, v in self.votes.items() if key[0] >= k - 1}
        beat = Heartbeat(k, self.epoch, self.is_primary, len(self.entries), self.commit)
        out.send_all(self.config.others, beat)
        start = k * self.config.tau_s
        if self.is_primary and not self.settling:
            self.lease_round = k
            self.lease_acks = set()
            out.set_timer_at((LEASE, k), start + 2 * self.config.delta_s)
        else:
            out.set_timer_at((DESERT, k), start + self.config.delta_s)
        out.set_timer_at(ROUND, start + self.config.tau_s)

    def _close_round(self, k: int, out: Out) -> None:
        """Round k's business due at the instant round k + 1 starts, done before it
        starts, whatever order the runtime fires timers due at one instant in: the
        lease check, the last sub-round's election, a takeover's settling. Each is
        idempotent; those due earlier have already run and change nothing now."""
        tau_s, delta_s = self.config.tau_s, self.config.delta_s
        end = k * tau_s + tau_s

        def due(at: float) -> bool:
            return abs(at - end) <= SAME_INSTANT_S

        if due(k * tau_s + 2 * delta_s):
            self._check_lease(k, out)
        last = self.config.subs - 1
        if not self._halting(out) and due(k * tau_s + (2 + 2 * last) * delta_s):
            self._elect(k, last, out)
        if not self._halting(out) and self.settling and due(self.settle_at):
            self._settle(self.epoch, out)

    def _on_heartbeat(self, src: NodeId, beat: Heartbeat, out: Out) -> None:
        self.heard[src] = max(self.heard.get(src, -1), beat.round)
        if beat.round >= self.commits.get(src, (-1, 0))[0]:
            self.commits[src] = (beat.round, beat.commit)
        if not self.is_primary and self.primary is None and not beat.primary:
            self._fetch_if_far_behind(src, beat.commit, out)
        if self.is_primary or not beat.primary or beat.epoch < self.epoch:
            return
        if self.primary is None:
            if self.deserted_round == beat.round:
                return  # deserted this round: no acknowledgement until the next
            self.primary = src  # back to a primary that kept its lease (or a newer one)
        elif src != self.primary and beat.epoch == self.epoch:
            self.note("heartbeat from a second primary of my epoch")
            return
        if beat.epoch > self.epoch:
            # A newer primary whose takeover this server missed (or a restart): its own
            # tail may be another epoch's, so it commits nothing until a Sync replaces it.
            self.in_sync = False
            self.asked = None
        self.primary = src
        self.epoch = beat.epoch
        self.deserted = None
        self.acked_round = beat.round
        out.send(src, HeartbeatAck(beat.round, beat.epoch))
        if self.in_sync:
            self._advance(beat.commit)
        if not self.in_sync or beat.log_length > len(self.entries):
            self._ask(out)

    def _check_lease(self, k: int, out: Out) -> None:
        if self.is_primary and self.lease_round == k and len(self.lease_acks) < self.config.f:
            out.halt(f"round {k}: {len(self.lease_acks)} of {self.config.f} acknowledgements")

    def _desert(self, k: int, out: Out) -> None:
        if self.is_primary or self.acked_round >= k:
            return
        if self.primary is not None:
            self.deserted = (self.primary, k)
        self.primary = None
        self.deserted_round = k
        self._vote(k, 0, out)

    def _best_commit(self, k: int) -> int:
        return max(commit for r, commit in self.commits.values() if r >= k)

    def _candidates(self, k: int) -> list[NodeId]:
        """Who may stand in round k: servers heard this round, but not the primary
        deserted this round, nor a server whose heartbeat of the round said it is far
        behind. Voters that heard the same heartbeats agree on the list."""
        floor = self._best_commit(k) - LAG_ENTRIES_MAX
        return [
            s
            for s in self.config.servers
            if self.heard.get(s, -1) >= k
            and self.deserted != (s, k)
            and self.commits.get(s, (-1, 0))[0] >= k
            and self.commits[s][1] >= floor
        ]

    def _candidate(self, k: int, m: int) -> NodeId | None:
        """Whom to vote for in sub-round ``m`` of round ``k``: the first server that may
        stand (``_candidates``) ranked m-th or later, the primary deserted this round left
        out of the ranking (see "Election" in the module docstring)."""
        eligible = set(self._candidates(k))
        ranking = [s for s in self.config.servers if self.deserted != (s, k)]
        return next((s for s in ranking[m:] if s in eligible), None)

    def _vote(self, k: int, m: int, out: Out) -> None:
        if self.is_primary or self.primary is not None or k != self.round or m >= self.config.subs:
            return
        if self.commit + LAG_ENTRIES_MAX < self._best_commit(k):
            return  # far behind: catch up first (``_fetch_if_far_behind``)
        candidate = self._candidate(k, m)
        if candidate is None:
            return
        tau_s, delta_s = self.config.tau_s, self.config.delta_s
        if candidate == self.id:
            self.votes.setdefault((k, m), {})[self.id] = None
            out.set_timer_at((ELECT, k, m), k * tau_s + (2 + 2 * m) * delta_s)
        else:
            start = min(self.commits[candidate][1], self.commit) + 1
            installed = self._ballot_epoch()
            for begin, end in self._parts(start, len(self.entries)):
                part = (tuple(self.epochs[begin - 1 : end]), tuple(self.entries[begin - 1 : end]))
                out.send(candidate, Vote(k, m, installed, len(self.entries), begin, *part))
        if m + 1 < self.config.subs:
            out.set_timer_at((VOTE, k, m + 1), k * tau_s + (3 + 2 * m) * delta_s)

    def _on_vote(self, src: NodeId, vote: Vote) -> None:
        """Collect a ballot, part by part: the first part is completed with this server's
        own committed entries."""
        if vote.sub >= self.config.subs:
            return
        ballots = self.votes.setdefault((vote.round, vote.sub), {})
        ballot = ballots.get(src)
        if ballot is None:
            keep = vote.start - 1
            if keep > self.commit:
                self.note("vote from beyond my commit point")
                return
            ballot = [vote.installed, vote.length, self.epochs[:keep], self.entries[:keep], keep]
            ballots[src] = ballot
        elif vote.start != len(ballot[3]) + 1:
            self.note("vote part out of order")
            return
        ballot[2].extend(vote.epochs)
        ballot[3].extend(vote.commands)

    def _elect(self, k: int, m: int, out: Out) -> None:
        if self.is_primary or self.primary is not None:
            return
        logs: list[tuple[tuple[int, int], list[int], list[Command]]] = []
        voters: dict[NodeId, int] = {}
        for voter, ballot in self.votes.get((k, m), {}).items():
            if ballot is None:
                own = (self._ballot_epoch(), len(self.entries))
                logs.append((own, self.epochs, self.entries))
            elif len(ballot[3]) == ballot[1]:
                logs.append(((ballot[0], ballot[1]), ballot[2], ballot[3]))
                voters[voter] = ballot[4]
            else:
                self.note(f"incomplete vote from {voter}")
        if len(logs) < self.config.f + 1:
            return
        _, epochs, commands = max(logs, key=lambda log: log[0])
        self._adopt(tuple(epochs), tuple(commands))
        elected_at = k * self.config.tau_s + (2 + 2 * m) * self.config.delta_s
        self.become_primary(k * EPOCHS_PER_ROUND + m + 1, elected_at, out, voters)

    def _on_takeover(self, src: NodeId, takeover: Takeover, out: Out) -> None:
        if takeover.epoch <= self.epoch:
            self.note("takeover of an old epoch")
            return
        if self.is_primary:
            self.note("takeover while primary")
            return
        if takeover.start - 1 > self.commit:
            self.in_sync = False  # a takeover from beyond what this server has: ask
            self.staged = None
        else:
            taken = self._take_part(
                takeover.epoch,
                takeover.start,
                takeover.epochs,
                takeover.commands,
                takeover.length,
            )
            self.in_sync = taken is True
        self.epoch = takeover.epoch
        self.primary = src
        self.deserted = None
        self.asked = None
        if self.in_sync:
            self._advance(takeover.commit)
            self._note_installed(takeover.length)
        out.send(src, Ack(self.epoch, self._held_of_epoch()))

    def _settle(self, epoch: int, out: Out) -> None:
        if not self.is_primary or epoch != self.epoch or not self.settling:
            return
        holders = sum(1 for length in self.match.values() if length >= len(self.entries))
        if holders < self.config.f:
            out.halt(f"takeover of epoch {epoch}: {holders} of {self.config.f} acknowledgements")
            return
        self.settling = False
        self.serving_since = out.now
        self._advance(len(self.entries))
        held, self.held = self.held, []
        for src, request in held:
            self._on_request(src, request, out)

    # --- catching up --------------------------------------------------------------------

    def _ask(self, out: Out) -> None:
        """Ask the primary for what this server misses: once, and again only if no part
        came within 2δ (it was lost). From the commit point if this log may hold another
        epoch's tail, else from its end."""
        assert self.primary is not None
        staged_end = self._staged_end()
        if staged_end is not None:
            have = staged_end  # the next part after those held back
        else:
            have = self.commit if not self.in_sync else len(self.entries)
        if self.asked is not None:
            to, asked_have, at = self.asked
            if to == self.primary and asked_have == have and out.now < at + 2 * self.config.delta_s:
                return
        self.asked = (self.primary, have, out.now)
        out.send(self.primary, Behind(self.epoch, have))

    def _send_part(self, dst: NodeId, have: int, out: Out) -> None:
        """Answer a ``Behind``: the next part of this primary's log after entry ``have``."""
        have = min(have, len(self.entries))
        begin, end = self._parts(have + 1, len(self.entries), only_first=True)[0]
        epochs, commands = tuple(self.epochs[begin - 1 : end]), tuple(self.entries[begin - 1 : end])
        out.send(dst, Sync(self.epoch, begin, epochs, commands, self.commit, len(self.entries)))

    def _on_sync(self, src: NodeId, sync: Sync, out: Out) -> None:
        if self.is_primary or src != self.primary or sync.epoch != self.epoch:
            return
        if sync.start > len(self.entries) + 1:
            return
        keep = sync.start - 1
        if not self.in_sync and keep > self.commit and keep != self._staged_end():
            return  # an answer to an older Behind: only a Sync from the commit point fits
        if self.asked is not None and self.asked[1] == keep:
            self.asked = None
        adopted = self._take_part(self.epoch, sync.start, sync.epochs, sync.commands, sync.length)
        self.in_sync = self.in_sync or adopted is True
        if self.in_sync:
            self._advance(sync.commit)
            self._note_installed(sync.length)
        out.send(src, Ack(self.epoch, self._held_of_epoch()))
        more = self.in_sync and len(self.entries) < sync.length
        if (more or self.staged is not None) and self.asked is None:
            self._ask(out)  # the next part

    def _fetch_if_far_behind(self, src: NodeId, commit: int, out: Out) -> None:
        """With no primary to ask, a server far behind fetches committed entries from a
        server that has them — part by part, one request at a time."""
        if commit <= self.commit + LAG_ENTRIES_MAX:
            return
        if self.asked is not None and out.now < self.asked[2] + 2 * self.config.delta_s:
            return
        self.asked = (src, self.commit, out.now)
        out.send(src, Fetch(self.commit))

    def _on_fetch(self, src: NodeId, fetch: Fetch, out: Out) -> None:
        have = min(fetch.have, self.commit)
        begin, end = self._parts(have + 1, self.commit, only_first=True)[0]
        epochs, commands = tuple(self.epochs[begin - 1 : end]), tuple(self.entries[begin - 1 : end])
        out.send(src, Committed(begin, epochs, commands, self.commit))

    def _on_committed(self, src: NodeId, part: Committed, out: Out) -> None:
        if self.is_primary or part.start != self.commit + 1:
            return
        if self.asked is not None and self.asked[0] == src:
            self.asked = None
        if not part.commands:
            return
        end = part.start + len(part.commands) - 1
        if tuple(self.entries[part.start - 1 : end]) == part.commands:
            self._advance(end)  # this log has them: keep what follows, acknowledged or not
        elif self._splice(part.start, part.epochs, part.commands, end):
            self._advance(end)
        if self.primary is None and part.commit > self.commit:
            self.asked = (src, self.commit, out.now)
            out.send(src, Fetch(self.commit))

    # --- replication --------------------------------------------------------------------

    def _on_request(self, src: NodeId, request: ClientRequest, out: Out) -> None:
        if not self.is_primary:
            relay = self.client_relay
            if self.primary is not None and relay is not None and relay.wants(request, self.epoch):
                relay.relay(src, self.primary, self.epoch, request, out)  # Pb3: not enqueued here
            elif self.primary is not None:
                out.send(src, PrimaryHint(self.primary, self.epoch))
                if request.previous == self.primary and self.config.clients_trusted:
                    out.send(self.primary, Unanswered(request.client, request.seq))
            return  # Pb3: not enqueued
        if self.settling:
            self.held.append((src, request))
            return
        freshness = self.service.freshness(request.client, request.seq)
        key = (request.client, request.seq)
        if freshness is Freshness.DUPLICATE and self._reroute_waiting(src, key):
            return  # still waiting for its quorum; the reply follows, by the latest path
        if request.previous == self.id and self.config.clients_trusted:
            evidence = self._omission_evidence(key, freshness, out.now, hops=1)
            if evidence is not None:
                out.halt(evidence)
                return
        admitted = self.service.admit(src, request, out)
        if admitted is None:
            if freshness is Freshness.DUPLICATE:
                self.replied_at[request.client] = (request.seq, out.now)
            return
        command, _ = admitted
        self.entries.append(command)
        self.epochs.append(self.epoch)
        index = len(self.entries)
        self.waiting[index] = (src, request)
        out.send_all(self.config.others, Update(self.epoch, index, command, self.commit))
        if self.config.f == 0:
            self._commit_to(index, out)
        else:
            out.set_timer((COMMIT_BY, index), 2 * self.config.delta_s)

    def _reroute_waiting(self, src: NodeId, key: tuple[NodeId, int]) -> bool:
        """If ``key`` waits for its quorum, send its reply where its latest copy came
        from (the client, or a backup relaying for it); ``False`` if it does not wait."""
        for index, (_, request) in self.waiting.items():
            if (request.client, request.seq) == key:
                self.waiting[index] = (src, request)
                return True
        return False

    def _on_relayed(self, src: NodeId, relayed: RelayedRequest, out: Out) -> None:
        """A backup passes on a client's request (:mod:`.client_relay`): the primary
        serves it and answers the backup; any other server drops it (Pb3)."""
        if self.client_relay is None or not self.is_primary:
            self.note("relayed request while not primary")
            return
        self._on_request(src, relayed.request, out)

    def _on_relayed_reply(self, reply: ClientReply, out: Out) -> None:
        if self.client_relay is None or not self.client_relay.pass_reply(reply, out):
            self.note("reply for a client I do not relay for")

    def _omission_evidence(
        self, key: tuple[NodeId, int], freshness: Freshness, now: float, *, hops: int
    ) -> str | None:
        """Why a client's word that its last attempt here went unanswered proves this
        primary omitted a message, or ``None``. The news took ``hops`` message delays.

        The client sent the earlier attempt here a time-out before the news, over a
        reliable link. If it arrived while this server was serving, it was either never
        received (receive omission) or answered by a reply that never arrived (send
        omission)."""
        earliest_arrival = now - self.config.client_timeout_s - hops * self.config.delta_s
        if freshness is Freshness.NEW and self.serving_since <= earliest_arrival:
            return f"never received {key[0]}#{key[1]}: I omit messages"
        replied = self.replied_at.get(key[0])
        if (
            replied is not None
            and replied[0] == key[1]
            and now > replied[1] + (hops + 1) * self.config.delta_s
        ):
            return f"my reply to {key[0]}#{key[1]} never arrived: I omit messages"
        return None

    def _on_unanswered(self, news: Unanswered, out: Out) -> None:
        if not self.is_primary or self.settling or not self.config.clients_trusted:
            return
        key = (news.client, news.seq)
        if any((r.client, r.seq) == key for _, r in self.waiting.values()):
            return
        freshness = self.service.freshness(news.client, news.seq)
        evidence = self._omission_evidence(key, freshness, out.now, hops=2)
        if evidence is not None:
            out.halt(evidence)

    def _on_ack(self, src: NodeId, ack: Ack, out: Out) -> None:
        if not self.is_primary or ack.epoch != self.epoch:
            return
        self.match[src] = max(self.match.get(src, 0), ack.log_length)
        if self.settling:
            return
        lengths = sorted(self.match.values(), reverse=True)
        if len(lengths) >= self.config.f:
            self._commit_to(min(lengths[self.config.f - 1], len(self.entries)), out)

    def _commit_to(self, index: int, out: Out) -> None:
        while self.commit < index:
            self.commit += 1
            waiting = self.waiting.pop(self.commit, None)
            if waiting is not None:
                src, request = waiting
                if self.service.freshness(request.client, request.seq) is not Freshness.DUPLICATE:
                    # The client moved on: another primary answered it. That takes two
                    # primaries, so it happens only outside the failure model.
                    self.note("committed a request its client no longer waits for")
                    continue
                result = self.service.cached_result(request.client, request.seq)
                out.send(src, ClientReply(request.client, request.seq, result))
                self.replied_at[request.client] = (request.seq, out.now)
                out.cancel_timer((COMMIT_BY, self.commit))

    def _on_update(self, src: NodeId, update: Update, out: Out) -> None:
        if self.is_primary or src != self.primary or update.epoch != self.epoch:
            self.note("update from a server that is not my primary")
            return
        if not self.in_sync:
            self._ask(out)
            return
        if update.index == len(self.entries) + 1:
            self.entries.append(update.command)
            self.epochs.append(update.epoch)
            self._note_installed(update.index)
        elif update.index > len(self.entries) + 1:
            self._ask(out)
            return
        self._advance(update.commit)
        out.send(src, Ack(self.epoch, self._held_of_epoch()))


def client_timeout(delta_s: float, tau_s: float) -> float:
    """Longer than any answer takes: δ there, a takeover's 2δ, the quorum's 2δ, δ back."""
    return 8 * delta_s


def build(config: ProtocolConfig) -> list[Replica]:
    return [QuorumReplica(server, config) for server in config.servers]


def failover_target(f: int, delta_s: float, tau_s: float) -> float:
    """``τ + 2δ + (f − 1)·max(τ, 2δ)``: see "Failover" in the module docstring."""
    return tau_s + 2 * delta_s + max(f - 1, 0) * max(tau_s, 2 * delta_s)


def claims(f: int, delta_s: float, tau_s: float) -> PrimaryBackupClaims:
    return PrimaryBackupClaims(
        failover_s=failover_target(f, delta_s, tau_s),
        blocking_s=2 * delta_s,
        outage_count=f,
        outage_s=failover_target(f, delta_s, tau_s)
        + 14 * delta_s
        + ROTATE_AFTER * client_timeout(delta_s, tau_s),
    )


def untrusted_claims(f: int, delta_s: float, tau_s: float, clients: int) -> PrimaryBackupClaims:
    """The claims where no client's word counts (see "Untrusted clients" in the module
    docstring): a primary's omissions towards a client are not found out, and each
    client pays each faulty server once, one time-out, before it is relayed."""
    return PrimaryBackupClaims(
        failover_s=failover_target(f, delta_s, tau_s),
        blocking_s=2 * delta_s,
        outage_count=f * (clients + 1),
        outage_s=failover_target(f, delta_s, tau_s)
        + 14 * delta_s
        + RELAY_ROTATE_AFTER * client_timeout(delta_s, tau_s),
    )


def quorum_spec(name: str, title: str, model: FailureModel) -> ProtocolSpec:
    """The registry entry of the engine under one failure model's name."""
    return ProtocolSpec(
        name=name,
        title=title,
        failure_model=model,
        replicas_default=3,
        build=build,
        tolerated=lambda n: (n - 1) // 2,
        replicas_problem=lambda n: None if n >= 1 else f"{name} needs at least 1 server",
        claims=claims,
        client_timeout_s=client_timeout,
        restartable=True,
        untrusted_claims=untrusted_claims,
    )
