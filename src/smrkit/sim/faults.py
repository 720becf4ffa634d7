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
``byzantine:p3=equivocate``               p3 runs adversary code instead of its own,
                                          from the start: a built-in strategy
                                          (``silent``, ``crash-like``, ``equivocate``,
                                          ``garbage``, ``replay``) or ``module:Class``
========================================  =============================================

A window ``T..`` is open-ended; a single time ``T`` means "from T on" for link and
omission faults. Times are virtual seconds, except under the ``lock-step`` timing, where
they count rounds and may be written ``r3`` (``link:p1-p2@r2..r4``), and under ``async``,
where they count steps (a fault at 5 happens once 5 events have happened). A window
covers ``[start, end)``. A link or send omission judges a message by when it is sent, a
receive omission by when it arrives. Any link or omission
spec may end in ``~P`` (``link:p1-p2@0.5..0.9~0.3``): each message in the window is
then lost with probability P instead of always.

A failure model plus a bound ``f`` defines which plans are *admissible*
(:func:`admissibility_problems`); :func:`random_plan` draws admissible plans.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from smrkit.core.failure_models import FailureModel
from smrkit.core.ids import NodeId, is_client, is_server
from smrkit.protocols.adversaries import STRATEGY_NAMES

KINDS = (
    "crash",
    "link",
    "send-omission",
    "receive-omission",
    "general-omission",
    "restart",
    "byzantine",
)
POINT_KINDS = ("crash", "restart")
"""Kinds that happen at one instant, not over a window."""
SEND_KINDS = ("link", "send-omission", "general-omission")
"""Kinds that lose a message when it is sent."""
RECEIVE_KINDS = ("receive-omission", "general-omission")
"""Kinds that lose a message when it arrives."""


class FaultSpecError(ValueError):
    """A fault spec that does not parse or names a node that does not exist."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault. ``node``/``peer`` mean: crash → node; link → the two ends (``directed``
    means only node→peer loses messages); omissions → the faulty node and, optionally,
    the one peer it omits with. Times are virtual seconds (rounds when ``in_rounds``);
    ``end`` may be infinite. A crash with ``after_sends`` or ``receivers`` happens during
    the node's first step at or after ``start``: only the first ``after_sends`` of that
    step's messages leave, or only those to ``receivers``."""

    kind: str
    node: NodeId
    peer: NodeId | None = None
    start: float = 0.0
    end: float = math.inf
    directed: bool = False
    probability: float = 1.0
    after_sends: int | None = None
    receivers: tuple[NodeId, ...] | None = None
    in_rounds: bool = False
    strategy: str | None = None
    """A Byzantine node's adversary: a built-in strategy's name or ``module:Class``."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultSpecError(f"unknown fault kind {self.kind!r}")
        if (self.kind == "byzantine") != (self.strategy is not None):
            raise FaultSpecError("a Byzantine fault, and only one, names a strategy")
        if self.kind != "crash" and (self.after_sends is not None or self.receivers is not None):
            raise FaultSpecError(f"only a crash cuts a step's sends: {self.kind}")
        if self.after_sends is not None and self.receivers is not None:
            raise FaultSpecError("a crash keeps a prefix of its sends or some receivers, not both")
        if self.in_rounds and not all(
            t == math.inf or float(t).is_integer() for t in (self.start, self.end)
        ):
            raise FaultSpecError(f"rounds are whole numbers: {self.start}, {self.end}")
        if self.start < 0 or self.end < self.start:
            raise FaultSpecError(f"bad window [{self.start}, {self.end}) in {self.spec}")
        if not 0.0 < self.probability <= 1.0:
            raise FaultSpecError(f"probability must be in (0, 1], got {self.probability}")

    @property
    def spec(self) -> str:
        """The canonical spec string; ``parse_fault(f.spec) == f``."""
        at = _fmt_round if self.in_rounds else _fmt
        if self.kind == "byzantine":
            return f"byzantine:{self.node}={self.strategy}"
        if self.kind in POINT_KINDS:
            suffix = "" if self.after_sends is None else f"/{self.after_sends}"
            if self.receivers is not None:
                suffix = "/" + ",".join(self.receivers)
            return f"{self.kind}:{self.node}@{at(self.start)}{suffix}"
        if self.kind == "link":
            sep = "->" if self.directed else "-"
            target = f"{self.node}{sep}{self.peer}"
        elif self.peer is None:
            target = self.node
        elif self.kind == "receive-omission":
            target = f"{self.node}<-{self.peer}"
        else:
            target = f"{self.node}->{self.peer}"
        window = at(self.start)
        if self.end != math.inf:
            window += f"..{at(self.end)}"
        prob = "" if self.probability == 1.0 else f"~{_fmt(self.probability)}"
        return f"{self.kind}:{target}@{window}{prob}"

    def active(self, t: float) -> bool:
        return self.start <= t < self.end

    def nodes(self) -> tuple[NodeId, ...]:
        """Every node the fault names (for validation against the run's nodes)."""
        named = (self.node,) if self.peer is None else (self.node, self.peer)
        return named + (self.receivers or ())


def _fmt(x: float) -> str:
    return repr(float(x)) if x != int(x) else f"{x:.1f}"


def _fmt_round(x: float) -> str:
    return f"r{int(x)}"


_SPEC = re.compile(r"^(?P<kind>[a-z-]+):(?P<target>[^@]+)@(?P<when>[^~]+)(?:~(?P<p>.+))?$")
_NODE = r"[A-Za-z][A-Za-z0-9_]*"


def _number(text: str, spec: str, what: str) -> float:
    text = text.strip()
    if text.startswith("r"):
        if not text[1:].isdigit():
            raise FaultSpecError(f"bad round {text!r} in fault spec {spec!r}: write r3")
        return float(text[1:])
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
    if text.startswith("byzantine:"):
        return _parse_byzantine(spec, text.removeprefix("byzantine:"))
    match = _SPEC.match(text)
    if match is None:
        # `p2->p3@…` unquoted: the shell leaves `…:p2-` (and writes to a file `p3@…`);
        # `p3<-p1@…`: it leaves `receive-omission:p3` (and reads a file `-p1@…`).
        if "@" not in text and (text.endswith("-") or text.startswith("receive-omission:")):
            raise FaultSpecError(
                f"bad fault spec {spec!r}: no @TIME — was it cut by the shell? Quote a spec "
                "with -> or <-, which the shell takes for redirections: "
                "--fault 'send-omission:p2->p3@0.2..0.9'"
            )
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
            if re.fullmatch(_NODE, target) is None or not re.fullmatch(r"r?[0-9.eE+-]+", when):
                raise FaultSpecError(f"bad restart {spec!r}: write restart:p1@2.0")
            time = _number(when, spec, "time")
            return Fault("restart", target, None, time, in_rounds=when.startswith("r"))
        return _parse_crash(spec, target, when)
    start, end = _parse_window(spec, when)
    rounds = when.strip().startswith("r")
    if kind == "link":
        link = re.fullmatch(rf"({_NODE})(->|-)({_NODE})", target)
        if link is None:
            raise FaultSpecError(f"bad link {target!r} in {spec!r}: write A-B or A->B")
        a, sep, b = link.groups()
        if a == b:
            raise FaultSpecError(f"a link joins two different nodes: {spec!r}")
        return Fault(
            kind,
            a,
            b,
            start,
            end,
            directed=sep == "->",
            probability=probability,
            in_rounds=rounds,
        )
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
    return Fault(kind, node, peer, start, end, probability=probability, in_rounds=rounds)


def _parse_crash(spec: str, target: str, when: str) -> Fault:
    if re.fullmatch(_NODE, target) is None:
        raise FaultSpecError(f"bad node {target!r} in {spec!r}: write crash:p1@1.0")
    after_sends: int | None = None
    receivers: tuple[NodeId, ...] | None = None
    if "/" in when:
        when, cut = when.split("/", 1)
        if cut.isdigit():
            after_sends = int(cut)
        else:
            receivers = tuple(name.strip() for name in cut.split(","))
            if not all(re.fullmatch(_NODE, name) for name in receivers):
                raise FaultSpecError(
                    f"bad cut {cut!r} in {spec!r}: write crash:p1@1.0/2 (the first 2 sends "
                    "leave) or crash:p2@r3/p1,p4 (only p1 and p4 get its messages)"
                )
            if target in receivers:
                raise FaultSpecError(f"a node does not send to itself: {spec!r}")
    if ".." in when:
        raise FaultSpecError(f"a crash happens at one time, not a window: {spec!r}")
    return Fault(
        "crash",
        target,
        None,
        _number(when, spec, "time"),
        after_sends=after_sends,
        receivers=receivers,
        in_rounds=when.strip().startswith("r"),
    )


_STRATEGY = re.compile(
    r"[a-z][a-z-]*|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*"
)


def _parse_byzantine(spec: str, rest: str) -> Fault:
    node, sep, strategy = (part.strip() for part in rest.partition("="))
    if not sep or re.fullmatch(_NODE, node) is None or _STRATEGY.fullmatch(strategy) is None:
        raise FaultSpecError(
            f"bad fault spec {spec!r}: write byzantine:p3=STRATEGY, a built-in strategy "
            "(silent, crash-like, equivocate, garbage, replay) or module.path:ClassName"
        )
    return Fault("byzantine", node, strategy=strategy)


def _parse_window(spec: str, when: str) -> tuple[float, float]:
    if ".." not in when:
        return _number(when, spec, "time"), math.inf
    first, last = when.split("..", 1)
    if last.strip() and first.strip().startswith("r") != last.strip().startswith("r"):
        raise FaultSpecError(f"a window is in rounds at both ends or neither: {spec!r}")
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
        """Raise :class:`FaultSpecError` if a fault names a node that is not in the run,
        or makes a node Byzantine twice."""
        known = set(nodes)
        byzantine = [fault.node for fault in self.faults if fault.kind == "byzantine"]
        twice = sorted({node for node in byzantine if byzantine.count(node) > 1})
        if twice:
            raise FaultSpecError(f"{twice[0]} is made Byzantine twice: give it one strategy")
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
    FailureModel.BYZANTINE: frozenset(
        {"crash", "send-omission", "receive-omission", "general-omission", "byzantine"}
    ),
}


def allowed_kinds(model: FailureModel) -> frozenset[str]:
    """The fault kinds within ``model``."""
    return _ALLOWED[model]


def admissibility_problems(
    plan: FaultPlan, model: FailureModel, f: int, *, recovery: bool = False
) -> list[str]:
    """Why ``plan`` is outside ``model`` with at most ``f`` failures ([] if admissible).

    ``recovery``: the protocol is built for seed 003's omission model with recovery
    (Raft): a crashed server that restarts with what it saved is within it, and under
    general omission a cut link between two servers is the omissions of one of its
    ends — the links are charged to the fewest servers that touch them all.

    Failures are counted per faulty component (seed 001 §3): a server counts once however
    many faults name it; for crash+link, faulty servers and faulty links share the bound.
    Clients are assumed correct by every model of Table 1, and by the Byzantine model
    (a Byzantine node may also crash or omit: it counts once); a server's omissions
    towards a client are the server's failure, not the client's. Links are reliable in
    the Byzantine model (seed 002's synchronous model: no communication failures).
    """
    problems: list[str] = []
    allowed = _ALLOWED[model]
    faulty_links: set[frozenset[NodeId]] = set()
    links_charged = recovery and model is FailureModel.GENERAL_OMISSION
    for fault in plan.faults:
        if fault.kind == "restart":
            if not recovery:
                problems.append(f"{fault.spec}: in seed 001's models a crashed server stays down")
        elif fault.kind == "link" and links_charged:
            pass
        elif fault.kind not in allowed:
            problems.append(f"{fault.spec}: {fault.kind} is outside the {model.value} model")
        # The faulty component: an omission's server (omitting to a client is the
        # server's failure), both ends of a link, the node of any other fault.
        faulty = fault.nodes()[:2] if fault.kind == "link" else (fault.node,)
        if any(is_client(node) for node in faulty):
            problems.append(f"{fault.spec}: the {model.value} model assumes correct clients")
        if fault.kind == "link":
            faulty_links.add(frozenset(fault.nodes()))
    servers = plan.faulty_servers()
    if links_charged:
        servers += _fewest_ends(faulty_links, servers)
    used = len(servers) + (len(faulty_links) if model is FailureModel.CRASH_LINK else 0)
    if used > f:
        what = "faulty servers and links" if model is FailureModel.CRASH_LINK else "faulty servers"
        problems.append(f"{used} {what}, more than f = {f}")
    return problems


def _fewest_ends(links: set[frozenset[NodeId]], faulty: list[NodeId]) -> list[NodeId]:
    """The fewest more servers that, with ``faulty``, touch every link: whom the links'
    omissions are charged to (a search over the links' ends, which are few)."""
    open_links = [link for link in links if not link & set(faulty)]
    ends = sorted({end for link in open_links for end in link})
    for size in range(len(ends) + 1):
        for chosen in itertools.combinations(ends, size):
            if all(link & set(chosen) for link in open_links):
                return list(chosen)
    return ends


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
        if kind == "byzantine":
            faults.append(Fault(kind, victim, strategy=rng.choice(STRATEGY_NAMES)))
            continue
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


class FaultState:
    """The plan's link and omission faults as rules a world applies to each message.

    A link fault or a send omission judges a message when it is sent, a receive omission
    when it arrives; a lossy fault (``~P``) draws from the run's fault generator, seeded
    from the run's seed, so a run stays a function of its configuration and seed. Fault
    times written in rounds (``r3``) become virtual seconds here: ``round_s`` each."""

    def __init__(self, plan: FaultPlan, rng: random.Random, round_s: float = 1.0) -> None:
        self.plan = plan
        self.rng = rng
        self.round_s = round_s
        self.send_rules = tuple(self.window(f) for f in plan.faults if f.kind in SEND_KINDS)
        self.receive_rules = tuple(self.window(f) for f in plan.faults if f.kind in RECEIVE_KINDS)

    def at(self, fault: Fault, time: float) -> float:
        """A time of ``fault`` (its start or end) in virtual seconds."""
        return time * self.round_s if fault.in_rounds else time

    def window(self, fault: Fault) -> tuple[Fault, float, float]:
        return fault, self.at(fault, fault.start), self.at(fault, fault.end)

    def _lost(self, fault: Fault) -> bool:
        return fault.probability >= 1.0 or self.rng.random() < fault.probability

    def send_drop(self, src: NodeId, dst: NodeId, now: float) -> str | None:
        """The cause if a message sent now from ``src`` to ``dst`` is lost, else ``None``."""
        for fault, start, end in self.send_rules:
            if not start <= now < end:
                continue
            if fault.kind == "link":
                hit = (src == fault.node and dst == fault.peer) or (
                    not fault.directed and src == fault.peer and dst == fault.node
                )
            else:
                hit = src == fault.node and (fault.peer is None or fault.peer == dst)
            if hit and self._lost(fault):
                return fault.kind
        return None

    def receive_drop(self, src: NodeId, dst: NodeId, now: float) -> str | None:
        """The cause if a message arriving now at ``dst`` from ``src`` is not received."""
        for fault, start, end in self.receive_rules:
            if (
                start <= now < end
                and dst == fault.node
                and (fault.peer is None or fault.peer == src)
                and self._lost(fault)
            ):
                return fault.kind
        return None
