"""Every run of FLP §4's protocol, searched: consensus when processes can only be dead
from the start (:mod:`smrkit.protocols.consensus.initially_dead`).

For each way the inputs and the dead processes can be — every binary input vector, and
every set of at most t processes dead from the start — the model checker walks every
asynchronous schedule of the live processes' messages (the ``async`` timing: any
message in flight may be delivered next) and checks three properties in each state:

* ``agreement`` (always): no two live processes have decided differently;
* ``validity`` (always): a decided value is the input of some live process;
* ``termination`` (eventually): on every path, every live process decides.

A dead process is a node that never takes a step: it sends nothing and messages to it
stay in flight (a delivery that changes nothing is not a move), exactly a process that
crashed before its first step. Figures are summed over the searches in Stateright's
terms: ``states``, ``unique``, the deepest path, seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from smrkit.core.ids import NodeId, server_ids
from smrkit.core.node import ConsensusProcess, Node
from smrkit.explore.properties import Property, View, always, eventually
from smrkit.explore.search import SearchResult, search
from smrkit.explore.space import ASYNC, NONDUPLICATING, Space, SpaceConfig
from smrkit.explore.symmetry import Symmetry
from smrkit.protocols.consensus.initially_dead import InitiallyDeadConsensus


class DeadProcess(Node):
    """A process dead from the start: it never takes a step."""


def _decision(node: Node) -> tuple[bool, object]:
    assert isinstance(node, ConsensusProcess)
    return node.decided, node.decision


def case_properties(live: tuple[NodeId, ...], inputs: dict[NodeId, int]) -> tuple[Property, ...]:
    """The three properties of one case (its live processes and their inputs)."""

    def decisions(view: View) -> list[object]:
        found = [view.node_fact(p, _decision) for p in live]
        return [value for decided, value in found if decided]

    def agreement(view: View) -> bool:
        return len(set(decisions(view))) <= 1

    def validity(view: View) -> bool:
        return all(value in {inputs[p] for p in live} for value in decisions(view))

    def termination(view: View) -> bool:
        return len(decisions(view)) == len(live)

    return (
        always("agreement", agreement),
        always("validity", validity),
        eventually("termination", termination),
    )


@dataclass
class Case:
    inputs: tuple[int, ...]
    dead: tuple[NodeId, ...]
    result: SearchResult


@dataclass
class Exploration:
    """All the cases of n processes with at most t dead from the start."""

    n: int
    t: int
    cases: list[Case] = field(default_factory=list)

    @property
    def states(self) -> int:
        return sum(case.result.states for case in self.cases)

    @property
    def unique(self) -> int:
        return sum(case.result.unique for case in self.cases)

    @property
    def max_depth(self) -> int:
        return max((case.result.max_depth for case in self.cases), default=0)

    @property
    def seconds(self) -> float:
        return sum(case.result.sec for case in self.cases)

    @property
    def complete(self) -> bool:
        return all(case.result.complete for case in self.cases)

    @property
    def violations(self) -> list[tuple[Case, str]]:
        return [(case, name) for case in self.cases for name in case.result.discoveries]


def search_case(
    inputs: tuple[int, ...],
    dead: tuple[NodeId, ...],
    build: Callable[[NodeId, tuple[NodeId, ...], int], Node] = InitiallyDeadConsensus,
    max_states: int | None = None,
    symmetric: bool = False,
) -> SearchResult:
    """Search every schedule of the processes with ``inputs``, ``dead`` dead from the start;
    ``symmetric``: visit one state of each class equal up to renaming the live processes
    (:mod:`smrkit.explore.symmetry`; sound for a protocol that uses ids only as names,
    as FLP §4's does — not for any ``build``)."""
    peers = server_ids(len(inputs))
    nodes: list[Node] = [
        DeadProcess(p) if p in dead else build(p, peers, v)
        for p, v in zip(peers, inputs, strict=True)
    ]
    live = tuple(p for p in peers if p not in dead)
    space = Space(nodes, SpaceConfig(timing=ASYNC, network=NONDUPLICATING))
    properties = case_properties(live, dict(zip(peers, inputs, strict=True)))
    reduce = Symmetry(space, live) if symmetric else None
    return search(space, properties, bfs=True, max_states=max_states, symmetry=reduce)


def explore_initially_dead(
    n: int,
    t: int,
    *,
    build: Callable[[NodeId, tuple[NodeId, ...], int], Node] = InitiallyDeadConsensus,
    max_states: int | None = None,
    dead_counts: tuple[int, ...] | None = None,
    up_to_renaming: bool = False,
) -> Exploration:
    """Search every case of ``n`` processes, ``t`` of them at most dead from the start
    (``dead_counts``: only cases with that many dead). ``up_to_renaming``: one case per
    class of cases equal up to renaming processes — the dead ones last, the live ones'
    inputs sorted — which covers them all for a protocol that uses ids only as names
    (FLP §4's does: it sorts ids, and decides on the clique's values alone)."""
    if t < 0 or not 2 * t < n:
        raise ValueError(f"the protocol needs n > 2t, got n = {n}, t = {t}")
    exploration = Exploration(n, t)
    peers = server_ids(n)
    counts = tuple(range(t + 1)) if dead_counts is None else dead_counts
    for k in counts:
        if up_to_renaming:
            last = peers[n - k :]
            cases = [
                ((0,) * zeros + (1,) * (n - k - zeros) + (0,) * k, last)
                for zeros in range(n - k + 1)
            ]
        else:
            cases = [
                (inputs, dead)
                for inputs in itertools.product((0, 1), repeat=n)
                for dead in itertools.combinations(peers, k)
            ]
        for inputs, dead in cases:
            result = search_case(inputs, dead, build, max_states)
            exploration.cases.append(Case(inputs, dead, result))
    return exploration
