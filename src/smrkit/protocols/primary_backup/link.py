"""pb-link: primary-backup for f crash+link failures with n = f + 2 servers (seed 001, §5).

Algorithm. The crash protocol (``pb-crash``) made to survive faulty links by sending every
server-to-server message over n − 1 disjoint paths (:mod:`.relay`): directly and through
each other server. f faults — crashed servers or links that lose messages, in any mix —
break at most f of the f + 1 paths, so a message between two correct servers arrives
within 2δ. Everything else follows from that one fact.

Failure detection. Servers send heartbeats in *slots*: at ``k·τ`` and then every 2δ after
it, up to f more times within the round (``k·τ + 2mδ`` for ``1 ≤ m ≤ f`` and
``2mδ < τ``). A server that has no heartbeat of a slot from s by the slot's time + 2δ
knows s crashed: a live s would have reached it over some path. Detection is therefore
accurate, never a guess — unlike a link failure, which a server cannot see.

Takeover. At each check a server that finds every lower-ranked server crashed becomes
the primary. Because detection is accurate, that is safe without agreement: a live
lower-ranked server is never declared dead (Pb1), and a correct primary is never
replaced (Pb5). The extra slots make a cascade of crashes during a takeover cost 2δ
each rather than a round. The new primary announces itself (``Takeover``) and, before it
serves any request, collects the backups' logs for 4δ (a relayed round trip): a primary
that crashed in the middle of an update may have reached some backups and not the new
primary, and that entry must not be overwritten. Logs are prefixes of one another (they
all come from the line of primaries), so the longest wins. Then it brings every backup
up to date and serves the requests it held back, and tells the clients (``PrimaryHint``).

Replication is nonblocking: the primary applies a request, sends the update over all
paths to every live backup, and replies at once. By the time the reply leaves, every
correct backup will have the update within 2δ, or the primary crashed before replying.

Failure model. Crash failures of servers and omission failures of links (each link that
loses messages, in one or both directions, over any windows, counts as one failure),
f in all; reliable clients and client links; FIFO links with delay at most δ;
synchronized clocks.

Bounds. n = f + 2, blocking 0, failover at most ``2f·δ + τ``, against Table 1's
n ≥ f + 2 (Theorem 2, assuming D < Γ — our ``PrimaryHint`` tells clients about a new
primary), blocking 0 and failover 2f·δ (Theorem 10): optimal up to the arbitrarily small
τ. With one server fewer (n = f + 1) two correct servers can be cut apart, and each
concludes the other crashed: ``smrkit bounds`` finds that run (two primaries). As a
(k, Δ)-bofo service, at most f outages of at most ``τ + (2f + 6)·δ`` each (requests lost
δ before a crash, the failover, 4δ of log collection, δ for the hint).
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, rank
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.node import Out, Replica, Timer
from smrkit.core.ops import Command
from smrkit.protocols.primary_backup.crash import Sync, Update
from smrkit.protocols.primary_backup.relay import Envelope, Relay
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, Targets, register
from smrkit.protocols.service import ReplicatedService

# --- messages (all travel inside relay envelopes; Update and Sync are pb-crash's) -----


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """Slot ``(round, slot)``'s "I am alive", with the sender's log length."""

    round: int
    slot: int
    log_length: int


@dataclass(frozen=True, slots=True)
class Takeover(Message):
    """ "Every server ranked below me has crashed; I am the primary." ``log_length`` is the
    new primary's log length, so a backup knows which of its entries to report."""

    log_length: int


@dataclass(frozen=True, slots=True)
class LogReport(Message):
    """A backup's answer to ``Takeover``: its log length and the entries the new primary
    lacks (``start, start + 1, …``)."""

    log_length: int
    start: int
    commands: tuple[Command, ...]


# --- state ----------------------------------------------------------------------------

SLOT = "slot"
CHECK = "check"
COLLECTED = "collected"


class LinkReplica(Replica):
    def __init__(self, node_id: NodeId, config: ProtocolConfig) -> None:
        super().__init__(node_id)
        if node_id not in config.servers:
            raise ValueError(f"{node_id} is not one of the servers {config.servers}")
        self.servers = tuple(sorted(config.servers, key=rank))
        self.clients = config.clients
        self.tau_s = config.tau_s
        self.delta_s = config.delta_s
        self.f = len(self.servers) - 2
        self.slots = 1 + sum(1 for m in range(1, self.f + 1) if 2 * m * self.delta_s < self.tau_s)
        self.relay = Relay(node_id, self.servers)
        self.service = ReplicatedService(config.app, config.sessions_max)
        self.applied = self.service.log
        self.primary: NodeId = self.servers[0]
        self.dead: set[NodeId] = set()
        self.heard: dict[NodeId, tuple[int, int]] = {}
        self.known_length: dict[NodeId, int] = {}
        self.early: dict[int, Command] = {}
        self.collecting = False
        self.reported: set[NodeId] = set()
        self.held: list[tuple[NodeId, ClientRequest]] = []

    # --- roles --------------------------------------------------------------------------

    def become_primary(self, out: Out, *, announce: bool) -> None:
        """Take over: announce, hold requests back until the backups' logs are in."""
        self.is_primary = True
        self.primary = self.id
        if not announce:
            return
        self.collecting = True
        self.reported = set()
        self.relay.send_all(
            reversed(self._backups()), Takeover(len(self.applied)), out, avoid=self.dead
        )
        out.send_all(
            self.service.clients_to_tell(self.clients), PrimaryHint(self.id, rank(self.id))
        )
        out.set_timer(COLLECTED, 4 * self.delta_s)

    def _finish_collecting(self, out: Out) -> None:
        """Every live backup reported (or 4δ passed): sync them, then serve."""
        self.collecting = False
        out.cancel_timer(COLLECTED)
        log = self.applied
        for backup in self._backups():
            start = self.known_length.get(backup, 0)
            if start < len(log):
                self.relay.send(backup, Sync(start + 1, tuple(log[start:])), out, avoid=self.dead)
        held, self.held = self.held, []
        for src, request in held:
            self._on_request(src, request, out)

    def _backups(self) -> list[NodeId]:
        return [s for s in self.servers if s != self.id and s not in self.dead]

    # --- handlers -----------------------------------------------------------------------

    def on_start(self, out: Out) -> None:
        if self.id == self.servers[0]:
            self.become_primary(out, announce=False)
        self._slot(0, 0, out)

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer == COLLECTED:
            self._finish_collecting(out)
            return
        assert isinstance(timer, tuple), timer
        kind, k, m = timer
        if kind == SLOT:
            self._slot(k, m, out)
        else:
            assert kind == CHECK, timer
            self._check(k, m, out)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, ClientRequest):
            self._on_request(src, msg, out)
            return
        if not isinstance(msg, Envelope) or src not in self.servers or src == self.id:
            self.note(
                f"{type(msg).__name__} from {'a stranger' if src not in self.servers else src}"
            )
            return
        payload = self.relay.receive(msg, out)
        if payload is None:
            return
        origin = msg.origin
        if origin in self.dead:
            self.note("message from a server known dead")
        elif isinstance(payload, Heartbeat):
            self.heard[origin] = max(self.heard.get(origin, (-1, 0)), (payload.round, payload.slot))
            self.known_length[origin] = max(self.known_length.get(origin, 0), payload.log_length)
        elif isinstance(payload, Update):
            self._on_update(origin, payload)
        elif isinstance(payload, Sync):
            self._on_sync(origin, payload)
        elif isinstance(payload, Takeover):
            self._on_takeover(origin, payload, out)
        elif isinstance(payload, LogReport):
            self._on_log_report(origin, payload, out)
        else:
            self.note(f"unexpected {type(payload).__name__}")

    # --- failure detection and takeover -------------------------------------------------

    def _slot(self, k: int, m: int, out: Out) -> None:
        """Heartbeat of slot (k, m), its check 2δ later, and the next slot."""
        start = k * self.tau_s + 2 * m * self.delta_s
        others = [s for s in reversed(self.servers) if s != self.id and s not in self.dead]
        self.relay.send_all(others, Heartbeat(k, m, len(self.applied)), out, avoid=self.dead)
        out.set_timer_at((CHECK, k, m), start + 2 * self.delta_s)
        if m + 1 < self.slots:
            out.set_timer_at((SLOT, k, m + 1), k * self.tau_s + 2 * (m + 1) * self.delta_s)
        else:
            out.set_timer_at((SLOT, k + 1, 0), (k + 1) * self.tau_s)

    def _check(self, k: int, m: int, out: Out) -> None:
        for server in self.servers:
            if (
                server != self.id
                and server not in self.dead
                and self.heard.get(server, (-1, 0)) < (k, m)
            ):
                self.dead.add(server)
        if not self.is_primary and next(s for s in self.servers if s not in self.dead) == self.id:
            self.become_primary(out, announce=True)

    def _on_takeover(self, src: NodeId, takeover: Takeover, out: Out) -> None:
        if rank(src) > rank(self.id) or self.is_primary:
            self.note("takeover by a higher-ranked server")
            return
        for server in self.servers:
            if rank(server) < rank(src):
                assert server != self.id, f"{self.id} learned it crashed"
                self.dead.add(server)
        self.primary = src
        self.early.clear()
        log = self.applied
        start = takeover.log_length
        extra = tuple(log[start:]) if len(log) > start else ()
        self.relay.send(src, LogReport(len(log), start + 1, extra), out, avoid=self.dead)

    def _on_log_report(self, src: NodeId, report: LogReport, out: Out) -> None:
        self.known_length[src] = report.log_length
        if not self.is_primary:
            return
        for offset, command in enumerate(report.commands):
            index = report.start + offset
            if index == len(self.applied) + 1:
                self.service.execute(command)
            elif index <= len(self.applied) and self.applied[index - 1] != command:
                self.note("log report disagrees with the log")
        self.reported.add(src)
        if self.collecting and all(b in self.reported for b in self._backups()):
            self._finish_collecting(out)

    # --- replication --------------------------------------------------------------------

    def _on_request(self, src: NodeId, request: ClientRequest, out: Out) -> None:
        if not self.is_primary:
            if self.primary not in self.dead:
                out.send(src, PrimaryHint(self.primary, rank(self.primary)))
            return  # Pb3: not enqueued
        if self.collecting:
            self.held.append((src, request))
            return
        admitted = self.service.admit(src, request, out)
        if admitted is None:
            return
        command, result = admitted
        update = Update(len(self.applied), command)
        self.relay.send_all(self._backups(), update, out, avoid=self.dead)
        out.send(src, ClientReply(request.client, request.seq, result))

    def _apply_in_order(self, index: int, command: Command) -> None:
        if index <= len(self.applied):
            return
        self.early[index] = command
        while len(self.applied) + 1 in self.early:
            self.service.execute(self.early.pop(len(self.applied) + 1))

    def _on_update(self, src: NodeId, update: Update) -> None:
        if src != self.primary or self.is_primary:
            self.note("update from a non-primary")
            return
        self._apply_in_order(update.index, update.command)

    def _on_sync(self, src: NodeId, sync: Sync) -> None:
        if src != self.primary or self.is_primary:
            self.note("sync from a non-primary")
            return
        for offset, command in enumerate(sync.commands):
            self._apply_in_order(sync.start + offset, command)


def _build(config: ProtocolConfig) -> list[Replica]:
    return [LinkReplica(server, config) for server in config.servers]


def _targets(f: int, delta_s: float, tau_s: float) -> Targets:
    return Targets(
        failover_s=2 * f * delta_s + tau_s,
        blocking_s=0.0,
        outage_count=f,
        outage_s=tau_s + (2 * f + 6) * delta_s,
    )


SPEC = register(
    ProtocolSpec(
        name="pb-link",
        title="primary-backup for f crash+link failures, n = f + 2 (seed 001 §5)",
        failure_model=FailureModel.CRASH_LINK,
        replicas_default=3,
        build=_build,
        tolerated=lambda n: max(n - 2, 0),
        replicas_problem=lambda n: None if n >= 2 else "pb-link needs at least 2 servers",
        targets=_targets,
        client_timeout_s=lambda delta_s, tau_s: 8 * delta_s,
    )
)
