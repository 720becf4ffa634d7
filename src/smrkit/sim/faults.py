"""Fault plans: the failures a run suffers, as data.

A plan is a list of :class:`Fault` values, each written on the command line as a short
spec (the grammar below) and stored with the trace, so a run is replayable. The kinds
follow the failure-model hierarchy of seed 001 §3:

========================================  =============================================
spec                                      meaning
========================================  =============================================
``crash:p1@1.0``                          p1 halts at 1.0 (before anything else at 1.0)
``crash:p1@1.0/2``                        p1 crashes in its first step at or after 1.0,
                                          after 2 of that step's messages left (a crash
                                          in the middle of a broadcast)
``link:p1-p2@0.5``                        the link p1–p2 loses every message from 0.5 on
``link:p1-p2@0.5..0.9``                   … in the window [0.5, 0.9)
``link:p1->p2@0.5..0.9``                  … in one direction only
``send-omission:p2->p3@0.2..0.9``         p2 omits to send to p3 in the window
``send-omission:p2@0.2..0.9``             p2 omits to send to anyone
``receive-omission:p3<-p1@0.2..0.9``      p3 omits to receive from p1
``receive-omission:p3@0.2..0.9``          p3 omits to receive from anyone
``general-omission:p2@0.2..0.9``          p2 omits to send and to receive
``send-omission:c1->p2@0``                clients can be faulty too (seed 000)
``restart:p1@2.0``                        a crashed p1 starts again at 2.0 with what it
                                          saved (restartable protocols only; outside
                                          every model of seed 001, where crashes last)
========================================  =============================================

A window ``T..`` is open-ended; a single time ``T`` means "from T on" for link and
omission faults. A window covers ``[start, end)``. A link or send omission judges a
message by when it is sent, a receive omission by when it arrives. Any link or omission
spec may end in ``~P`` (``link:p1-p2@0.5..0.9~0.3``): each message in the window is
then lost with probability P instead of always.

A failure model plus a bound ``f`` defines which plans are *admissible*
(:func:`admissibility_problems`); :func:`random_plan` draws admissible plans.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, is_client, is_server

KINDS = ("crash", "link", "send-omission", "receive-omission", "general-omission", "restart")
POINT_KINDS = ("crash", "restart")
"""Kinds that happen at one instant, not over a window."""


class FaultSpecError(ValueError):
    """A fault spec that does not parse or names a node that does not exist."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault. ``node``/``peer`` mean: crash → node; link → the two ends (``directed``
    means only node→peer loses messages); omissions → the faulty node and, optionally,
    the one peer it omits with. Times are virtual seconds; ``end`` may be infinite."""

    kind: str
    node: NodeId
    peer: NodeId | None = None
    start: float = 0.0
    end: float = math.inf
    directed: bool = False
    probability: float = 1.0
    after_sends: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultSpecError(f"unknown fault kind {self.kind!r}")
        if self.start < 0 or self.end < self.start:
            raise FaultSpecError(f"bad window [{self.start}, {self.end}) in {self.spec}")
        if not 0.0 < self.probability <= 1.0:
            raise FaultSpecError(f"probability must be in (0, 1], got {self.probability}")

    @property
    def spec(self) -> str:
        """The canonical spec string; ``parse_fault(f.spec) == f``."""
        if self.kind in POINT_KINDS:
            suffix = "" if self.after_sends is None else f"/{self.after_sends}"
            return f"{self.kind}:{self.node}@{_fmt(self.start)}{suffix}"
        if self.kind == "link":
            sep = "->" if self.directed else "-"
            target = f"{self.node}{sep}{self.peer}"
        elif self.peer is None:
            target = self.node
        elif self.kind == "receive-omission":
            target = f"{self.node}<-{self.peer}"
        else:
            target = f"{self.node}->{self.peer}"
        window = _fmt(self.start)
        if self.end != math.inf:
            window += f"..{_fmt(self.end)}"
        prob = "" if self.probability == 1.0 else f"~{_fmt(self.probability)}"
        return f"{self.kind}:{target}@{window}{prob}"

    def active(self, t: float) -> bool:
        return self.start <= t < self.end

    def nodes(self) -> tuple[NodeId, ...]:
        return (self.node,) if self.peer is None else (self.node, self.peer)


def _fmt(x: float) -> str:
    return repr(float(x)) if x != int(x) else f"{x:.1f}"


_SPEC = re.compile(r"^(?P<kind>[a-z-]+):(?P<target>[^@]+)@(?P<when>[^~]+)(?:~(?P<p>.+))?$")
_NODE = r"[A-Za-z][A-Za-z0-9_]*"


def _number(text: str, spec: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultSpecError(f"bad {what} {text!r} in fault spec {spec!r}") from None
    if not math.isfinite(value) or value < 0:
        raise FaultSpecError(f"{what} must be a finite number >= 0 in fault spec {spec!r}")
    return value


def parse_fault(spec: str) -> Fault:
    """Parse one spec of the grammar in the module docstring."""
    text = spec.strip()
    match = _SPEC.match(text)
    if match is None:
        raise FaultSpecError(
            f"bad fault spec {spec!r}: expected KIND:TARGET@TIME, e.g. crash:p1@1.0 "
            f"or link:p1-p2@0.5..0.9 (kinds: {', '.join(KINDS)})"
        )
    kind, target, when, prob = match["kind"], match["target"], match["when"], match["p"]
    if kind not in KINDS:
        raise FaultSpecError(f"unknown fault kind {kind!r} in {spec!r}; kinds: {', '.join(KINDS)}")
    probability = 1.0 if prob is None else _number(prob, spec, "probability")
    if kind in POINT_KINDS:
        if prob is not None:
            raise FaultSpecError(f"a {kind} has no probability: {spec!r}")
        if kind == "restart":
            if re.fullmatch(_NODE, target) is None or not re.fullmatch(r"[0-9.eE+-]+", when):
                raise FaultSpecError(f"bad restart {spec!r}: write restart:p1@2.0")
            return Fault("restart", target, None, _number(when, spec, "time"))
        return _parse_crash(spec, target, when)
    start, end = _parse_window(spec, when)
    if kind == "link":
        link = re.fullmatch(rf"({_NODE})(->|-)({_NODE})", target)
        if link is None:
            raise FaultSpecError(f"bad link {target!r} in {spec!r}: write A-B or A->B")
        a, sep, b = link.groups()
        if a == b:
            raise FaultSpecError(f"a link joins two different nodes: {spec!r}")
        return Fault(kind, a, b, start, end, directed=sep == "->", probability=probability)
    arrow = {"send-omission": "->", "receive-omission": "<-", "general-omission": None}[kind]
    if arrow is not None and arrow in target:
        node, peer = (part.strip() for part in target.split(arrow, 1))
    else:
        node, peer = target.strip(), None
    for name in (node, peer):
        if name is not None and re.fullmatch(_NODE, name) is None:
            raise FaultSpecError(f"bad node name {name!r} in {spec!r}")
    if peer == node:
        raise FaultSpecError(f"a node does not omit messages to itself: {spec!r}")
    return Fault(kind, node, peer, start, end, probability=probability)


def _parse_crash(spec: str, target: str, when: str) -> Fault:
    if re.fullmatch(_NODE, target) is None:
        raise FaultSpecError(f"bad node {target!r} in {spec!r}: write crash:p1@1.0")
    after_sends: int | None = None
    if "/" in when:
        when, count = when.split("/", 1)
        if not count.isdigit():
            raise FaultSpecError(f"bad send count {count!r} in {spec!r}: write crash:p1@1.0/2")
        after_sends = int(count)
    if ".." in when:
        raise FaultSpecError(f"a crash happens at one time, not a window: {spec!r}")
    return Fault("crash", target, None, _number(when, spec, "time"), after_sends=after_sends)


def _parse_window(spec: str, when: str) -> tuple[float, float]:
    if ".." not in when:
        return _number(when, spec, "time"), math.inf
    first, last = when.split("..", 1)
    start = _number(first, spec, "start time")
    end = math.inf if last.strip() == "" else _number(last, spec, "end time")
    if end <= start:
        raise FaultSpecError(f"window ends before it starts in {spec!r}")
    return start, end


@dataclass(frozen=True)
class FaultPlan:
    """The faults of one run, in the order given."""

    faults: tuple[Fault, ...] = ()

    @classmethod
    def parse(cls, specs: Iterable[str]) -> FaultPlan:
        return cls(tuple(parse_fault(spec) for spec in specs))

    @property
    def specs(self) -> tuple[str, ...]:
        return tuple(fault.spec for fault in self.faults)

    def validate(self, nodes: Sequence[NodeId]) -> None:
        """Raise :class:`FaultSpecError` if a fault names a node that is not in the run."""
        known = set(nodes)
        for fault in self.faults:
            for node in fault.nodes():
                if node not in known:
                    servers = [n for n in nodes if is_server(n)]
                    clients = [n for n in nodes if is_client(n)]
                    raise FaultSpecError(
                        f"fault {fault.spec!r} names {node!r}, which is not in this run "
                        f"(servers {_span(servers)}, clients {_span(clients)})"
                    )

    def last_change(self) -> float:
        """The latest finite time at which the plan changes something (0 if none)."""
        times = [0.0]
        for fault in self.faults:
            times.append(fault.start)
            if fault.end != math.inf:
                times.append(fault.end)
        return max(times)

    def faulty_servers(self) -> list[NodeId]:
        """Servers that are faulty in the sense of seed 001 (crash or omission)."""
        found: list[NodeId] = []
        for fault in self.faults:
            if fault.kind in ("link", "restart") or not is_server(fault.node):
                continue
            if fault.node not in found:
                found.append(fault.node)
        return found


def _span(nodes: Sequence[NodeId]) -> str:
    if not nodes:
        return "none"
    return nodes[0] if len(nodes) == 1 else f"{nodes[0]}..{nodes[-1]}"


_ALLOWED: dict[FailureModel, frozenset[str]] = {
    FailureModel.CRASH: frozenset({"crash"}),
    FailureModel.CRASH_LINK: frozenset({"crash", "link"}),
    FailureModel.SEND_OMISSION: frozenset({"crash", "send-omission"}),
    FailureModel.RECEIVE_OMISSION: frozenset({"crash", "receive-omission"}),
    FailureModel.GENERAL_OMISSION: frozenset(
        {"crash", "send-omission", "receive-omission", "general-omission"}
    ),
}


def admissibility_problems(plan: FaultPlan, model: FailureModel, f: int) -> list[str]:
    """Why ``plan`` is outside ``model`` with at most ``f`` failures ([] if admissible).

    Failures are counted per faulty component (seed 001 §3): a server counts once however
    many faults name it; for crash+link, faulty servers and faulty links share the bound.
    Clients are assumed correct by every model of Table 1.
    """
    problems: list[str] = []
    allowed = _ALLOWED[model]
    faulty_links: set[frozenset[NodeId]] = set()
    for fault in plan.faults:
        if fault.kind == "restart":
            problems.append(f"{fault.spec}: in seed 001's models a crashed server stays down")
        elif fault.kind not in allowed:
            problems.append(f"{fault.spec}: {fault.kind} is outside the {model.value} model")
        if any(is_client(node) for node in fault.nodes()):
            problems.append(f"{fault.spec}: the {model.value} model assumes correct clients")
        if fault.kind == "link":
            faulty_links.add(frozenset(fault.nodes()))
    servers = plan.faulty_servers()
    used = len(servers) + (len(faulty_links) if model is FailureModel.CRASH_LINK else 0)
    if used > f:
        what = "faulty servers and links" if model is FailureModel.CRASH_LINK else "faulty servers"
        problems.append(f"{used} {what}, more than f = {f}")
    return problems


def random_plan(
    model: FailureModel,
    f: int,
    servers: Sequence[NodeId],
    horizon_s: float,
    rng: random.Random,
    *,
    faults_max: int | None = None,
) -> FaultPlan:
    """An admissible plan for ``model`` with at most ``f`` faulty components, drawn from
    ``rng``: random components, random times in ``[0, horizon_s)``, sometimes a crash in
    the middle of a step, sometimes windows, sometimes lossy rather than total omissions."""
    count = rng.randint(0, f if faults_max is None else min(f, faults_max))
    victims = rng.sample(list(servers), min(count, len(servers)))
    faults: list[Fault] = []
    kinds = sorted(_ALLOWED[model])
    for victim in victims:
        kind = rng.choice(kinds)
        start = round(rng.uniform(0.0, horizon_s), 6)
        if kind == "crash":
            after = rng.choice([None, None, 0, 1, 2])
            faults.append(Fault("crash", victim, start=start, after_sends=after))
            continue
        end = math.inf if rng.random() < 0.5 else round(start + rng.uniform(0.0, horizon_s), 6)
        end = max(end, start + 1e-6)
        probability = 1.0 if rng.random() < 0.6 else round(rng.uniform(0.2, 0.9), 3)
        others = [s for s in servers if s != victim]
        peer: NodeId | None
        if kind == "link":
            peer = rng.choice(others)
        else:
            peer = rng.choice([None, *others]) if kind != "general-omission" else None
        faults.append(Fault(kind, victim, peer, start, end, probability=probability))
    return FaultPlan(tuple(faults))
