"""Exponential information gathering (EIG): Byzantine consensus without signatures, for
n > 3f, in f + 1 lock-step rounds.

**The algorithm** (Lamport, Shostak and Pease; Lynch's *Distributed Algorithms* §6.3).
Each process keeps a tree of values labelled by sequences of distinct processes of length
0 … f + 1: ``val[(j, k)]`` is "what k told me that j told k", ``val[()]`` its own
proposal.

* Round r = 1 … f + 1: a process sends every value of its level r − 1 whose label does not
  name it — ``val[σ]`` for ``|σ| = r − 1`` — to every process, and records its own relay
  (``val[σ + (me,)] = val[σ]``). A value received from j for label σ (of the right
  length, not naming j) is stored as ``val[σ + (j,)]``; anything else is counted and
  dropped.
* After round f + 1 (in ``on_round(f + 2)``) it computes ``newval`` bottom-up: a leaf's
  ``newval`` is its value (:data:`NU` if none arrived); an inner node's is the strict
  majority of its children's ``newval``, or ``NU`` when there is none. It decides
  ``newval(())``.

**Failure and timing model.** Lock-step rounds; up to f Byzantine processes, which may
send anything (or nothing) but cannot make a message appear to come from someone else
(authenticated links, no signatures). **Bounds**: correct iff n > 3f (with n ≤ 3f the
hexagon of :mod:`smrkit.explore.hexagon` breaks it), f + 1 rounds (tight, as for
crashes); messages of n!/(n − r)! values in round r — exponential, hence the name.

Why it works: a label ending in a correct process has ``newval`` equal to its value at
every correct process (by induction from the leaves: n − |σ| > 2f children, a majority
of them correct and relaying faithfully), and on every path of f + 1 distinct processes
one is correct, so the correct processes' trees agree at the root (*agreement*); if every
correct process proposes v, the root's children of correct processes are v, a majority
(*validity*).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from smrkit.core import agreement
from smrkit.core.byzantine import AdversaryConfig, ByzantineNode
from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import ConsensusProcess, Node, Out
from smrkit.core.ops import Value

NU = agreement.NU
"""The default decision: no strict majority (seed 002's "no decision" value)."""

Label = tuple[NodeId, ...]


@dataclass(frozen=True, slots=True)
class Level(Message):
    """One round's relays: ``values[k]`` is the sender's value for ``labels[k]``."""

    labels: tuple[Label, ...]
    values: tuple[Value, ...]

    equivocal_fields = ("values",)


@dataclass(frozen=True)
class EigConfig:
    processes: tuple[NodeId, ...]
    f: int


def labels_of(processes: Sequence[NodeId], length: int, without: NodeId | None) -> list[Label]:
    """Every label of ``length`` distinct processes, none of them ``without``."""
    pool = [p for p in processes if p != without]
    return list(itertools.permutations(pool, length))


class Eig(ConsensusProcess):
    """One EIG process proposing ``value``."""

    def __init__(self, node_id: NodeId, processes: Sequence[NodeId], f: int, value: Value) -> None:
        super().__init__(node_id)
        self.config = EigConfig(tuple(processes), f)
        self.input = value
        self.val: dict[Label, Value] = {}
        self.dropped = 0
        """Malformed or duplicated relays: counted and dropped."""

    def on_start(self, out: Out) -> None:
        self.propose(self.input)
        self.val[()] = self.input

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        if self.decided:
            return
        config = self.config
        heard: set[NodeId] = set()
        for src, msg in inbox:
            if not isinstance(msg, Level) or src in heard or not self._well_formed(src, msg, r):
                self.dropped += 1
                continue
            heard.add(src)
            for label, value in zip(msg.labels, msg.values, strict=True):
                self.val[(*label, src)] = value
        if r <= config.f + 1:
            labels = [lab for lab in labels_of(config.processes, r - 1, None) if self.id not in lab]
            values = tuple(self.val.get(lab, NU) for lab in labels)
            for label, value in zip(labels, values, strict=True):
                self.val[(*label, self.id)] = value
            others = [p for p in config.processes if p != self.id]
            out.send_all(others, Level(tuple(labels), values))
            return
        self.decide(self.newval(()))
        self.done = True

    def _well_formed(self, src: NodeId, msg: Level, r: int) -> bool:
        processes = self.config.processes
        if src not in processes or len(msg.labels) != len(msg.values):
            return False
        if len(set(msg.labels)) != len(msg.labels):
            return False
        return all(
            isinstance(label, tuple)
            and len(label) == r - 2
            and src not in label
            and len(set(label)) == len(label)
            and all(p in processes for p in label)
            for label in msg.labels
        )

    def newval(self, label: Label) -> Value:
        """The value the tree resolves ``label`` to (the module docstring's ``newval``)."""
        if len(label) == self.config.f + 1:
            return self.val.get(label, NU)
        children = [self.newval((*label, p)) for p in self.config.processes if p not in label]
        for candidate in dict.fromkeys(children):
            if children.count(candidate) * 2 > len(children):
                return candidate
        return NU


DOMAIN: tuple[Value, ...] = (0, 1)
"""The values an :class:`AnyLevel` adversary may report."""


class AnyLevel(ByzantineNode):
    """The bounded adversary the model checker explores: between rounds it may send each
    other process one :class:`Level` message with any assignment of :data:`DOMAIN` values
    to the labels it relays in that round — or send it nothing. Moves come in one
    canonical order (destinations increasing within a round)."""

    strategy = "any-level"

    def __init__(self, honest: Node, config: AdversaryConfig) -> None:
        super().__init__(honest, config)
        self.round = 0
        self.served: list[NodeId] = []

    def on_start(self, out: Out) -> None:
        pass

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        self.round = r
        self.served = []

    def _config(self) -> EigConfig:
        honest = self.honest
        assert isinstance(honest, Eig)
        return honest.config

    def moves(self) -> Sequence[Hashable]:
        config, r = self._config(), self.round
        if not 1 <= r <= config.f + 1:
            return ()
        labels = [lab for lab in labels_of(config.processes, r - 1, None) if self.id not in lab]
        peers = self.peers
        start = peers.index(self.served[-1]) + 1 if self.served else 0
        return tuple(
            (dst, values)
            for dst in peers[start:]
            for values in itertools.product(DOMAIN, repeat=len(labels))
        )

    def on_move(self, move: Hashable, out: Out) -> None:
        assert isinstance(move, tuple)
        dst: NodeId = move[0]
        values: tuple[Value, ...] = move[1]
        labels = [
            lab
            for lab in labels_of(self._config().processes, self.round - 1, None)
            if self.id not in lab
        ]
        out.send(dst, Level(tuple(labels), tuple(values)))
        self.served.append(dst)
