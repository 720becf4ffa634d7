"""Deliberately broken protocols, to show the checkers catch them.

``pb-crash-replies-first`` is pb-crash with one line moved: the primary replies to the
client *before* sending the update to the backups. If it crashes between the two sends,
the client holds an acknowledgement for a command no surviving server has, and the next
primary forgets an acknowledged write — exactly what seed 001 §2.1 says the message order
is there to prevent.

``pb-general-omission-trusting`` is the quorum engine before the fix its scenario script
pins (``tests/protocols/testdata/quorum_missed_takeover.txt``): a follower that hears a
newer primary's heartbeat applies that primary's commit point to its own log, even to
an old epoch's tail it never had replaced.
"""

from __future__ import annotations

from dataclasses import replace

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest
from smrkit.core.node import Out, Replica
from smrkit.protocols.primary_backup import crash, quorum
from smrkit.protocols.primary_backup.general_omission import SPEC as GENERAL_OMISSION
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


TRUSTING = "pb-general-omission-trusting"


class TrustsNewerHeartbeats(quorum.QuorumReplica):
    def _on_heartbeat(self, src: NodeId, beat: quorum.Heartbeat, out: Out) -> None:
        super()._on_heartbeat(src, beat, out)
        if self.primary == src and not self.in_sync:
            self.in_sync = True  # the bug: the newer primary's commit applies to this tail
            self._advance(beat.commit)


def register_trusting() -> ProtocolSpec:
    try:
        return get_protocol(TRUSTING)
    except KeyError:
        return register(
            replace(
                GENERAL_OMISSION,
                name=TRUSTING,
                title="the quorum engine trusting a newer primary's commit point (broken)",
                build=lambda config: [
                    TrustsNewerHeartbeats(server, config) for server in config.servers
                ],
            )
        )
