"""Protocols and adversaries for the tests of Byzantine nodes and signatures.

* :class:`SignedRelay` — lock-step: in round 1 the sender signs its value and sends it
  to everyone; in round 2 every process relays each genuine signature it got; each
  process keeps what verified (``accepted``) and counts what did not (``rejected``);
  from round 3 it decides the sender's signed value, if a genuine signature of it came.
* :class:`Forger` — a Byzantine node that tries, in round 1, every way plain Python code
  could forge the sender's signature (built by hand, so that the fence that guards user
  strategies does not stop it first: the keyring itself must).
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace

from smrkit.core import ByzantineNode, ConsensusProcess, Message, NodeId, Out, Signed
from smrkit.core.byzantine import AdversaryConfig


@dataclass(frozen=True, slots=True)
class Carry(Message):
    """A signed value, and a label saying what the sender of this message meant it as."""

    signed: Signed[int]
    label: str = "honest"


@dataclass(frozen=True)
class RelayConfig:
    peers: tuple[NodeId, ...]
    sender: NodeId


class SignedRelay(ConsensusProcess):
    def __init__(self, node_id: NodeId, peers: Sequence[NodeId], sender: NodeId, value: int):
        super().__init__(node_id)
        self.config = RelayConfig(tuple(peers), sender)
        self.input = value
        self.accepted: list[tuple[str, NodeId, int]] = []
        self.rejected: list[str] = []
        self.got: list[Signed[int]] = []

    def on_start(self, out: Out) -> None:
        self.propose(self.input)

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        others = [p for p in self.config.peers if p != self.id]
        for _, msg in inbox:
            if not isinstance(msg, Carry):
                continue
            if out.verify(msg.signed):
                self.accepted.append((msg.label, msg.signed.signer, msg.signed.value))
                if msg.signed not in self.got:
                    self.got.append(msg.signed)
            else:
                self.rejected.append(msg.label)
        if r == 1 and self.id == self.config.sender:
            out.send_all(others, Carry(out.sign(self.input)))
        elif r == 2:
            for signed in self.got:
                out.send_all(others, Carry(signed, "relayed"))
        elif r >= 3 and not self.decided:
            genuine = [s for s in self.got if s.signer == self.config.sender]
            self.decide(genuine[0] if genuine else None)  # type: ignore[arg-type]
            self.done = True


def relay_world_nodes(n: int = 4, value: int = 7) -> list[SignedRelay]:
    peers = [f"p{i}" for i in range(1, n + 1)]
    return [SignedRelay(p, peers, "p1", value) for p in peers]


class Forger(ByzantineNode):
    """Waits for the sender's genuine signature (round 2's inbox), then tries to pass
    off the sender's signature of another value in every plain-Python way."""

    def __init__(self, honest: SignedRelay, config: AdversaryConfig, smuggled: object) -> None:
        super().__init__(honest, config)
        self.smuggled = smuggled
        self.attempts: list[str] = []

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        genuine = next(
            (m.signed for _, m in inbox if isinstance(m, Carry) and m.signed.signer == "p1"), None
        )
        if genuine is None or self.attempts:
            return
        forged: list[Carry] = []
        forged.append(Carry(Signed("p1", 666), "no seal"))
        forged.append(Carry(Signed("p1", 666, genuine.seal), "pasted seal"))
        forged.append(Carry(replace(genuine, value=666), "replaced value"))
        mutated = copy.copy(genuine)
        object.__setattr__(mutated, "value", 666)
        forged.append(Carry(mutated, "mutated copy"))
        seal_type = type(genuine.seal)
        try:
            seal_type("p1", "i666;")  # the text a seal of 666 would have
        except TypeError:
            self.attempts.append("constructing a seal was refused")
        fake = object.__new__(seal_type)
        for name in ("signer", "text"):
            getattr(seal_type, name).__set__(fake, {"signer": "p1", "text": "i666;"}[name])
        forged.append(Carry(Signed("p1", 666, fake), "object.__new__ seal"))
        try:
            pickle.dumps(genuine)
        except TypeError:
            self.attempts.append("pickling a seal was refused")
        forged.append(Carry(Signed("p1", 666, self.smuggled), "seal from another world"))
        forged.append(Carry(out.sign(666), "its own signature"))
        forged.append(Carry(copy.deepcopy(genuine), "deep copy (a relay)"))
        others = [p for p in self.config.nodes if p != self.id]
        for carry in forged:
            out.send_all(others, carry)
        self.attempts.append(f"sent {len(forged)} signatures")

    def moves(self) -> Sequence[Hashable]:
        return ()
