"""pb-crash: primary-backup for f crash failures with n = f + 1 servers (seed 001, §5).

Algorithm. Servers are ranked p1 … pn; the primary is the lowest-ranked server that has
not crashed. On a request the primary applies it, sends the update to every live backup
in rank order, and replies at once, without waiting (0-blocking): by the time a client
holds a response, every backup has the update or has crashed, because links are
reliable and a crash only cuts the tail of a sequence of sends.

Failure detection works in rounds of length τ on the synchronized clocks: at every
``k·τ`` each server sends ``Heartbeat(k)`` to the others, highest rank first. A server
that has no ``Heartbeat(k)`` from some server by ``k·τ + δ`` knows it crashed. Sending
highest rank first gives the property the rest relies on: if a message of this kind did
not reach server q, it did not reach any live server ranked below q either, so a
lower-ranked server always knows at least as much about the deaths below it.

Takeover. At ``k·τ + δ`` a server that finds every lower-ranked server dead becomes the
primary. A server that finds a lower-ranked candidate alive but not (yet) its primary
knows the candidate reasons the same way at the same instant and takes over now; it
expects the candidate's ``Takeover`` within δ, and if none arrives by ``k·τ + 2δ`` the
candidate crashed — and so on down the ranks. The new primary first sends ``Takeover``
(highest rank first), then the log entries the backups may miss (``Sync``, from the
least log length their heartbeats reported, in rank order, so the next candidate is
always the most up to date), then a ``PrimaryHint`` to every client, which moves their
``Dest`` (D < Γ). ``Takeover`` must come first: a backup accepts log entries only from
its primary, so a ``Sync`` that overtook the ``Takeover`` would be dropped, and the
backup would miss entries the new primary then builds on.

A candidate may also crash in its takeover step, after its ``Takeover`` left: it was
primary for no time at all, yet the backups follow it. Nothing it sent in that step can
tell them it survived the step, so ``x = δ/10`` later it confirms (``Serving``, highest
rank first), and a backup that has no confirmation ``x + δ`` after the takeover knows it
crashed and goes on down the ranks. Without the confirmation that crash was found only
by the next heartbeat round, and cost a whole τ instead of δ (seed 100248).

Prmy = "I took over (or am p1) and have not crashed". Failure detection is accurate in
the crash model, so a server becomes primary only when every lower-ranked one crashed:
never two primaries (Pb1), and a correct primary stays primary (Pb5).

Failure model. Crash failures of up to f = n − 1 servers; reliable FIFO links with delay
at most δ; perfectly synchronized clocks; correct clients.

Bounds. Blocking 0. Failover: a serving primary that crashes is missed at the next
round's check, at most ``τ + δ`` later (it crashed just after sending its heartbeat);
each further crash during the takeover costs δ if the candidate crashed before its
``Takeover`` reached the next candidate, and ``δ + x`` if after (the confirmation is
missed). With f crashes the failover time is at most ``τ + δ + (f − 1)·(δ + x)`` =
``f·δ + τ + (f − 1)·δ/10``, against Table 1's lower bounds of n ≥ f + 1, blocking 0 and
failover f·δ (Theorems 1 and 9): optimal up to the arbitrarily small τ and x. The paper
states ``f·δ + τ``; that figure counts a candidate that was primary for an instant as a
primary, and smrkit's failover measure does not (a primary for no time serves nobody):
under that measure no protocol reaches ``f·δ + τ`` exactly, because only a message sent
after the takeover instant can show the candidate outlived it. As a (k, Δ)-bofo service:
each outage starts at most δ before a primary crash (requests in flight) and ends at most
δ after the takeover (the hint in flight), so requests go unanswered during at most f
periods of at most ``τ + (f + 2)·δ + (f − 1)·δ/10`` each.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, rank
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.node import Out, Replica, Timer
from smrkit.core.ops import Command
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, register
from smrkit.protocols.service import ReplicatedService

# --- messages -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """Round ``round``'s "I am alive", with the sender's log length."""

    round: int
    log_length: int


@dataclass(frozen=True, slots=True)
class Update(Message):
    """The ``index``-th command of the primary's log."""

    index: int
    command: Command


@dataclass(frozen=True, slots=True)
class Sync(Message):
    """Log entries ``start, start + 1, …`` sent by a new primary (or on request)."""

    start: int
    commands: tuple[Command, ...]


@dataclass(frozen=True, slots=True)
class Takeover(Message):
    """ "Every server ranked below me has crashed; I am the primary as of round ``round``,
    since the instant ``at``."""

    round: int
    log_length: int
    at: float


@dataclass(frozen=True, slots=True)
class Serving(Message):
    """ "I outlived my takeover at ``at``": the confirmation, sent ``x`` after it."""

    at: float


@dataclass(frozen=True, slots=True)
class SyncRequest(Message):
    """A backup saw a gap after its ``have``-th entry (impossible in the crash model;
    this keeps the protocol live when it is run outside its model)."""

    have: int


# --- configuration and state ----------------------------------------------------------


@dataclass(frozen=True)
class CrashConfig:
    """A replica's immutable configuration: the servers in rank order, the clients to
    tell about a new primary, τ and δ."""

    servers: tuple[NodeId, ...]
    clients: tuple[NodeId, ...]
    tau_s: float
    delta_s: float


ROUND = "round"
CHECK = "check"  # (CHECK, k): the heartbeats of round k are in, at k·τ + δ
EXPECT = "expect"  # (EXPECT, s): s took over by now, or it crashed
CONFIRM = "confirm"  # (CONFIRM, s): s confirmed its takeover by now, or it crashed
SERVING = "serving"  # (SERVING, at): the new primary confirms its takeover at ``at``

CONFIRM_DELAY_FRACTION = 0.1
"""``x``: a new primary confirms its takeover ``x = δ/10`` after it (any x > 0 works; a
smaller one costs nothing but tightens nothing that matters)."""


def confirm_delay(delta_s: float) -> float:
    return CONFIRM_DELAY_FRACTION * delta_s


class CrashReplica(Replica):
    def __init__(self, node_id: NodeId, config: ProtocolConfig) -> None:
        super().__init__(node_id)
        if node_id not in config.servers:
            raise ValueError(f"{node_id} is not one of the servers {config.servers}")
        self.config = CrashConfig(
            tuple(sorted(config.servers, key=rank)), config.clients, config.tau_s, config.delta_s
        )
        self.service = ReplicatedService(config.app, config.sessions_max)
        self.applied = self.service.log
        self.primary: NodeId = self.config.servers[0]
        self.dead: set[NodeId] = set()
        self.round = 0
        self.heard: dict[NodeId, int] = {}
        self.known_length: dict[NodeId, int] = {}

    # --- roles --------------------------------------------------------------------------

    def become_primary(self, out: Out, *, announce: bool) -> None:
        """Take over: bring the backups up to date, tell the servers, tell the clients."""
        self.is_primary = True
        self.primary = self.id
        if not announce:
            return
        backups = self._backups()
        log = self.applied
        out.send_all(reversed(backups), Takeover(self.round, len(log), out.now))
        start = min((self.known_length.get(b, 0) for b in backups), default=len(log))
        if start < len(log):
            out.send_all(backups, Sync(start + 1, tuple(log[start:])))
        out.send_all(
            self.service.clients_to_tell(self.config.clients), PrimaryHint(self.id, rank(self.id))
        )
        out.set_timer((SERVING, out.now), confirm_delay(self.config.delta_s))

    def _backups(self) -> list[NodeId]:
        return [s for s in self.config.servers if s != self.id and s not in self.dead]

    def _mark_dead(self, server: NodeId) -> None:
        assert server != self.id, f"{self.id} concluded it crashed itself"
        self.dead.add(server)

    # --- handlers -----------------------------------------------------------------------

    def on_start(self, out: Out) -> None:
        if self.id == self.config.servers[0]:
            self.become_primary(out, announce=False)
        self._start_round(0, out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer == ROUND:
            self._start_round(self.round + 1, out)
            return
        assert isinstance(timer, tuple), timer
        kind, arg = timer
        if kind == SERVING:
            if self.is_primary:
                out.send_all(reversed(self._backups()), Serving(arg))
            return
        if kind == CHECK:
            for server in self.config.servers:
                if server != self.id and self.heard.get(server, -1) < arg:
                    self._mark_dead(server)
        elif kind == EXPECT:
            if arg != self.primary:
                self._mark_dead(arg)  # no Takeover within δ
        else:
            assert kind == CONFIRM, timer
            if arg == self.primary:
                self._mark_dead(arg)  # crashed in its takeover step
        self._decide(out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, ClientRequest):
            self._on_request(src, msg, out)
        elif src not in self.config.servers:
            self.note(f"{type(msg).__name__} from a stranger")
        elif src in self.dead:
            self.note("message from a server known dead")
        elif isinstance(msg, Heartbeat):
            self.heard[src] = max(self.heard.get(src, -1), msg.round)
            self.known_length[src] = max(self.known_length.get(src, 0), msg.log_length)
        elif isinstance(msg, Update):
            self._on_update(src, msg, out)
        elif isinstance(msg, Sync):
            self._on_sync(src, msg, out)
        elif isinstance(msg, Takeover):
            self._on_takeover(src, msg, out)
        elif isinstance(msg, Serving):
            if src == self.primary:
                out.cancel_timer((CONFIRM, src))
        elif isinstance(msg, SyncRequest) and self.is_primary:
            out.send(src, Sync(msg.have + 1, tuple(self.applied[msg.have :])))
        else:
            self.note(f"unexpected {type(msg).__name__}")

    # --- failure detection and takeover -------------------------------------------------

    def _start_round(self, k: int, out: Out) -> None:
        self.round = k
        others = [s for s in reversed(self.config.servers) if s != self.id and s not in self.dead]
        out.send_all(others, Heartbeat(k, len(self.applied)))
        out.set_timer_at((CHECK, k), k * self.config.tau_s + self.config.delta_s)
        out.set_timer_at(ROUND, (k + 1) * self.config.tau_s)

    def _decide(self, out: Out) -> None:
        """After a death: take over, or expect the next candidate to within δ."""
        if self.is_primary:
            return
        candidate = next(s for s in self.config.servers if s not in self.dead)
        if candidate == self.id:
            self.become_primary(out, announce=True)
        elif candidate != self.primary:
            out.set_timer((EXPECT, candidate), self.config.delta_s)

    def _on_takeover(self, src: NodeId, takeover: Takeover, out: Out) -> None:
        if rank(src) > rank(self.id):
            self.note("takeover by a higher-ranked server")
            return
        for server in self.config.servers:
            if rank(server) < rank(src):
                self._mark_dead(server)
        self.primary = src
        confirmed_by = takeover.at + confirm_delay(self.config.delta_s) + self.config.delta_s
        out.set_timer_at((CONFIRM, src), max(confirmed_by, out.now))

    # --- replication --------------------------------------------------------------------

    def _on_request(self, src: NodeId, request: ClientRequest, out: Out) -> None:
        if not self.is_primary:
            if self.primary not in self.dead:
                out.send(src, PrimaryHint(self.primary, rank(self.primary)))
            return  # Pb3: not enqueued
        admitted = self.service.admit(src, request, out)
        if admitted is None:
            return
        command, result = admitted
        out.send_all(self._backups(), Update(len(self.applied), command))
        out.send(src, ClientReply(request.client, request.seq, result))

    def _on_update(self, src: NodeId, update: Update, out: Out) -> None:
        if src != self.primary or self.is_primary:
            self.note("update from a non-primary")
            return
        expected = len(self.applied) + 1
        if update.index == expected:
            self.service.execute(update.command)
        elif update.index > expected:
            self.note("gap in updates")
            out.send(src, SyncRequest(len(self.applied)))

    def _on_sync(self, src: NodeId, sync: Sync, out: Out) -> None:
        if src != self.primary or self.is_primary:
            self.note("sync from a non-primary")
            return
        for offset, command in enumerate(sync.commands):
            index = sync.start + offset
            if index == len(self.applied) + 1:
                self.service.execute(command)
            elif index > len(self.applied) + 1:
                self.note("gap in sync")
                out.send(src, SyncRequest(len(self.applied)))
                return
            elif self.applied[index - 1] != command:
                self.note("sync disagrees with the log")


def _build(config: ProtocolConfig) -> list[Replica]:
    return [CrashReplica(server, config) for server in config.servers]


def _claims(f: int, delta_s: float, tau_s: float) -> PrimaryBackupClaims:
    confirming = max(f - 1, 0) * confirm_delay(delta_s)
    return PrimaryBackupClaims(
        failover_s=f * delta_s + tau_s + confirming,
        blocking_s=0.0,
        outage_count=f,
        outage_s=tau_s + (f + 2) * delta_s + confirming,
    )


SPEC = register(
    ProtocolSpec(
        name="pb-crash",
        title="primary-backup for f crash failures, n = f + 1 (seed 001 §5)",
        failure_model=FailureModel.CRASH,
        replicas_default=3,
        build=_build,
        tolerated=lambda n: n - 1,
        replicas_problem=lambda n: None if n >= 1 else "pb-crash needs at least 1 server",
        claims=_claims,
        client_timeout_s=lambda delta_s, tau_s: 4 * delta_s,
    )
)
