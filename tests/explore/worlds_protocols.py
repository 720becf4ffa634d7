"""Small protocols of "the user's own", loaded by ``smrkit worlds --protocol module:Name``.

``Unanimous`` keeps safety by giving up liveness: the lowest-ranked server orders every
command, but answers a client only once every other server has acknowledged it, so a
single silent server blocks everyone.

``SHARED_MEMORY`` cheats: its servers share one Python list (the "board"), which no
message carries and no omission can cut. It keeps both safety and liveness — which is
possible only outside the model, and shows up as views that differ between worlds.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, rank
from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.node import Out, Replica
from smrkit.core.ops import Command
from smrkit.protocols.claims import PrimaryBackupClaims
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec
from smrkit.protocols.service import Freshness, ReplicatedService


@dataclass(frozen=True, slots=True)
class Forward(Message):
    request: ClientRequest


@dataclass(frozen=True, slots=True)
class Accept(Message):
    command: Command


@dataclass(frozen=True, slots=True)
class Ack(Message):
    client: NodeId
    seq: int


class Unanimous(Replica):
    """Answers only what every server has accepted (safe, not live)."""

    def __init__(self, node_id: NodeId, config: ProtocolConfig) -> None:
        super().__init__(node_id)
        self.servers = tuple(sorted(config.servers, key=rank))
        self.leader = self.servers[0]
        self.service = ReplicatedService(config.app)
        self.applied = self.service.log
        self.waiting: dict[tuple[NodeId, int], tuple[Command, set[NodeId]]] = {}

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, ClientRequest) and self.id != self.leader:
            out.send(self.leader, Forward(msg))
        elif isinstance(msg, ClientRequest | Forward) and self.id == self.leader:
            self._propose(msg if isinstance(msg, ClientRequest) else msg.request, out)
        elif isinstance(msg, Accept) and src == self.leader:
            self.service.execute(msg.command)
            out.send(src, Ack(msg.command.client, msg.command.seq))
        elif isinstance(msg, Ack) and (msg.client, msg.seq) in self.waiting:
            self._on_ack(src, msg, out)

    def _propose(self, request: ClientRequest, out: Out) -> None:
        key = (request.client, request.seq)
        if key in self.waiting:
            return  # still waiting for acknowledgements
        if self.service.freshness(*key) is Freshness.DUPLICATE:
            result = self.service.cached_result(*key)
            out.send(request.client, ClientReply(request.client, request.seq, result))
            return
        command = Command(request.client, request.seq, request.op)
        self.waiting[key] = (command, set())
        out.send_all([s for s in self.servers if s != self.id], Accept(command))

    def _on_ack(self, src: NodeId, ack: Ack, out: Out) -> None:
        key = (ack.client, ack.seq)
        command, acked = self.waiting[key]
        acked.add(src)
        if len(acked) == len(self.servers) - 1:
            del self.waiting[key]
            result = self.service.execute(command)
            out.send(ack.client, ClientReply(ack.client, ack.seq, result))


class _SharedBoard(Replica):
    """Every server serves every request, after catching up with the shared board."""

    def __init__(self, node_id: NodeId, config: ProtocolConfig, board: list[Command]) -> None:
        super().__init__(node_id)
        self.service = ReplicatedService(config.app)
        self.applied = self.service.log
        self.board = board

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if not isinstance(msg, ClientRequest):
            return
        for command in self.board[len(self.applied) :]:
            self.service.execute(command)
        admitted = self.service.admit(src, msg, out)
        if admitted is not None:
            command, result = admitted
            self.board.append(command)
            out.send(src, ClientReply(msg.client, msg.seq, result))


def _build_shared(config: ProtocolConfig) -> list[Replica]:
    board: list[Command] = []  # one per world: built once per run
    return [_SharedBoard(server, config, board) for server in config.servers]


SHARED_MEMORY = ProtocolSpec(
    name="shared-memory",
    title="servers that share memory (outside the message-passing model)",
    failure_model=FailureModel.GENERAL_OMISSION,
    replicas_default=2,
    build=_build_shared,
    tolerated=lambda n: n - 1,
    replicas_problem=lambda n: None,
    claims=lambda f, delta_s, tau_s: PrimaryBackupClaims(),
    client_timeout_s=lambda delta_s, tau_s: 4 * delta_s,
)

NOT_A_PROTOCOL = 42
