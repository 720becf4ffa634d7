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
candidate crashed — and so on down the ranks. A cascade of crashes during a takeover
therefore costs δ each, not a whole round: the failover time is at most ``f·δ + τ``.
The new primary first sends the backups the log entries they may miss (from the least
log length their heartbeats reported, in rank order, so the next candidate is always
the most up to date), then ``Takeover`` (highest rank first), then a ``PrimaryHint`` to
every client, which moves their ``Dest`` (D < Γ).

Prmy = "I took over (or am p1) and have not crashed". Failure detection is accurate in
the crash model, so a server becomes primary only when every lower-ranked one crashed:
never two primaries (Pb1), and a correct primary stays primary (Pb5).

Failure model. Crash failures of up to f = n − 1 servers; reliable FIFO links with delay
at most δ; perfectly synchronized clocks; correct clients.

Bounds. Blocking 0 and failover ``f·δ + τ`` for any τ > 0, against Table 1's lower
bounds of n ≥ f + 1, blocking 0 and failover f·δ (Theorems 1 and 9): optimal up to the
arbitrarily small τ. As a (k, Δ)-bofo service: each outage starts at most δ before a
primary crash (requests in flight) and ends at most δ after the takeover (the hint in
flight), so requests go unanswered during at most f periods of at most
``τ + (f + 2)·δ`` each.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, rank
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.node import Out, Replica, Timer
from smrkit.core.ops import Command
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, Targets, register
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
    """ "Every server ranked below me has crashed; I am the primary as of round ``round``."""

    round: int
    log_length: int


@dataclass(frozen=True, slots=True)
class SyncRequest(Message):
    """A backup saw a gap after its ``have``-th entry (impossible in the crash model;
    this keeps the protocol live when it is run outside its model)."""

    have: int


# --- state ----------------------------------------------------------------------------

ROUND = "round"
CHECK = "check"


class CrashReplica(Replica):
    def __init__(self, node_id: NodeId, config: ProtocolConfig) -> None:
        super().__init__(node_id)
        if node_id not in config.servers:
            raise ValueError(f"{node_id} is not one of the servers {config.servers}")
        self.servers = tuple(sorted(config.servers, key=rank))
        self._ranks = {server: rank(server) for server in self.servers}
        self.clients = config.clients
        self.tau_s = config.tau_s
        self.delta_s = config.delta_s
        self.service = ReplicatedService(config.app, config.sessions_max)
        self.applied = self.service.log
        self.primary: NodeId = self.servers[0]
        self.dead: set[NodeId] = set()
        self.round = 0
        self.heard: dict[NodeId, int] = {}
        self.known_length: dict[NodeId, int] = {}
        self.expected: dict[int, NodeId] = {}

    # --- roles --------------------------------------------------------------------------

    def become_primary(self, out: Out, *, announce: bool) -> None:
        """Take over: bring the backups up to date, tell the servers, tell the clients."""
        self.is_primary = True
        self.primary = self.id
        if not announce:
            return
        backups = self._backups()
        log = self.applied
        start = min((self.known_length.get(b, 0) for b in backups), default=len(log))
        if start < len(log):
            out.send_all(backups, Sync(start + 1, tuple(log[start:])))
        out.send_all(reversed(backups), Takeover(self.round, len(log)))
        out.send_all(
            self.service.clients_to_tell(self.clients), PrimaryHint(self.id, rank(self.id))
        )

    def _backups(self) -> list[NodeId]:
        return [s for s in self.servers if s != self.id and s not in self.dead]

    def _mark_dead(self, server: NodeId) -> None:
        assert server != self.id, f"{self.id} concluded it crashed itself"
        self.dead.add(server)

    # --- handlers -----------------------------------------------------------------------

    def on_start(self, out: Out) -> None:
        if self.id == self.servers[0]:
            self.become_primary(out, announce=False)
        self._start_round(0, out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer == ROUND:
            self._start_round(self.round + 1, out)
            return
        assert isinstance(timer, tuple) and timer[0] == CHECK, timer
        _, k, m = timer
        if m == 1:
            for server in self.servers:
                if server != self.id and self.heard.get(server, -1) < k:
                    self._mark_dead(server)
        else:
            candidate = self.expected.pop(k, None)
            if candidate is not None and candidate != self.primary:
                self._mark_dead(candidate)
        self._decide(k, m, out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, ClientRequest):
            self._on_request(src, msg, out)
        elif src not in self._ranks:
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
            self._on_takeover(src)
        elif isinstance(msg, SyncRequest) and self.is_primary:
            out.send(src, Sync(msg.have + 1, tuple(self.applied[msg.have :])))
        else:
            self.note(f"unexpected {type(msg).__name__}")

    # --- failure detection and takeover -------------------------------------------------

    def _start_round(self, k: int, out: Out) -> None:
        self.round = k
        others = [s for s in reversed(self.servers) if s != self.id and s not in self.dead]
        out.send_all(others, Heartbeat(k, len(self.applied)))
        out.set_timer_at((CHECK, k, 1), k * self.tau_s + self.delta_s)
        out.set_timer_at(ROUND, (k + 1) * self.tau_s)

    def _decide(self, k: int, m: int, out: Out) -> None:
        if self.is_primary:
            return
        candidate = next(s for s in self.servers if s not in self.dead)
        if candidate == self.id:
            self.become_primary(out, announce=True)
        elif candidate != self.primary:
            self.expected[k] = candidate
            out.set_timer_at((CHECK, k, m + 1), k * self.tau_s + (m + 1) * self.delta_s)

    def _on_takeover(self, src: NodeId) -> None:
        if rank(src) > rank(self.id):
            self.note("takeover by a higher-ranked server")
            return
        for server in self.servers:
            if rank(server) < rank(src):
                self._mark_dead(server)
        self.primary = src

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


def _targets(f: int, delta_s: float, tau_s: float) -> Targets:
    return Targets(
        failover_s=f * delta_s + tau_s,
        blocking_s=0.0,
        outage_count=f,
        outage_s=tau_s + (f + 2) * delta_s,
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
        targets=_targets,
        client_timeout_s=lambda delta_s, tau_s: 4 * delta_s,
    )
)
