"""Deliberately broken protocols, to show the checkers catch them.

``pb-crash-replies-first`` is pb-crash with one line moved: the primary replies to the
client *before* sending the update to the backups. If it crashes between the two sends,
the client holds an acknowledgement for a command no surviving server has, and the next
primary forgets an acknowledged write — exactly what seed 001 §2.1 says the message order
is there to prevent.

``pb-crash-boastful`` is pb-crash with a target it cannot keep, so that a figure beyond
its target is seen to be a violation.

``pb-general-omission-trusting`` is the quorum engine before the fix its scenario script
pins (``tests/protocols/testdata/quorum_missed_takeover.txt``): a follower that hears a
newer primary's heartbeat applies that primary's commit point to its own log, even to
an old epoch's tail it never had replaced.

``pb-general-omission-old-epochs`` is the quorum engine before the fix
``tests/protocols/testdata/quorum_figure8.txt`` pins (Raft's Figure 8): a vote ranks a
log by its last entry's epoch, so a new primary that commits an adopted entry of an
older epoch leaves it looking old, and a server holding an intermediate epoch's entry
later outranks it in an election and overwrites it.

``pb-general-omission-truncating`` is the quorum engine before the fix
``tests/protocols/testdata/quorum_takeover_parts.txt`` pins: a follower splices each
part of a takeover as it comes, and the first part drops the rest of its log, entries
it acknowledged among them.

``pb-general-omission-restarts-in-sync`` is the quorum engine before the fix
``tests/protocols/testdata/quorum_restart_out_of_sync.txt`` pins: a restarted server
takes its log for a prefix of its epoch's primary's log, even one it never had replaced.
"""

from __future__ import annotations

from dataclasses import replace

from smrkit.core.ids import NodeId
from smrkit.core.messages import ClientReply, ClientRequest
from smrkit.core.node import Out, Replica
from smrkit.core.ops import Command
from smrkit.protocols.claims import PrimaryBackupClaims
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


SPEC = ProtocolSpec(
    name=BROKEN,
    title="pb-crash replying before the update (broken on purpose)",
    failure_model=crash.SPEC.failure_model,
    replicas_default=crash.SPEC.replicas_default,
    build=_build,
    tolerated=crash.SPEC.tolerated,
    replicas_problem=crash.SPEC.replicas_problem,
    claims=crash.SPEC.claims,
    client_timeout_s=crash.SPEC.client_timeout_s,
)
"""``smrkit sweep --protocol tests.protocols.broken_variants:SPEC`` sweeps it."""


def _boastful_claims(f: int, delta_s: float, tau_s: float) -> PrimaryBackupClaims:
    honest = crash.SPEC.claims(f, delta_s, tau_s)
    assert isinstance(honest, PrimaryBackupClaims)
    return replace(honest, failover_s=f * delta_s, outage_count=0)


BOASTFUL = replace(
    crash.SPEC,
    name="pb-crash-boastful",
    title="pb-crash claiming failover f·δ and no outage at all (false on purpose)",
    claims=_boastful_claims,
)
"""pb-crash itself, claiming targets it cannot meet: the lower bound f·δ for its
failover, without the heartbeat period τ, and not one outage. Correct runs, figures
beyond the targets."""


def register_broken() -> ProtocolSpec:
    try:
        return get_protocol(BROKEN)
    except KeyError:
        return register(SPEC)


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


def _register_engine_variant(
    name: str, title: str, cls: type[quorum.QuorumReplica]
) -> ProtocolSpec:
    """Register the quorum engine with ``cls`` for its replicas under ``name``."""
    try:
        return get_protocol(name)
    except KeyError:
        return register(
            replace(
                GENERAL_OMISSION,
                name=name,
                title=title,
                build=lambda config: [cls(server, config) for server in config.servers],
            )
        )


OLD_EPOCHS = "pb-general-omission-old-epochs"


class KeepsOldEpochs(quorum.QuorumReplica):
    def _ballot_epoch(self) -> int:
        return self.epochs[-1] if self.epochs else -1  # the bug: the last entry's epoch


def register_old_epochs() -> ProtocolSpec:
    title = "the quorum engine ranking votes by the last entry's epoch (broken)"
    return _register_engine_variant(OLD_EPOCHS, title, KeepsOldEpochs)


TRUNCATING = "pb-general-omission-truncating"


class SplicesEveryPart(quorum.QuorumReplica):
    def _take_part(
        self,
        epoch: int,
        start: int,
        epochs: tuple[int, ...],
        commands: tuple[Command, ...],
        length: int,
    ) -> bool | None:
        return self._splice(start, epochs, commands, length)  # the bug: may shorten the log


def register_truncating() -> ProtocolSpec:
    title = "the quorum engine splicing a takeover's parts as they come (broken)"
    return _register_engine_variant(TRUNCATING, title, SplicesEveryPart)


RESTARTS_IN_SYNC = "pb-general-omission-restarts-in-sync"


class RestartsInSync(quorum.QuorumReplica):
    def _recover(self, out: Out) -> None:
        super()._recover(out)
        self.in_sync = True  # the bug: a restarted log taken for its primary's prefix


def register_restarts_in_sync() -> ProtocolSpec:
    title = "the quorum engine taking a restarted log for its primary's prefix (broken)"
    return _register_engine_variant(RESTARTS_IN_SYNC, title, RestartsInSync)
