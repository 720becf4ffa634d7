"""Deliberately broken protocols, to show the checkers catch them.

``pb-crash-replies-first`` is pb-crash with one line moved: the primary replies to the
client *before* sending the update to the backups. If it crashes between the two sends,
the client holds an acknowledgement for a command no surviving server has, and the next
primary forgets an acknowledged write — exactly what seed 001 §2.1 says the message order
is there to prevent.
"""

from __future__ import annotations

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest
from smrkit.core.node import Out, Replica
from smrkit.protocols.primary_backup import crash
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, get_protocol, register

BROKEN = "pb-crash-replies-first"


class RepliesFirst(crash.CrashReplica):
    def _on_request(self, src: NodeId, request: ClientRequest, out: Out) -> None:
        if not self.is_primary:
            super()._on_request(src, request, out)
            return
        admitted = self.service.admit(src, request, out)
        if admitted is None:
            return
        command, result = admitted
        out.send(src, ClientReply(request.client, request.seq, result))  # the bug
        out.send_all(self._backups(), crash.Update(len(self.applied), command))


def _build(config: ProtocolConfig) -> list[Replica]:
    return [RepliesFirst(server, config) for server in config.servers]


def register_broken() -> ProtocolSpec:
    try:
        return get_protocol(BROKEN)
    except KeyError:
        base = crash.SPEC
        return register(
            ProtocolSpec(
                name=BROKEN,
                title="pb-crash replying before the update (broken on purpose)",
                failure_model=base.failure_model,
                replicas_default=base.replicas_default,
                build=_build,
                tolerated=base.tolerated,
                replicas_problem=base.replicas_problem,
                claims=base.claims,
                client_timeout_s=base.client_timeout_s,
            )
        )
