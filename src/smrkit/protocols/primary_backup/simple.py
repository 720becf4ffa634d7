"""pb-simple: the two-server primary-backup protocol of seed 001, §2.1, exactly.

Algorithm. Server p1 is the primary and p2 the backup. Whenever p1 receives a request
it processes it, sends the update to p2 (message 2 of the paper's Figure 1) and then,
without waiting for an acknowledgement, sends the response to the client (message 3).
The order matters: if the client gets a response, p2 has received the update or has
crashed. In addition p1 sends a message to p2 every τ seconds. If p2 receives nothing
from p1 for τ + δ seconds it becomes the primary, tells the clients (who update their
``Dest``) and processes the requests they send from then on.

Prmy. ``Prmy_p1`` = p1 has not crashed; ``Prmy_p2`` = p2 has heard nothing from p1 for
τ + δ. In the crash model they are never true together (Pb1).

Failure model. Crash failures of one server (f = 1), n = 2, over reliable links with
delays at most δ; clients correct.

Bounds (what the paper derives, and what ``smrkit sim --protocol pb-simple`` measures):

* blocking 0 — the response leaves in the same step the request arrives;
* failover ≤ τ + 2δ — p1 crashes right after a message that takes δ to arrive; p2 waits
  τ + δ more;
* a (1, τ + 4δ)-bofo service — requests sent from t_c − δ on may reach p1 after its crash
  at t_c, p2 may take over only at t_c + τ + 2δ, and clients may learn so δ later.

Table 1 (crash, f = 1) says no protocol does better than 2 servers, 0 blocking and a
failover of δ (Theorems 1 and 9); pb-crash reaches failover δ + τ for any τ > 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.node import Out, Replica, Timer
from smrkit.core.ops import Command
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, Targets, register
from smrkit.protocols.service import ReplicatedService

# --- messages -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Update(Message):
    """The ``index``-th command applied by the primary (message 2 of Figure 1)."""

    index: int
    command: Command


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """p1's periodic "I am alive", every τ."""


# --- state ----------------------------------------------------------------------------

HEARTBEAT = "heartbeat"
SILENCE = "silence"


class SimpleReplica(Replica):
    def __init__(self, node_id: NodeId, config: ProtocolConfig) -> None:
        super().__init__(node_id)
        if len(config.servers) != 2 or node_id not in config.servers:
            raise ValueError(f"pb-simple runs on exactly two servers, got {config.servers}")
        self.first, self.second = config.servers
        self.clients = config.clients
        self.tau_s = config.tau_s
        self.delta_s = config.delta_s
        self.service = ReplicatedService(config.app, config.sessions_max)
        self.applied = self.service.log
        self.ignored: dict[str, int] = {}

    # --- roles --------------------------------------------------------------------------

    def become_primary(self, out: Out) -> None:
        self.is_primary = True
        if self.id == self.second:
            out.send_all(self.clients, PrimaryHint(self.id, 2))

    # --- handlers -----------------------------------------------------------------------

    def on_start(self, out: Out) -> None:
        if self.id == self.first:
            self.become_primary(out)
            out.send(self.second, Heartbeat())
            out.set_timer(HEARTBEAT, self.tau_s)
        else:
            out.set_timer(SILENCE, self.tau_s + self.delta_s)

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, ClientRequest):
            if self.is_primary:
                self._serve(src, msg, out)
            return  # Pb3: a request at a non-primary is not enqueued
        if src != self.first or self.id != self.second or self.is_primary:
            self._ignore(f"{type(msg).__name__} from {src}")
            return
        out.set_timer(SILENCE, self.tau_s + self.delta_s)
        if isinstance(msg, Update):
            if msg.index == len(self.applied) + 1:
                self.service.execute(msg.command)
            else:
                self._ignore(f"update {msg.index} after {len(self.applied)}")
        elif not isinstance(msg, Heartbeat):
            self._ignore(f"unexpected {type(msg).__name__}")

    def _ignore(self, what: str) -> None:
        """A message outside the protocol: counted and dropped, never a crash."""
        self.ignored[what] = self.ignored.get(what, 0) + 1

    def on_timer(self, timer: Timer, out: Out) -> None:
        if timer == HEARTBEAT:
            out.send(self.second, Heartbeat())
            out.set_timer(HEARTBEAT, self.tau_s)
        elif timer == SILENCE and not self.is_primary:
            self.become_primary(out)

    def _serve(self, src: NodeId, request: ClientRequest, out: Out) -> None:
        admitted = self.service.admit(src, request, out)
        if admitted is None:
            return
        command, result = admitted
        if self.id == self.first:
            out.send(self.second, Update(len(self.applied), command))
        out.send(src, ClientReply(request.client, request.seq, result))


def _build(config: ProtocolConfig) -> list[Replica]:
    return [SimpleReplica(server, config) for server in config.servers]


def _targets(f: int, delta_s: float, tau_s: float) -> Targets:
    return Targets(
        failover_s=tau_s + 2 * delta_s,
        blocking_s=0.0,
        outage_count=1,
        outage_s=tau_s + 4 * delta_s,
    )


SPEC = register(
    ProtocolSpec(
        name="pb-simple",
        title="two-server primary-backup of seed 001 §2.1",
        failure_model=FailureModel.CRASH,
        replicas_default=2,
        build=_build,
        tolerated=lambda n: 1,
        replicas_problem=lambda n: None if n == 2 else "pb-simple runs on exactly 2 servers",
        targets=_targets,
        client_timeout_s=lambda delta_s, tau_s: 4 * delta_s,
    )
)
