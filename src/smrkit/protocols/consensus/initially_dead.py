"""Consensus when processes can only be dead from the start: the protocol of Fischer,
Lynch and Paterson's §4 (Theorem 2), what escapes FLP by restricting the failures.

Algorithm. Let L = ⌈(n + 1)/2⌉, a majority. Every process p runs two stages.

1. p sends ``Hello(value)`` to every other process and waits for hellos from L − 1 of
   them: its *in-neighbours*. Read the runs as a directed graph G in which each process
   has an edge from each of its in-neighbours: every live process has in-degree L − 1.
2. p sends ``Stage2(value, in-neighbours)`` to every other process, and waits until it
   has the stage-2 message of every one of its *ancestors* in G — its in-neighbours,
   theirs (which it learns from their stage-2 messages), and so on. It then knows the
   part of G that leads to it, with every ancestor's input.

In G's transitive closure there is exactly one *initial clique*: a set of processes, each
an ancestor of each other, with no ancestor outside it. (A source component of G has
in-degree L − 1 inside it, so at least L members; two such disjoint sets would hold more
than n processes.) Every process has the initial clique among its ancestors, computes
it from what it knows, and decides the same function of its members' inputs: the value
most of them hold, ties going to the smaller. Agreement follows, and validity: the
decided value is an input.

Failure and timing model. At most t processes are dead from the start (they never send
a message), with n > 2t, so that L − 1 ≤ n − t − 1 live processes answer; no process
fails later. The network is asynchronous: every message between live processes arrives
eventually, in any order; there is no clock. A process that crashes *during* the run
breaks it (a process waiting for that process's stage-2 message waits forever): FLP's
Theorem 1 is about exactly that failure, and this protocol does not escape it.

Bounds. Every live process decides after two message delays (stage 1, then stage 2, in
which its ancestors' messages travel in parallel); 2n(n − 1) messages; n > 2t is
necessary for this to work (with n ≤ 2t two disjoint groups of live processes can each
see only themselves and decide differently).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import ConsensusProcess, Out
from smrkit.protocols.claims import ConsensusClaims
from smrkit.protocols.registry import ProtocolConfig, ProtocolSpec, register


@dataclass(frozen=True, slots=True)
class Hello(Message):
    value: int


@dataclass(frozen=True, slots=True)
class Stage2(Message):
    value: int
    heard: tuple[NodeId, ...]
    """The sender's in-neighbours: the L − 1 processes whose hellos it waited for."""


@dataclass(frozen=True)
class InitiallyDeadConfig:
    peers: tuple[NodeId, ...]
    """Every process, this one included, in rank order."""

    @property
    def majority(self) -> int:
        """L = ⌈(n + 1)/2⌉."""
        return len(self.peers) // 2 + 1


class InitiallyDeadConsensus(ConsensusProcess):
    """One process of FLP's §4 protocol, proposing ``value``."""

    def __init__(self, node_id: NodeId, peers: tuple[NodeId, ...], value: int) -> None:
        super().__init__(node_id)
        self.config = InitiallyDeadConfig(peers)
        self.input = value
        self.heard: list[NodeId] = []
        """Stage 1: the in-neighbours, in the order their hellos arrived."""
        self.known: dict[NodeId, tuple[int, tuple[NodeId, ...]]] = {}
        """Stage 2: each process's input and in-neighbours, as its stage-2 message said."""

    @property
    def others(self) -> list[NodeId]:
        return [p for p in self.config.peers if p != self.id]

    def on_start(self, out: Out) -> None:
        self.propose(self.input)
        out.send_all(self.others, Hello(self.input))

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if self.decided:
            return
        match msg:
            case Hello() if len(self.heard) < self.config.majority - 1 and src not in self.heard:
                self.heard.append(src)
                if len(self.heard) == self.config.majority - 1:
                    self.heard.sort()
                    self.known[self.id] = (self.input, tuple(self.heard))
                    out.send_all(self.others, Stage2(self.input, tuple(self.heard)))
            case Stage2(value=v, heard=heard) if src not in self.known:
                self.known[src] = (v, heard)
                self.known = dict(sorted(self.known.items()))
            case _:
                return
        self._try_decide()

    def _try_decide(self) -> None:
        if self.id not in self.known:
            return
        ancestors = _ancestors(self.id, self.known)
        if not ancestors <= self.known.keys():
            return  # an ancestor's stage-2 message is still on its way
        clique = initial_clique(ancestors, self.known)
        values = Counter(self.known[p][0] for p in clique)
        self.decide(min(values.items(), key=lambda item: (-item[1], item[0]))[0])
        self.done = True


def _ancestors(node: NodeId, known: dict[NodeId, tuple[int, tuple[NodeId, ...]]]) -> set[NodeId]:
    """``node`` and every process with a path to it, as far as ``known`` tells."""
    found = {node}
    frontier = [node]
    while frontier:
        current = frontier.pop()
        if current not in known:
            continue
        for parent in known[current][1]:
            if parent not in found:
                found.add(parent)
                frontier.append(parent)
    return found


def initial_clique(
    ancestors: set[NodeId], known: dict[NodeId, tuple[int, tuple[NodeId, ...]]]
) -> list[NodeId]:
    """The processes among ``ancestors`` (a set closed under in-neighbours) whose every
    ancestor is also their descendant: the source component of the graph, sorted."""
    reach = {p: _ancestors(p, known) for p in ancestors}
    clique = sorted(p for p in ancestors if all(p in reach[a] for a in reach[p]))
    return clique


def initially_dead_processes(inputs: tuple[int, ...]) -> list[InitiallyDeadConsensus]:
    """Processes ``p1 … pn`` with the given inputs."""
    peers = tuple(f"p{i}" for i in range(1, len(inputs) + 1))
    return [InitiallyDeadConsensus(p, peers, v) for p, v in zip(peers, inputs, strict=True)]


def _build(config: ProtocolConfig) -> list[InitiallyDeadConsensus]:
    return [
        InitiallyDeadConsensus(p, config.servers, v)
        for p, v in zip(config.servers, config.inputs, strict=True)
    ]


SPEC = register(
    ProtocolSpec(
        name="initially-dead",
        title="FLP §4: consensus with n > 2t processes dead from the start (escapes FLP)",
        failure_model=FailureModel.CRASH,
        replicas_default=3,
        build=_build,
        tolerated=lambda n: (n - 1) // 2,
        replicas_problem=lambda n: None if n >= 1 else "initially-dead needs at least 1 process",
        claims=lambda f, delta_s, tau_s: ConsensusClaims(),
        client_timeout_s=lambda delta_s, tau_s: 4 * delta_s,
        timings=("async",),
        serves_clients=False,
        takes_inputs=True,
    )
)
