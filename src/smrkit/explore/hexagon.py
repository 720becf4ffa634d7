"""No Byzantine agreement with n ≤ 3f without signatures: the covering ("hexagon")
construction, run against a given protocol.

**The theorem** (Pease, Shostak and Lamport; Fischer, Lynch and Merritt's proof; seed
002's "lower bound on the ratio of faulty processes"). With three processes p1, p2, p3
and one Byzantine failure, no protocol solves consensus in lock-step rounds when
messages are not signed. The proof wires *six* copies of the processes into a ring —
p1, p2, p3 proposing 0 and p1', p2', p3' proposing 1, each talking to its two ring
neighbours as if they were the other two processes — and runs it. Nothing in it is
faulty; it is just not a system the protocol was made for. Then three scenarios, each a
real system of three processes:

* **A** — p2 and p3 correct, proposing 0; p1 Byzantine, playing ring-p1 towards p2 and
  ring-p1' towards p3. Validity: p2 and p3 must decide 0.
* **B** — p1' and p2' correct (p1 and p2, proposing 1); p3 Byzantine, playing ring-p3
  towards p1 and ring-p3' towards p2. Validity: they must decide 1.
* **C** — p3 and p1' correct (p3 proposing 0, p1 proposing 1); p2 Byzantine, playing
  ring-p2 towards p3 and ring-p2' towards p1. Agreement: they must decide alike.

In each scenario the two correct processes receive, round by round, exactly what their
ring copies receive: their *views* are identical, so they decide what their copies
decide. Ring-p3 decides 0 (it cannot tell C from A) and ring-p1' decides 1 (it cannot
tell C from B), so in C agreement is lost — unless validity was lost in A or B, or some
process never decided. Every protocol loses one; the run says which.

**Grouping** (n ≤ 3f): the processes split into three groups of at most f each, which
play p1, p2 and p3; a group's processes talk among themselves inside one ring copy.
With n > 3f no such split exists and the construction does not apply (EIG then holds:
``smrkit explore --model eig``).

How the runs are made comparable: the protocol's processes are built as
``Class(node_id, processes, f, value)`` (:class:`~smrkit.protocols.byzantine.eig.Eig`
is), lock-step rounds, each copy drawing from the generator its process would get in a
kernel world of the same seed. The ring is run by a small lock-step loop here (six
copies cannot share three names in one kernel world); each scenario is a kernel run
whose Byzantine processes replay, towards each correct process, what the ring neighbour
they stand for sent it (:class:`RingScript`). A process's view is what it received
(round, sender, message), what it sent (round, receiver, message) and what it decided,
in order; messages compare by value, a signature as its signer and what it signs. The
run *demonstrates the theorem* when the views the proof calls identical are, and some
property is lost. Signatures are where the construction stops: the ring signs with a
keyring of its own, so a Byzantine process replaying a correct process's ring signature
in a scenario replays a signature that does not verify there — the correct processes
see it, their views part from their copies', and the theorem does not apply (which is
why Dolev-Strong tolerates any f < n).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smrkit.check.agreement import PropertyCheck, consensus_checks
from smrkit.core.byzantine import AdversaryConfig, ByzantineNode
from smrkit.core.ids import NodeId, server_ids
from smrkit.core.messages import Message
from smrkit.core.node import ConsensusProcess, Node, Out
from smrkit.core.ops import Value
from smrkit.explore.agreement_runs import ROUNDS_MAX, simulate_rounds
from smrkit.sim.kernel.fingerprint import canonical
from smrkit.sim.kernel.records import DECIDED, DELIVER, SEND, Record
from smrkit.sim.kernel.signatures import Keyring
from smrkit.sim.user_code import UserCodeError, resolve, split_reference

Factory = Callable[[NodeId, tuple[NodeId, ...], int, Value], Node]
"""How a protocol's process is built: ``Class(node_id, processes, f, value)``."""

SEED = 0
INPUTS: tuple[Value, Value] = (0, 1)
"""What the first three ring copies propose, and what the primed ones do."""


class HexagonError(ValueError):
    """The construction cannot be built as asked; the message says what to change."""


# --- the protocol ------------------------------------------------------------------------


def builtin_protocols() -> dict[str, Factory]:
    from smrkit.protocols.byzantine.eig import Eig

    return {"eig": Eig}


def resolve_factory(ref: str) -> Factory:
    """A built-in protocol's name or ``module.path:Class``."""
    known = builtin_protocols()
    if ref in known:
        return known[ref]
    parts = split_reference(ref)
    if parts is None:
        raise HexagonError(
            f"unknown protocol {ref!r}; write one of {', '.join(known)} or "
            "module.path:ClassName (a ConsensusProcess built as "
            "ClassName(node_id, processes, f, value))"
        )
    try:
        target = resolve(*parts, "class ClassName(ConsensusProcess)")
    except UserCodeError as error:
        raise HexagonError(str(error)) from None
    if not (isinstance(target, type) and issubclass(target, ConsensusProcess)):
        raise HexagonError(
            f"{ref} is not a ConsensusProcess subclass; define class {parts[1]}"
            "(ConsensusProcess) built as ClassName(node_id, processes, f, value)"
        )
    return target


# --- the groups and the ring -------------------------------------------------------------


def groups_for(n: int, f: int) -> tuple[tuple[NodeId, ...], ...] | None:
    """Three groups of at most f processes covering p1 … pn (sizes as even as can be),
    or ``None`` when n > 3f."""
    if n < 3 or f < 1 or n > 3 * f:
        return None
    ids = server_ids(n)
    sizes = [n // 3 + (1 if k < n % 3 else 0) for k in range(3)]
    out, start = [], 0
    for size in sizes:
        out.append(ids[start : start + size])
        start += size
    return tuple(out)


POSITIONS = ("1", "2", "3", "1'", "2'", "3'")
"""The six ring copies: of groups 1, 2, 3 proposing 0, then of 1, 2, 3 proposing 1."""


def neighbour(position: int, group: int) -> int:
    """The ring position next to ``position`` that plays ``group`` (itself for its own)."""
    if position % 3 == group:
        return position
    for step in (-1, 1):
        other = (position + step) % 6
        if other % 3 == group:
            return other
    raise AssertionError("every group has a ring neighbour")


ViewEntry = tuple[Any, ...]
"""``("recv", round, sender, message)``, ``("send", round, receiver, message)`` or
``("decide", round, value)``."""


@dataclass
class Ring:
    """The six copies, run in lock-step: who sent what to whom, round by round."""

    groups: tuple[tuple[NodeId, ...], ...]
    copies: dict[tuple[int, NodeId], Node]
    views: dict[tuple[int, NodeId], list[ViewEntry]] = field(default_factory=dict)
    sent: dict[tuple[int, NodeId, int], list[tuple[NodeId, Message]]] = field(default_factory=dict)
    """``(position, process, round)`` → what that copy sent in that round, in order."""
    rounds: int = 0

    def group_of(self, process: NodeId) -> int:
        return next(k for k, g in enumerate(self.groups) if process in g)

    def decisions(self) -> dict[str, Value]:
        out = {}
        for (position, process), node in self.copies.items():
            if isinstance(node, ConsensusProcess) and node.decided:
                out[f"{process}@{POSITIONS[position]}"] = node.decision
        return out


def run_ring(factory: Factory, groups: tuple[tuple[NodeId, ...], ...], f: int) -> Ring:
    processes = tuple(p for g in groups for p in g)
    copies: dict[tuple[int, NodeId], Node] = {}
    for position in range(6):
        for p in groups[position % 3]:
            copies[(position, p)] = factory(p, processes, f, INPUTS[position // 3])
    ring = Ring(groups, copies)
    keyring = Keyring()  # the ring's own: its signatures are worthless in a scenario
    signers = {p: keyring.signer(p) for p in processes}
    keyring.close()
    outs = {
        key: Out(
            random.Random(f"{SEED}/node/{key[1]}"), signer=signers[key[1]], verifier=keyring.verify
        )
        for key in copies
    }
    order = {p: k for k, p in enumerate(processes)}
    decided: dict[tuple[int, NodeId], int] = {key: 0 for key in copies}
    pending: dict[tuple[int, NodeId], list[tuple[int, NodeId, Message]]] = {}
    for r in range(ROUNDS_MAX + 1):
        if r > 0 and not any(pending.values()) and all(node.done for node in copies.values()):
            break
        inboxes, pending = pending, {}
        for key, node in copies.items():
            view = ring.views.setdefault(key, [])
            out = outs[key]
            out.now = float(r)
            arrived = sorted(inboxes.get(key, []), key=lambda m: m[0])
            inbox = tuple((src, msg) for _, src, msg in arrived)
            view.extend(("recv", r, src, msg) for src, msg in inbox)
            if r == 0:
                node.on_start(out)
            else:
                node.on_round(r, inbox, out)
            ring.sent[(key[0], key[1], r)] = list(out.sends)
            for dst, msg in out.sends:
                view.append(("send", r, dst, msg))
                target = (neighbour(key[0], ring.group_of(dst)), dst)
                pending.setdefault(target, []).append((order[key[1]], key[1], msg))
            out.clear()
            if isinstance(node, ConsensusProcess) and node.decisions != decided[key]:
                decided[key] = node.decisions
                view.append(("decide", max(r - 1, 0), node.decision))
        ring.rounds = r
    return ring


# --- the scenarios -----------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario: the ring positions of its two correct groups."""

    name: str
    correct: tuple[int, int]
    property: str
    """What the proof needs of it: validity (both propose alike) or agreement."""


SCENARIOS = (
    ScenarioPlan("A", (1, 2), "validity"),
    ScenarioPlan("B", (3, 4), "validity"),
    ScenarioPlan("C", (2, 3), "agreement"),
)


class RingScript(ByzantineNode):
    """A Byzantine process of a scenario: it sends each correct process, in each round,
    what the ring copy it stands for (towards that process) sent it there — a script
    computed from the ring run before the scenario starts."""

    strategy = "hexagon"

    def __init__(
        self,
        honest: Node,
        config: AdversaryConfig,
        script: tuple[tuple[int, NodeId, Message], ...],
    ) -> None:
        super().__init__(honest, config)
        self.script = script

    def on_start(self, out: Out) -> None:
        self._send(0, out)

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        self._send(r, out)

    def _send(self, r: int, out: Out) -> None:
        for at, dst, msg in self.script:
            if at == r:
                out.send(dst, msg)


@dataclass
class Scenario:
    plan: ScenarioPlan
    correct: tuple[NodeId, ...]
    byzantine: tuple[NodeId, ...]
    proposals: dict[NodeId, Value]
    stands_for: dict[NodeId, dict[NodeId, str]]
    """Byzantine process → correct process → the ring copy it plays towards it."""
    records: list[Record]
    checks: dict[str, PropertyCheck]
    comparisons: list[ViewComparison]

    @property
    def views_identical(self) -> bool:
        return all(c.identical for c in self.comparisons)

    def decisions(self) -> dict[NodeId, Value]:
        return {
            r.node: r.data for r in self.records if r.kind == DECIDED and r.node in self.correct
        }


@dataclass
class ViewComparison:
    process: NodeId
    ring_copy: str
    entries: int
    first_difference: int | None
    ring_entry: ViewEntry | None
    scenario_entry: ViewEntry | None

    @property
    def identical(self) -> bool:
        return self.first_difference is None


def scenario_view(records: Sequence[Record], process: NodeId) -> list[ViewEntry]:
    out: list[ViewEntry] = []
    for record in records:
        r = round(record.t)
        if record.kind == DELIVER and record.node == process:
            out.append(("recv", r, record.other, record.data))
        elif record.kind == SEND and record.node == process:
            out.append(("send", r, record.other, record.data))
        elif record.kind == DECIDED and record.node == process:
            out.append(("decide", record.num, record.data))
    return out


def _ordered(view: list[ViewEntry]) -> list[ViewEntry]:
    """Per round: what arrived, then what was sent, then decisions (each in order)."""
    rank = {"recv": 0, "send": 1, "decide": 2}
    keyed = sorted(
        enumerate(view),
        key=lambda item: (
            item[1][1] + (1 if item[1][0] == "decide" else 0),
            rank[item[1][0]],
            item[0],
        ),
    )
    return [entry for _, entry in keyed]


def compare(
    process: NodeId, copy: str, ring_view: list[ViewEntry], other: list[ViewEntry]
) -> ViewComparison:
    left, right = _ordered(ring_view), _ordered(other)
    for k in range(max(len(left), len(right))):
        a = left[k] if k < len(left) else None
        b = right[k] if k < len(right) else None
        if canonical(a) != canonical(b):
            return ViewComparison(process, copy, len(left), k, a, b)
    return ViewComparison(process, copy, len(left), None, None, None)


def run_scenario(factory: Factory, ring: Ring, plan: ScenarioPlan, f: int) -> Scenario:
    groups = ring.groups
    processes = tuple(p for g in groups for p in g)
    positions = {plan.correct[0] % 3: plan.correct[0], plan.correct[1] % 3: plan.correct[1]}
    bad_group = next(k for k in range(3) if k not in positions)
    correct = tuple(p for k in sorted(positions) for p in groups[k])
    byzantine = groups[bad_group]
    proposals: dict[NodeId, Value] = {
        p: INPUTS[positions[k] // 3] for k in positions for p in groups[k]
    }
    nodes: list[Node] = []
    stands_for: dict[NodeId, dict[NodeId, str]] = {}
    config = AdversaryConfig(processes, RingScript.strategy)
    for p in processes:
        if p in byzantine:
            script: list[tuple[int, NodeId, Message]] = []
            stands_for[p] = {}
            for k, position in positions.items():
                mine = neighbour(position, bad_group)
                for q in groups[k]:
                    stands_for[p][q] = f"{p}@{POSITIONS[mine]}"
                for (pos, src, r), sends in ring.sent.items():
                    if pos == mine and src == p:
                        script.extend((r, dst, msg) for dst, msg in sends if dst in groups[k])
            script.sort(key=lambda s: s[0])
            honest = factory(p, processes, f, INPUTS[0])
            nodes.append(RingScript(honest, config, tuple(script)))
        else:
            k = ring.group_of(p)
            nodes.append(factory(p, processes, f, INPUTS[positions[k] // 3]))
    records, _ = simulate_rounds(nodes, seed=SEED)
    checks = consensus_checks(records, correct, byzantine=byzantine)
    comparisons = []
    for k, position in sorted(positions.items()):
        for p in groups[k]:
            comparisons.append(
                compare(
                    p,
                    f"{p}@{POSITIONS[position]}",
                    ring.views[(position, p)],
                    scenario_view(records, p),
                )
            )
    return Scenario(plan, correct, byzantine, proposals, stands_for, records, checks, comparisons)


# --- the whole construction --------------------------------------------------------------


@dataclass
class HexagonResult:
    protocol: str
    n: int
    f: int
    groups: tuple[tuple[NodeId, ...], ...] | None
    ring: Ring | None = None
    scenarios: list[Scenario] = field(default_factory=list)

    @property
    def applies(self) -> bool:
        return self.groups is not None

    @property
    def views_identical(self) -> bool:
        return self.applies and all(s.views_identical for s in self.scenarios)

    @property
    def broken(self) -> list[str]:
        """Each property lost, as ``"agreement in C"``."""
        return [
            f"{name} in {s.plan.name}"
            for s in self.scenarios
            for name, check in s.checks.items()
            if not check.ok
        ]

    @property
    def demonstrates(self) -> bool:
        return self.views_identical and bool(self.broken)


def demonstrate(protocol: str, n: int = 3, f: int = 1) -> HexagonResult:
    """Build and run the construction against ``protocol`` (a built-in name or
    ``module.path:Class``) with ``n`` processes and ``f`` Byzantine ones."""
    if n < 1 or f < 0:
        raise HexagonError(f"need n >= 1 and f >= 0; got n = {n}, f = {f}")
    factory = resolve_factory(protocol)
    groups = groups_for(n, f)
    result = HexagonResult(protocol, n, f, groups)
    if groups is None:
        return result
    try:
        ring = run_ring(factory, groups, f)
        result.ring = ring
        result.scenarios = [run_scenario(factory, ring, plan, f) for plan in SCENARIOS]
    except Exception as error:  # the user's protocol raised: say so, in one line
        raise HexagonError(f"{protocol} raised {type(error).__name__}: {error}") from None
    return result
