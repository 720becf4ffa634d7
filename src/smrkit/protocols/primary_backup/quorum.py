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
becomes the primary. A primary that kept its lease this round had f + 1 servers that did
not desert, so no candidate can gather f + 1 votes in the same round: never two
primaries (Pb1). A deserted primary halts at the same instant, just before. If the
candidate does not announce itself within δ, the voters try the next server 2δ later, so
each crash during an election costs 2δ, not a round. The new primary adopts the most
recent log among its votes (highest primary epoch, then longest), sends it to everyone,
and serves once f servers have acknowledged it (2δ), or halts.

Replication. The primary applies a request, sends the update to every other server and
replies once f of them acknowledged it (2δ-blocking); an update that is not acknowledged
in time makes it halt. A committed entry is held by f + 1 servers, so every later quorum
of voters includes one of them and the new primary's log contains it. Followers apply
entries only once they are committed, so no replica ever has to undo one.

Failover. The primary fails just after a heartbeat; the next heartbeat is missed at
``(k+1)·τ``, the votes reach the candidate by ``(k+1)·τ + 2δ``, and each of up to f − 1
further crashes among the candidates adds 2δ: at most ``τ + 2f·δ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, rank
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.node import Out, Replica, Timer
from smrkit.core.ops import Command
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec
from smrkit.protocols.service import Freshness, ReplicatedService

ROTATE_AFTER = 3
"""The standard client tries another server after this many time-outs in a row; a
primary that drops one client's requests is found out only then."""

EPOCHS_PER_ROUND = 64
"""Epoch of the election in sub-round m of round k: ``k·64 + m + 1`` (0 is p1's start)."""

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
    """A deserter's vote in sub-round ``sub`` of ``round``, with its whole log."""

    round: int
    sub: int
    epochs: tuple[int, ...]
    commands: tuple[Command, ...]


@dataclass(frozen=True, slots=True)
class Takeover(Message):
    """The new primary of ``epoch`` and its log (entries ``1 … len``)."""

    epoch: int
    epochs: tuple[int, ...]
    commands: tuple[Command, ...]
    commit: int


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
    epoch: int
    start: int
    epochs: tuple[int, ...]
    commands: tuple[Command, ...]
    commit: int


# --- configuration and state ----------------------------------------------------------


@dataclass(frozen=True)
class QuorumConfig:
    """A replica's immutable configuration: the servers in rank order and the others,
    the clients, τ, δ, the f it tolerates ((n − 1) / 2), the election sub-rounds that
    fit in a round and the clients' time-out."""

    servers: tuple[NodeId, ...]
    others: tuple[NodeId, ...]
    clients: tuple[NodeId, ...]
    tau_s: float
    delta_s: float
    f: int
    subs: int
    client_timeout_s: float

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
            f,
            max(1, fitting),
            client_timeout(config.delta_s, config.tau_s),
        )


ROUND = "round"
DESERT = "desert"  # (DESERT, k): k·τ + δ
VOTE = "vote"  # (VOTE, k, m): k·τ + δ + 2mδ
ELECT = "elect"  # (ELECT, k, m): k·τ + 2δ + 2mδ
LEASE = "lease"  # (LEASE, k): k·τ + 2δ
SETTLE = "settle"  # (SETTLE, epoch): takeover + 2δ
COMMIT_BY = "commit-by"  # (COMMIT_BY, index): update + 2δ


class QuorumReplica(Replica):
    def __init__(self, node_id: NodeId, config: ProtocolConfig) -> None:
        super().__init__(node_id)
        if node_id not in config.servers:
            raise ValueError(f"{node_id} is not one of the servers {config.servers}")
        self.config = QuorumConfig.of(node_id, config)
        self.service = ReplicatedService(config.app)
        self.applied = self.service.log
        self.entries: list[Command] = []
        self.epochs: list[int] = []
        self.commit = 0
        self.epoch = 0
        self.primary: NodeId | None = self.config.servers[0]
        self.round = 0
        self.acked_round = -1
        self.heard: dict[NodeId, int] = {}
        self.deserted: NodeId | None = None
        self.deserted_round = -1
        self.votes: dict[
            tuple[int, int], dict[NodeId, tuple[tuple[int, ...], tuple[Command, ...]]]
        ] = {}
        self.lease_round: int | None = None
        self.lease_acks: set[NodeId] = set()
        self.settling = False
        self.match: dict[NodeId, int] = {}
        self.waiting: dict[int, tuple[NodeId, ClientRequest]] = {}
        self.held: list[tuple[NodeId, ClientRequest]] = []
        self.serving_since = 0.0 if node_id == self.config.servers[0] else math.inf
        self.replied_at: dict[NodeId, tuple[int, float]] = {}
        self.in_sync = True
        """Whether this log is a prefix of the current primary's: only then may the
        primary's commit point be applied to it."""
        self._saved = (0, 0, 0)
        self._changed_from = 0

    # --- roles --------------------------------------------------------------------------

    def become_primary(self, epoch: int, out: Out) -> None:
        """Won an election: adopt the best log among the votes, announce it, and serve
        once f servers hold it (or halt)."""
        self.is_primary = True
        self.primary = self.id
        self.epoch = epoch
        self.settling = True
        self.serving_since = math.inf
        self.match = {}
        takeover = Takeover(epoch, tuple(self.epochs), tuple(self.entries), self.commit)
        out.send_all(self.config.others, takeover)
        out.send_all(self.service.clients_to_tell(self.config.clients), PrimaryHint(self.id, epoch))
        out.set_timer((SETTLE, epoch), 2 * self.config.delta_s)

    # --- log ----------------------------------------------------------------------------

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
        assert isinstance(epoch_saved, int) and isinstance(commit_saved, int)
        self.epoch = epoch_saved
        self._advance(commit_saved)
        self._saved = (len(self.entries), self.epoch, self.commit)
        self.primary = None
        self.serving_since = math.inf
        self.round = math.ceil(out.now / self.config.tau_s)
        self.heard[self.id] = self.round
        out.set_timer_at(ROUND, self.round * self.config.tau_s)

    def _persist(self, out: Out) -> None:
        """Make the log, epoch and commit point durable before this step's messages leave
        (an ``Ack`` promises the entries survive a restart)."""
        length, epoch, commit = self._saved
        first = min(self._changed_from, length, len(self.entries))
        for index in range(first, len(self.entries)):
            out.save(f"entry/{index + 1}", (self.epochs[index], self.entries[index]))
        if len(self.entries) != length or first < len(self.entries):
            out.save("length", len(self.entries))
        if self.epoch != epoch:
            out.save("epoch", self.epoch)
        if self.commit != commit:
            out.save("commit", self.commit)
        self._saved = (len(self.entries), self.epoch, self.commit)
        self._changed_from = len(self.entries)

    def on_timer(self, timer: Timer, out: Out) -> None:
        self._on_timer(timer, out)
        self._persist(out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        self._on_message(src, msg, out)
        self._persist(out)

    def _on_timer(self, timer: Timer, out: Out) -> None:
        if timer == ROUND:
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
            if msg.sub < self.config.subs:
                self.votes.setdefault((msg.round, msg.sub), {})[src] = (msg.epochs, msg.commands)
        elif isinstance(msg, Takeover):
            self._on_takeover(src, msg, out)
        elif isinstance(msg, Ack):
            self._on_ack(src, msg, out)
        elif isinstance(msg, Update):
            self._on_update(src, msg, out)
        elif isinstance(msg, Behind):
            if self.is_primary and msg.epoch == self.epoch:
                start = msg.have + 1
                out.send(
                    src,
                    Sync(
                        self.epoch,
                        start,
                        tuple(self.epochs[msg.have :]),
                        tuple(self.entries[msg.have :]),
                        self.commit,
                    ),
                )
        elif isinstance(msg, Sync):
            self._on_sync(src, msg, out)
        elif isinstance(msg, Unanswered):
            self._on_unanswered(msg, out)
        else:
            self.note(f"unexpected {type(msg).__name__}")

    # --- rounds, leases and elections ---------------------------------------------------

    def _start_round(self, k: int, out: Out) -> None:
        self.round = k
        self.heard[self.id] = k
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

    def _on_heartbeat(self, src: NodeId, beat: Heartbeat, out: Out) -> None:
        self.heard[src] = max(self.heard.get(src, -1), beat.round)
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
        self.primary = src
        self.epoch = beat.epoch
        self.deserted = None
        self.acked_round = beat.round
        out.send(src, HeartbeatAck(beat.round, beat.epoch))
        if self.in_sync:
            self._advance(beat.commit)
        if not self.in_sync or beat.log_length > len(self.entries) or self.commit < beat.commit:
            out.send(src, Behind(self.epoch, self.commit))

    def _check_lease(self, k: int, out: Out) -> None:
        if self.is_primary and self.lease_round == k and len(self.lease_acks) < self.config.f:
            out.halt(f"round {k}: {len(self.lease_acks)} of {self.config.f} acknowledgements")

    def _desert(self, k: int, out: Out) -> None:
        if self.is_primary or self.acked_round >= k:
            return
        if self.primary is not None:
            self.deserted = self.primary
        self.primary = None
        self.deserted_round = k
        self._vote(k, 0, out)

    def _candidates(self, k: int) -> list[NodeId]:
        return [s for s in self.config.servers if self.heard.get(s, -1) >= k and s != self.deserted]

    def _vote(self, k: int, m: int, out: Out) -> None:
        if self.is_primary or self.primary is not None or k != self.round or m >= self.config.subs:
            return
        candidates = self._candidates(k)
        if m >= len(candidates):
            return
        candidate = candidates[m]
        log = (tuple(self.epochs), tuple(self.entries))
        if candidate == self.id:
            self.votes.setdefault((k, m), {})[self.id] = log
            config = self.config
            out.set_timer_at((ELECT, k, m), k * config.tau_s + (2 + 2 * m) * config.delta_s)
        else:
            out.send(candidate, Vote(k, m, *log))
        if m + 1 < self.config.subs:
            next_vote = k * self.config.tau_s + (3 + 2 * m) * self.config.delta_s
            out.set_timer_at((VOTE, k, m + 1), next_vote)

    def _elect(self, k: int, m: int, out: Out) -> None:
        ballots = self.votes.get((k, m), {})
        if self.is_primary or self.primary is not None or len(ballots) < self.config.f + 1:
            return
        epochs, commands = max(
            ballots.values(), key=lambda log: (log[0][-1] if log[0] else -1, len(log[1]))
        )
        self._adopt(epochs, commands)
        self.become_primary(k * EPOCHS_PER_ROUND + m + 1, out)

    def _on_takeover(self, src: NodeId, takeover: Takeover, out: Out) -> None:
        if takeover.epoch <= self.epoch:
            self.note("takeover of an old epoch")
            return
        if self.is_primary:
            self.note("takeover while primary")
            return
        self.in_sync = self._adopt(takeover.epochs, takeover.commands)
        self.epoch = takeover.epoch
        self.primary = src
        self.deserted = None
        if self.in_sync:
            self._advance(takeover.commit)
        out.send(src, Ack(self.epoch, len(self.entries)))

    def _settle(self, epoch: int, out: Out) -> None:
        if not self.is_primary or epoch != self.epoch:
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

    # --- replication --------------------------------------------------------------------

    def _on_request(self, src: NodeId, request: ClientRequest, out: Out) -> None:
        if not self.is_primary:
            if self.primary is not None:
                out.send(src, PrimaryHint(self.primary, self.epoch))
                if request.previous == self.primary:
                    out.send(self.primary, Unanswered(request.client, request.seq))
            return  # Pb3: not enqueued
        if self.settling:
            self.held.append((src, request))
            return
        freshness = self.service.freshness(request.client, request.seq)
        key = (request.client, request.seq)
        if freshness is Freshness.DUPLICATE and any(
            (r.client, r.seq) == key for _, r in self.waiting.values()
        ):
            return  # still waiting for its quorum; the reply follows
        if request.previous == self.id:
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
        if not self.is_primary or self.settling:
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
            out.send(src, Behind(self.epoch, self.commit))
            return
        if update.index == len(self.entries) + 1:
            self.entries.append(update.command)
            self.epochs.append(update.epoch)
        elif update.index > len(self.entries) + 1:
            out.send(src, Behind(self.epoch, len(self.entries)))
            return
        self._advance(update.commit)
        out.send(src, Ack(self.epoch, len(self.entries)))

    def _on_sync(self, src: NodeId, sync: Sync, out: Out) -> None:
        if self.is_primary or src != self.primary or sync.epoch != self.epoch:
            return
        if sync.start > len(self.entries) + 1:
            return
        keep = sync.start - 1
        if not self.in_sync and keep > self.commit:
            return  # an answer to an older Behind: only a Sync from the commit point fits
        adopted = self._adopt(
            (*self.epochs[:keep], *sync.epochs), (*self.entries[:keep], *sync.commands)
        )
        self.in_sync = self.in_sync or adopted
        if self.in_sync:
            self._advance(sync.commit)
        out.send(src, Ack(self.epoch, len(self.entries)))


def client_timeout(delta_s: float, tau_s: float) -> float:
    """Longer than any answer takes: δ there, a takeover's 2δ, the quorum's 2δ, δ back."""
    return 8 * delta_s


def build(config: ProtocolConfig) -> list[Replica]:
    return [QuorumReplica(server, config) for server in config.servers]


def claims(f: int, delta_s: float, tau_s: float) -> PrimaryBackupClaims:
    return PrimaryBackupClaims(
        failover_s=2 * f * delta_s + tau_s,
        blocking_s=2 * delta_s,
        outage_count=f,
        outage_s=tau_s + (2 * f + 14) * delta_s + ROTATE_AFTER * client_timeout(delta_s, tau_s),
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
    )
