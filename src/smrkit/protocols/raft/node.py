"""One Raft server: the roles, the election, log replication, the commit rule, the
replicated service and its persistence. The algorithm, its models and its bounds are in
the package docstring (:mod:`smrkit.protocols.raft`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.node import Out, Replica, Timer
from smrkit.core.ops import Command, Value
from smrkit.core.state_machine import StateMachine
from smrkit.protocols.raft.log import RaftLog, entry_bytes
from smrkit.protocols.raft.messages import (
    AppendEntries,
    AppendReply,
    InstallSnapshot,
    PreVote,
    PreVoteReply,
    RaftMessage,
    RequestVote,
    SnapshotReply,
    VoteReply,
    malformed,
    merged_appends,
)
from smrkit.protocols.raft.snapshot import Snapshot, flatten, parts, unflatten
from smrkit.protocols.service import Freshness, ReplicatedService

FOLLOWER = "follower"
CANDIDATE = "candidate"
LEADER = "leader"

ELECTION = "election"
"""The follower's and candidate's time-out: no leader heard from, stand for election."""
HEARTBEAT = "heartbeat"
"""The leader's period: heartbeats, and the retransmission of unacknowledged entries."""

LOG_ENTRIES_MAX = 1000
"""Applied entries a server keeps in its log: beyond, it snapshots its service and drops
the oldest, keeping the latest half of them for followers just behind."""

PART_OVERHEAD_BYTES = 256
"""Room for a log-carrying message's other fields when its entries are sized."""


@dataclass(frozen=True)
class RaftConfig:
    """A server's immutable configuration.

    ``heartbeat_s`` is the leader's period; an election time-out is drawn uniformly
    from ``[election_min_s, 2·election_min_s]`` each time it is set. ``part_bytes_max``
    bounds the entries of one message. ``commit_by_counting`` is the broken variant
    ``raft-unsafe-commit``: a leader commits any entry a majority holds, whatever its
    term, and appends no no-op at the start of its term (counting needs none).
    ``log_entries_max`` bounds the applied entries kept in the log (snapshots).

    ``pre_vote`` (the dissertation's §9.6): a server whose time-out fires first asks
    whether it could win (``PreVote``) and stands — increments its term — only once a
    majority says yes; a server says yes only if it has heard from no leader within
    ``election_min_s`` and the asker's log is at least as up to date. Without it, a
    server back from a partition, its term raised by the elections it could not win
    there, deposes a working leader. ``check_quorum`` (§6.2): a leader that has had no
    reply from a majority (itself included) for ``election_min_s`` steps down and
    points its waiting clients elsewhere; without it, a leader cut off from the others
    holds requests until the clients give up on it. Both on by default; off, the
    server behaves as the Raft paper's Figure 2."""

    servers: tuple[NodeId, ...]
    others: tuple[NodeId, ...]
    clients: tuple[NodeId, ...]
    app: str | Callable[[], StateMachine]
    sessions_max: int
    heartbeat_s: float
    election_min_s: float
    part_bytes_max: int
    commit_by_counting: bool = False
    log_entries_max: int = LOG_ENTRIES_MAX
    pre_vote: bool = True
    check_quorum: bool = True

    @property
    def majority(self) -> int:
        return len(self.servers) // 2 + 1


class RaftNode(Replica):
    """A Raft server. ``is_primary`` is "is the leader" (the checkers' Prmy); ``applied``
    lists the commands its state machine applied, for log agreement."""

    def __init__(self, node_id: NodeId, config: RaftConfig) -> None:
        super().__init__(node_id)
        if node_id not in config.servers:
            raise ValueError(f"{node_id} is not one of the servers {config.servers}")
        self.config = config
        self.service = ReplicatedService(config.app, config.sessions_max)
        self.applied = self.service.log
        # Persistent state (saved before any reply that depends on it).
        self.term = 0
        self.voted_for: NodeId | None = None
        self.log = RaftLog()
        # Volatile state.
        self.role = FOLLOWER
        self.leader: NodeId | None = None
        self.commit = 0
        self.last_applied = 0
        self.votes: list[NodeId] = []
        self.pre_votes: list[NodeId] = []
        """Who said this server could win the next term, itself first: not empty while
        it asks (before it stands)."""
        self.leader_heard_at: float | None = None
        """When this server last heard from the leader of its term (its ``out.now``)."""
        self.silent: dict[NodeId, int] = {}
        """The leader's heartbeats since each follower's last reply: 0 if it replied
        since the last heartbeat (else it stalls, and the heartbeat resends what it has
        not acknowledged), and CheckQuorum's measure of who is still there."""
        self.quorum_lost = 0
        """How often this server stepped down as leader for want of a majority."""
        self.next_index: dict[NodeId, int] = {}
        self.match_index: dict[NodeId, int] = {}
        self.backed_up_to: dict[NodeId, int] = {}
        """Where the leader last backed up to for a follower that rejected, until it
        succeeds or the next heartbeat: a rejection that points there again is stale."""
        self.waiting: dict[tuple[NodeId, int], NodeId] = {}
        """Commands this leader appended and has not answered: where the reply goes."""
        self.saved_vote: tuple[int, NodeId | None] = (0, None)
        self.saved_last = 0
        """The log's last index as saved."""
        self.unsaved_from = 1
        """Entries from this one on are not saved as they are now."""
        self.snapshot: Snapshot | None = None
        """The latest snapshot, taken or installed: the log starts after it."""
        self.snapshot_acked: dict[NodeId, tuple[int, int]] = {}
        """The leader's snapshot transfers: ``(snapshot index, parts acknowledged)``."""
        self.incoming: tuple[int, int, int, list[Value]] | None = None
        """A snapshot arriving: ``(index, term, parts received, items so far)``."""

    # --- start and persistence ----------------------------------------------------------

    def on_start(self, out: Out) -> None:
        if "term" in out.saved:
            self._recover(out)
        else:
            out.save("term", (0, None))
            out.save("last", 0)
        self._reset_election_timer(out)

    def _recover(self, out: Out) -> None:
        """Restarted: the term, the vote and the log as saved; everything else is
        learnt again from the leader (the commit index is volatile in Raft)."""
        saved = out.saved
        vote = saved["term"]
        assert isinstance(vote, tuple) and len(vote) == 2, vote
        term, voted_for = vote
        assert isinstance(term, int) and (voted_for is None or isinstance(voted_for, str))
        self.term, self.voted_for = term, voted_for
        self.saved_vote = (term, voted_for)
        snapshot = saved.get("snapshot")
        if snapshot is not None:
            assert isinstance(snapshot, tuple) and len(snapshot) == 3, snapshot
            index, term, items = snapshot
            assert isinstance(index, int) and isinstance(term, int) and isinstance(items, tuple)
            self.log.reset_to(index, term)
            self._restore(Snapshot(index, term, items))
        last = saved["last"]
        assert isinstance(last, int)
        for index in range(self.log.last_index + 1, last + 1):
            entry = saved[f"entry/{index}"]
            assert isinstance(entry, tuple) and len(entry) == 2, entry
            entry_term, command = entry
            assert isinstance(entry_term, int)
            assert command is None or isinstance(command, Command)
            self.log.append(entry_term, command)
        self.saved_last = self.log.last_index
        self.unsaved_from = self.saved_last + 1

    def _persist(self, out: Out) -> None:
        """Save what changed in the term, the vote and the log. Called at the end of
        every step: the runtime makes saves durable before the step's messages leave,
        so no vote or acknowledgement goes out before what it promises is on disk."""
        if self.saved_vote != (self.term, self.voted_for):
            self.saved_vote = (self.term, self.voted_for)
            out.save("term", self.saved_vote)
        last = self.log.last_index
        if self.saved_last != last or self.unsaved_from <= last:
            first = max(self.unsaved_from, self.log.base_index + 1)
            for index, entry in enumerate(self.log.entries_from(first), first):
                out.save(f"entry/{index}", entry)
            out.save("last", last)
            self.saved_last = last
        self.unsaved_from = last + 1

    def _changed_from(self, index: int) -> None:
        """Entries from ``index`` on changed and must be saved again."""
        self.unsaved_from = min(self.unsaved_from, index)

    # --- snapshots --------------------------------------------------------------------

    def _compact_if_long(self, out: Out) -> None:
        """Once more than ``log_entries_max`` applied entries are in the log, snapshot
        the service (its state after the last applied entry) and drop the older half of
        those entries — the newer half stays for followers just behind, which then need
        no snapshot. Run at the start of a step, so the observers have seen every entry
        committed before."""
        kept = self.config.log_entries_max
        if self.last_applied - self.log.base_index <= kept:
            return
        index, term = self.last_applied, self.log.term_at(self.last_applied)
        assert term is not None
        app, sessions, forgotten = self.service.snapshot()
        applied = self.applied_offset + len(self.applied)
        covered = 0 if self.snapshot is None else self.snapshot.index
        self.snapshot = Snapshot(index, term, flatten(app, sessions, forgotten, applied))
        self.log.compact_to(self.last_applied - kept // 2)
        out.save("snapshot", (index, term, self.snapshot.items))
        for dropped in range(covered + 1, index + 1):  # in the snapshot: not read again
            out.delete(f"entry/{dropped}")

    def _restore(self, snapshot: Snapshot) -> bool:
        """Make the service the snapshot's state (the log already starts at or before
        it); ``False``, changing nothing, if the items are not a snapshot."""
        try:
            app, sessions, forgotten, applied = unflatten(snapshot.items)
        except ValueError:
            self.note("malformed snapshot")
            return False
        self.service.restore((app, sessions, forgotten))
        self.service.log.clear()
        self.applied_offset = applied
        self.snapshot = snapshot
        self.commit = max(self.commit, snapshot.index)
        self.last_applied = snapshot.index
        return True

    def _send_snapshot(self, peer: NodeId, out: Out) -> None:
        """The next part of the snapshot ``peer`` lacks."""
        snapshot = self.snapshot
        assert snapshot is not None and snapshot.index >= self.log.base_index
        acked = self.snapshot_acked.get(peer)
        part = acked[1] if acked is not None and acked[0] == snapshot.index else 0
        cuts = parts(snapshot.items, self.config.part_bytes_max)
        begin, end = cuts[min(part, len(cuts) - 1)]
        items = snapshot.items[begin:end]
        msg = InstallSnapshot(self.term, snapshot.index, snapshot.term, part, len(cuts), items)
        out.send(peer, msg)

    def _on_install_snapshot(self, src: NodeId, msg: InstallSnapshot, out: Out) -> None:
        if msg.term < self.term:
            out.send(src, SnapshotReply(self.term, msg.index, -1))
            return
        if msg.term > self.term or self.role != FOLLOWER or self.leader != src:
            assert not (msg.term == self.term and self.role == LEADER), "two leaders in a term"
            self.become_follower(msg.term, src, out)
        self._reset_election_timer(out)
        if msg.index <= self.commit:
            self.incoming = None
            out.send(src, SnapshotReply(self.term, msg.index, msg.parts - 1))
            return
        incoming = self.incoming
        if msg.part == 0:
            incoming = (msg.index, msg.last_term, 0, [])
        if incoming is None or incoming[0] != msg.index or incoming[2] != msg.part:
            received = incoming[2] if incoming is not None and incoming[0] == msg.index else 0
            out.send(src, SnapshotReply(self.term, msg.index, received - 1))
            return
        index, term, received, items = incoming
        items.extend(msg.items)
        self.incoming = (index, term, received + 1, items)
        if received + 1 == msg.parts:
            self.incoming = None
            self._install(Snapshot(index, term, tuple(items)), out)
        out.send(src, SnapshotReply(self.term, msg.index, msg.part))

    def _install(self, snapshot: Snapshot, out: Out) -> None:
        """Take the leader's snapshot: keep the log after it if it holds the snapshot's
        last entry, else the snapshot replaces the whole log."""
        try:
            unflatten(snapshot.items)
        except ValueError:
            self.note("malformed snapshot")
            return
        index = snapshot.index
        if index <= self.log.last_index and self.log.term_at(index) == snapshot.term:
            self.log.compact_to(index)
        else:
            self.log.reset_to(index, snapshot.term)
            self._changed_from(index + 1)
        self._restore(snapshot)
        out.save("snapshot", (index, snapshot.term, snapshot.items))

    def _on_snapshot_reply(self, src: NodeId, msg: SnapshotReply, out: Out) -> None:
        if msg.term > self.term:
            self.become_follower(msg.term, None, out)
            self._reset_election_timer(out)
            return
        snapshot = self.snapshot
        if self.role != LEADER or msg.term != self.term or src not in self.next_index:
            return
        if snapshot is None or msg.index != snapshot.index:
            return  # about an older snapshot
        cuts = len(parts(snapshot.items, self.config.part_bytes_max))
        self.snapshot_acked[src] = (msg.index, msg.part + 1)
        if msg.part + 1 < cuts:
            self._send_snapshot(src, out)
            return
        del self.snapshot_acked[src]
        self.match_index[src] = max(self.match_index[src], msg.index)
        self.next_index[src] = max(self.next_index[src], msg.index + 1)
        self._advance_commit(out)
        self._send_append(src, out)

    # --- roles: the only places the role changes ------------------------------------------

    def become_follower(self, term: int, leader: NodeId | None, out: Out) -> None:
        """A higher term, or the leader of this term, was heard: follow it."""
        assert term >= self.term, (term, self.term)
        if term > self.term:
            self.term = term
            self.voted_for = None
        if self.role == LEADER:
            out.cancel_timer(HEARTBEAT)
            self.waiting = {}
            self.snapshot_acked = {}
            self._reset_election_timer(out)  # a leader had none: it may stand again
        self.role = FOLLOWER
        self.is_primary = False
        self.leader = leader
        self.votes = []
        self.pre_votes = []

    def ask_pre_votes(self, out: Out) -> None:
        """The election time-out fired, with ``pre_vote``: ask whether it could win the
        next term, changing no term and no vote (a server that cannot win — cut off, or
        behind — thus never raises the term that would depose a working leader)."""
        assert self.role != LEADER
        self.leader = None
        self.pre_votes = [self.id]
        ask = PreVote(self.term + 1, self.log.last_index, self.log.last_term)
        out.send_all(self.config.others, ask)
        self._reset_election_timer(out)  # no majority in time: ask again
        if len(self.pre_votes) >= self.config.majority:
            self.become_candidate(out)

    def become_candidate(self, out: Out) -> None:
        """The election time-out fired (with ``pre_vote``: a majority said it could
        win): a new term, a vote for itself, votes asked."""
        assert self.role != LEADER
        self.term += 1
        self.role = CANDIDATE
        self.leader = None
        self.pre_votes = []
        self.voted_for = self.id
        self.votes = [self.id]
        request = RequestVote(self.term, self.log.last_index, self.log.last_term)
        out.send_all(self.config.others, request)
        self._reset_election_timer(out)
        if len(self.votes) >= self.config.majority:
            self.become_leader(out)

    def become_leader(self, out: Out) -> None:
        """A majority voted for this server in its term: it leads. It appends a no-op of
        its own term (only its own entries are committed by counting, so the no-op
        commits whatever earlier entries it holds) and tells everyone."""
        assert self.role == CANDIDATE and len(self.votes) >= self.config.majority
        self.role = LEADER
        self.is_primary = True
        self.leader = self.id
        self.votes = []
        self.pre_votes = []
        self.silent = {peer: 1 for peer in self.config.others}  # the election's appends
        out.cancel_timer(ELECTION)
        following = self.log.last_index + 1
        if not self.config.commit_by_counting:
            self.log.append(self.term, None)
        self.next_index = {peer: following for peer in self.config.others}
        self.match_index = {peer: 0 for peer in self.config.others}
        self.backed_up_to = {}
        for peer in self.config.others:
            self._send_append(peer, out)
        self._advance_commit(out)
        out.send_all(
            self.service.clients_to_tell(self.config.clients), PrimaryHint(self.id, self.term)
        )
        out.set_timer(HEARTBEAT, self.config.heartbeat_s)

    def _reset_election_timer(self, out: Out) -> None:
        low = self.config.election_min_s
        out.set_timer(ELECTION, out.rng.uniform(low, 2 * low))

    def coalesced(self, stamped: list[tuple[float, Message]]) -> list[tuple[float, Message]]:
        """A run of AppendEntries to one follower as one (:func:`merged_appends`): the
        leader streams each request's entry as it arrives, and a real runtime sends what
        a batch of steps produced together."""
        return merged_appends(stamped, self.config.part_bytes_max, self._entries_bytes)

    def _entries_bytes(self, msg: AppendEntries) -> int:
        """The size bound of the entries of an AppendEntries this server sent: the
        sizes its log keeps while it still holds those entries, else sized again."""
        held = self.log.held_bytes(msg.prev_index, msg.terms, msg.commands)
        return sum(map(entry_bytes, msg.commands)) if held is None else held

    def _check_invariants(self) -> None:
        assert self.log.base_index <= (0 if self.snapshot is None else self.snapshot.index)
        assert self.log.base_index <= self.last_applied <= self.commit <= self.log.last_index, (
            self.last_applied,
            self.commit,
            self.log.last_index,
        )
        assert self.role == LEADER or not self.waiting
        assert self.is_primary == (self.role == LEADER)
        assert self.role != LEADER or self.voted_for == self.id

    # --- events ---------------------------------------------------------------------------

    def on_timer(self, timer: Timer, out: Out) -> None:
        self._compact_if_long(out)
        if timer == ELECTION and self.role != LEADER:
            if self.config.pre_vote:
                self.ask_pre_votes(out)
            else:
                self.become_candidate(out)
        elif timer == HEARTBEAT and self.role == LEADER:
            self._on_heartbeat(out)
        self._persist(out)
        self._check_invariants()

    def _on_heartbeat(self, out: Out) -> None:
        """The leader's period. A follower that replied since the last heartbeat gets an
        empty heartbeat or its next part; one that did not stalls (what was sent may be
        lost), and gets again what it has not acknowledged, from ``match_index + 1``.
        Resending to every follower on every heartbeat sent a follower not heard from
        in the term the log's tail, up to the 1,000-entry cap, every τ. With
        ``check_quorum``, a leader that has not heard from a majority steps down."""
        if self.config.check_quorum and not self._quorum_heard():
            self._step_down(out)
            return
        for peer in self.config.others:
            if self.silent[peer] > 0:  # stalled: retransmit what it has not acknowledged
                self.next_index[peer] = self.match_index[peer] + 1
            self.silent[peer] += 1
            self._send_append(peer, out)
        self.backed_up_to = {}
        out.set_timer(HEARTBEAT, self.config.heartbeat_s)

    def _quorum_heard(self) -> bool:
        """Whether a majority, this leader included, replied within the last election
        time-out: a follower counts if its last reply came less than ``election_min_s``
        ago, measured in heartbeats (τ each), so a host that runs late delays both."""
        periods = self.config.election_min_s / self.config.heartbeat_s
        heard = sum(1 for peer in self.config.others if self.silent[peer] < periods)
        return heard + 1 >= self.config.majority

    def _step_down(self, out: Out) -> None:
        """CheckQuorum: cut off from a majority, this leader cannot commit; it stops
        leading and tells each client it holds a command of to look elsewhere — at the
        follower it heard from least recently, most likely on the majority's side of
        the cut (it knows no newer leader to name; the client follows a hint of the
        same term that names another server)."""
        elsewhere = max(self.config.others, key=lambda peer: (self.silent[peer], peer))
        for reply_to in sorted(set(self.waiting.values())):
            out.send(reply_to, PrimaryHint(elsewhere, self.term))
        self.quorum_lost += 1
        self.become_follower(self.term, None, out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        self._compact_if_long(out)
        if isinstance(msg, RaftMessage):
            problem = malformed(msg) if src in self.config.others else "message from a stranger"
            if problem is not None:
                self.note(problem)  # counted and dropped; the server goes on serving
                return
            self._heard(src, msg, out)
        if isinstance(msg, ClientRequest):
            self._on_request(src, msg, out)
        elif isinstance(msg, RequestVote):
            self._on_request_vote(src, msg, out)
        elif isinstance(msg, VoteReply):
            self._on_vote(src, msg, out)
        elif isinstance(msg, PreVote):
            self._on_pre_vote(src, msg, out)
        elif isinstance(msg, PreVoteReply):
            self._on_pre_vote_reply(src, msg, out)
        elif isinstance(msg, AppendEntries):
            self._on_append(src, msg, out)
        elif isinstance(msg, AppendReply):
            self._on_append_reply(src, msg, out)
        elif isinstance(msg, InstallSnapshot):
            self._on_install_snapshot(src, msg, out)
        elif isinstance(msg, SnapshotReply):
            self._on_snapshot_reply(src, msg, out)
        else:
            self.note(f"unexpected {type(msg).__name__}")
        self._persist(out)
        self._check_invariants()

    # --- election -----------------------------------------------------------------------------

    def _on_request_vote(self, src: NodeId, msg: RequestVote, out: Out) -> None:
        if msg.term > self.term:
            self.become_follower(msg.term, None, out)
        up_to_date = self._as_up_to_date(msg.last_term, msg.last_index)
        granted = msg.term == self.term and self.voted_for in (None, src) and up_to_date
        if granted:
            self.voted_for = src
            self._reset_election_timer(out)
        out.send(src, VoteReply(self.term, granted))

    def _heard(self, src: NodeId, msg: RaftMessage, out: Out) -> None:
        """What PreVote and CheckQuorum remember of a well-formed peer message: when a
        follower last heard its leader (an append or snapshot of its term, taken), and
        that a follower replied to its leader in this term."""
        if isinstance(msg, AppendEntries | InstallSnapshot) and msg.term >= self.term:
            self.leader_heard_at = out.now
        elif isinstance(msg, AppendReply | SnapshotReply) and self._leads_term(msg.term):
            self.silent[src] = 0

    def _leads_term(self, term: int) -> bool:
        return self.role == LEADER and term == self.term

    def _on_pre_vote(self, src: NodeId, msg: PreVote, out: Out) -> None:
        """Would this server vote for ``src`` in ``msg.term``? Yes if that term is newer,
        the asker's log at least as up to date, and no leader heard from within the
        shortest election time-out (a leader's followers keep it in place). Changes
        nothing here: no term, no vote, no timer."""
        up_to_date = self._as_up_to_date(msg.last_term, msg.last_index)
        heard = self.leader_heard_at
        leader_recent = self.role == LEADER or (
            self.leader is not None
            and heard is not None
            and out.now - heard < self.config.election_min_s
        )
        granted = msg.term > self.term and up_to_date and not leader_recent
        out.send(src, PreVoteReply(msg.term if granted else self.term, granted))

    def _on_pre_vote_reply(self, src: NodeId, msg: PreVoteReply, out: Out) -> None:
        if not msg.granted:
            if msg.term > self.term:  # behind: catch up, and ask again for the term after
                self.become_follower(msg.term, None, out)
            return
        if not self.pre_votes or msg.term != self.term + 1 or self.role == LEADER:
            return  # not asking, or about another term
        if src not in self.pre_votes:
            self.pre_votes = [*self.pre_votes, src]
        if len(self.pre_votes) >= self.config.majority:
            self.become_candidate(out)

    def _as_up_to_date(self, last_term: int, last_index: int) -> bool:
        """Whether a log ending with an entry of ``last_term`` at ``last_index`` is at
        least as up to date as this one (a later last term, or the same and as long)."""
        return (last_term, last_index) >= (self.log.last_term, self.log.last_index)

    def _on_vote(self, src: NodeId, msg: VoteReply, out: Out) -> None:
        if msg.term > self.term:
            self.become_follower(msg.term, None, out)
            self._reset_election_timer(out)
            return
        if self.role != CANDIDATE or msg.term != self.term or not msg.granted:
            return
        if src not in self.votes:
            self.votes = sorted([*self.votes, src])
        if len(self.votes) >= self.config.majority:
            self.become_leader(out)

    # --- replication: the leader's side -----------------------------------------------------

    def _send_append(self, peer: NodeId, out: Out) -> None:
        """Send ``peer`` the entries from its next index on — one part of at most
        ``part_bytes_max`` — or an empty heartbeat if it has them all; the snapshot if
        it needs entries this log dropped."""
        first = self.next_index[peer]
        if first <= self.log.base_index:
            self._send_snapshot(peer, out)
            return
        msg = self._append_from(first)
        out.send(peer, msg)
        self.next_index[peer] = first + len(msg.terms)

    def _append_from(self, first: int) -> AppendEntries:
        """The AppendEntries of the part of the log that starts at ``first`` (after the
        snapshot): at most ``part_bytes_max`` of entries, empty if the log ends before."""
        prev = first - 1
        prev_term = self.log.term_at(prev)
        assert prev_term is not None, (prev, self.log.base_index)
        last = self.log.part_end(first, self.config.part_bytes_max)
        terms, commands = self.log.slice(first, last)
        return AppendEntries(self.term, prev, prev_term, terms, commands, self.commit)

    def _on_request(self, src: NodeId, request: ClientRequest, out: Out) -> None:
        if self.role != LEADER:
            if self.leader is not None:
                out.send(src, PrimaryHint(self.leader, self.term))
            return
        key = (request.client, request.seq)
        freshness = self.service.freshness(request.client, request.seq)
        if freshness is Freshness.STALE:
            return
        if freshness is Freshness.DUPLICATE:
            result, error = self.service.cached_reply(request.client, request.seq)
            out.send(src, ClientReply(request.client, request.seq, result, error))
            return
        if freshness is Freshness.EXPIRED:
            error = self.service.expired(request)
            out.send(src, ClientReply(request.client, request.seq, None, error))
            return
        if key in self.waiting:
            self.waiting[key] = src  # a retry of a command in the log: reply by the latest path
            return
        self.waiting[key] = src
        index = self.log.append(self.term, Command(request.client, request.seq, request.op))
        # The followers that are caught up get the new entry at once, all the same
        # message (the one _send_append would make for each).
        caught_up = [peer for peer in self.config.others if self.next_index[peer] == index]
        if caught_up:
            msg = self._append_from(index)
            for peer in caught_up:
                out.send(peer, msg)
                self.next_index[peer] = index + len(msg.terms)
        if self.config.majority == 1:
            # Alone, the leader commits what it appends. Otherwise a majority's highest
            # entry is some follower's match: the leader's own log, the longest, growing
            # does not move it.
            self._advance_commit(out)

    def _on_append_reply(self, src: NodeId, msg: AppendReply, out: Out) -> None:
        if msg.term > self.term:
            self.become_follower(msg.term, None, out)
            self._reset_election_timer(out)
            return
        if self.role != LEADER or msg.term != self.term or src not in self.next_index:
            return
        if msg.success:
            self.backed_up_to.pop(src, None)
            if msg.match > self.match_index[src]:
                self.match_index[src] = msg.match
                self._advance_commit(out)
            if self.next_index[src] <= msg.match:
                self.next_index[src] = msg.match + 1
            if msg.match < self.log.last_index and self.next_index[src] == msg.match + 1:
                self._send_append(src, out)  # the next part
            return
        target = max(self.match_index[src] + 1, self._back_up(msg))
        if self.backed_up_to.get(src) == target:
            # Stale: a rejection of an append sent before the last back-up (a follower
            # back from a crash rejects every append its link queued meanwhile). The
            # entries from ``target`` are on their way; resending the whole tail for
            # each such rejection flooded the real cluster with hundreds of copies.
            return
        self.backed_up_to[src] = target
        self.next_index[src] = target
        self._send_append(src, out)

    def _back_up(self, msg: AppendReply) -> int:
        """Fast back-up: the next index to try after a rejection. The follower holds
        entries of ``conflict_term`` from ``conflict_index``: if this log has that term
        too, try after its last entry of it, else skip the follower's whole term."""
        if msg.conflict_term == 0:
            return msg.conflict_index
        last = self.log.last_index_of_term(msg.conflict_term)
        return msg.conflict_index if last is None else last + 1

    def _advance_commit(self, out: Out) -> None:
        """The commit rule: the highest entry held by a majority (the leader included)
        is committed if it is of the leader's own term; an earlier term's entries are
        committed with it (Raft §5.4.2). ``commit_by_counting`` skips the term test —
        the bug of Figure 8."""
        held = sorted([self.log.last_index, *self.match_index.values()], reverse=True)
        candidate = held[self.config.majority - 1]
        if candidate <= self.commit:
            return
        if not self.config.commit_by_counting and self.log.term_at(candidate) != self.term:
            return
        self.commit = candidate
        self._apply(out)

    # --- replication: the follower's side -----------------------------------------------------

    def _on_append(self, src: NodeId, msg: AppendEntries, out: Out) -> None:
        if msg.term < self.term:
            out.send(src, AppendReply(self.term, False, 0, 0, 0))
            return
        if msg.term > self.term or self.role != FOLLOWER or self.leader != src:
            assert not (msg.term == self.term and self.role == LEADER), "two leaders in a term"
            self.become_follower(msg.term, src, out)
        self._reset_election_timer(out)
        prev = msg.prev_index
        if prev > self.log.last_index:
            out.send(src, AppendReply(self.term, False, 0, self.log.last_index + 1, 0))
            return
        terms, commands = msg.terms, msg.commands
        if prev < self.log.base_index:  # entries up to the snapshot are committed: skip
            skip = min(self.log.base_index - prev, len(terms))
            prev, terms, commands = prev + skip, terms[skip:], commands[skip:]
            if prev < self.log.base_index:
                out.send(src, AppendReply(self.term, True, self.log.base_index, 0, 0))
                return
        else:
            prev_term = self.log.term_at(prev)
            if prev_term != msg.prev_term:
                assert prev_term is not None
                first = self.log.first_index_of_term(prev)
                out.send(src, AppendReply(self.term, False, 0, first, prev_term))
                return
        match = prev + len(terms)
        if prev == self.log.last_index:  # the common case: nothing to compare
            self.log.extend(terms, commands)
        elif not self._merge_entries(prev, terms, commands):
            return
        if msg.commit > self.commit:
            self.commit = max(self.commit, min(msg.commit, match))
            self._apply(out)
        out.send(src, AppendReply(self.term, True, match, 0, 0))

    def _merge_entries(
        self, prev: int, terms: tuple[int, ...], commands: tuple[Command | None, ...]
    ) -> bool:
        """Take the entries after ``prev`` that this log lacks or holds in another term
        (dropping its entries from the first such one on); ``False``, noting it, at one
        that would replace a committed entry (the message is dropped)."""
        for offset, (term, command) in enumerate(zip(terms, commands, strict=True)):
            index = prev + offset + 1
            if index <= self.log.last_index:
                if self.log.term_at(index) == term:
                    continue
                if index <= self.commit:
                    # Impossible in Raft (Leader Completeness); the broken variant gets
                    # here. A committed entry is never undone: drop the message.
                    self.note("leader's entry conflicts with a committed one")
                    return False
                self.log.truncate_after(index - 1)
                self._changed_from(index)
            self.log.append(term, command)
        return True

    # --- the state machine --------------------------------------------------------------

    def _apply(self, out: Out) -> None:
        """Apply committed entries in order; the leader answers the clients waiting."""
        if self.last_applied >= self.commit:
            return
        for command in self.log.slice(self.last_applied + 1, self.commit)[1]:
            self.last_applied += 1
            if command is None:
                continue  # a leader's no-op
            answer = self.service.apply_ordered(command)
            reply_to = self.waiting.pop((command.client, command.seq), None)
            if reply_to is not None and answer is not None:
                result, error = answer
                out.send(reply_to, ClientReply(command.client, command.seq, result, error))
