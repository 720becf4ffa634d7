"""User protocols for the hexagon's tests, built as ``Class(node_id, processes, f, value)``.

* :class:`MajorityOnce` — one round: send your value to everyone, decide the majority of
  what you hold (your own value breaks ties). Not Byzantine-tolerant at any n.
* :class:`SignedMajority` — the same with signed values relayed once more (round 2),
  counting only signatures that verify: the construction cannot imitate it, so the views
  part and the run says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smrkit.core import ConsensusProcess, Message, NodeId, Out, Signed


@dataclass(frozen=True, slots=True)
class Vote(Message):
    value: int


@dataclass(frozen=True, slots=True)
class SignedVote(Message):
    signed: Signed[int]


@dataclass(frozen=True)
class Config:
    processes: tuple[NodeId, ...]
    f: int


def _majority(values: list[int], mine: int) -> int:
    ones = values.count(1)
    zeros = values.count(0)
    return mine if ones == zeros else (1 if ones > zeros else 0)


class MajorityOnce(ConsensusProcess):
    def __init__(self, node_id: NodeId, processes: Sequence[NodeId], f: int, value: int) -> None:
        super().__init__(node_id)
        self.config = Config(tuple(processes), f)
        self.input = value

    def on_start(self, out: Out) -> None:
        self.propose(self.input)

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        if r == 1:
            out.send_all([p for p in self.config.processes if p != self.id], Vote(self.input))
        elif not self.decided:
            votes = [self.input] + [m.value for _, m in inbox if isinstance(m, Vote)]
            self.decide(_majority(votes, self.input))
            self.done = True


class SignedMajority(ConsensusProcess):
    def __init__(self, node_id: NodeId, processes: Sequence[NodeId], f: int, value: int) -> None:
        super().__init__(node_id)
        self.config = Config(tuple(processes), f)
        self.input = value
        self.seen: list[Signed[int]] = []

    def on_start(self, out: Out) -> None:
        self.propose(self.input)

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        others = [p for p in self.config.processes if p != self.id]
        fresh = [
            m.signed
            for _, m in inbox
            if isinstance(m, SignedVote) and out.verify(m.signed) and m.signed not in self.seen
        ]
        self.seen.extend(fresh)
        if r == 1:
            mine = out.sign(self.input)
            self.seen.append(mine)
            out.send_all(others, SignedVote(mine))
        elif r == 2:
            for signed in fresh:
                out.send_all(others, SignedVote(signed))
        elif not self.decided:
            by_signer = {s.signer: s.value for s in self.seen}
            self.decide(_majority(list(by_signer.values()), self.input))
            self.done = True
