"""The f + 1 round lower bound of seed 002, as a run: search the crash patterns of a
lock-step consensus protocol made to decide after R rounds.

A **crash pattern** says, for each faulty process, the round it crashes in and which of
its messages of that round still leave (at most f processes crash). Patterns that differ
only in messages to processes already down, or crashing in the same round, are one
pattern: those messages reach nobody. The search looks for a pattern under which the
protocol breaks a property of consensus — two correct processes decide differently
(agreement), a correct process decides no proposed value (integrity, validity) or none
at all (termination) — judged by :mod:`smrkit.check.agreement`.

1. **Dangerous chains first** (seed 002): a hidden value passes along a chain
   c1 → c2 → … → c(k+1); ci crashes in round i and its round-i message reaches only
   c(i+1); the last is correct. With k = min(f, R, n − 2) the chain spans R rounds when
   R ≤ f, and its last process learns in round R a value the other correct processes
   never see. Every ordered chain is tried, in the order of the process ids (p1, which
   proposes the least value, starts the first).
2. **Then every pattern**: a depth-first search over the protocol's lock-step states
   (:class:`~smrkit.explore.space.Space`: each process's state frozen and interned, its
   steps memoized), one move per round and crash pattern of that round. States met
   again are not searched again, but the number of patterns below them is counted, so
   ``patterns_explored`` is the exact number of distinct crash patterns whose runs were
   judged (the chains tried are among them; a violation found by a chain counts the
   chains tried). ``states_max`` bounds the search.

A violation found either way is replayed on the kernel (:class:`~smrkit.sim.simulator.
Simulator`, the plan's ``crash:p2@r3/p1`` faults): the verdict and the chain reported
— who hid what from whom, round by round — come from that real run's records.

Processes are ``Class(node_id, RoundConfig)`` (:mod:`smrkit.protocols.agreement`); p_i
proposes i − 1. The ``trb`` protocol is judged as terminating reliable broadcast from p1.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from smrkit.check.agreement import (
    PropertyCheck,
    consensus_checks,
    correct_processes,
    trb_checks,
)
from smrkit.core.ids import NodeId, server_ids
from smrkit.core.node import ConsensusProcess, Node
from smrkit.core.ops import Value
from smrkit.explore.space import (
    CLOCK,
    DOWN,
    LIVE,
    LOCK_STEP,
    NODES,
    RoundPattern,
    Space,
    SpaceConfig,
    State,
)
from smrkit.protocols.agreement.rounds import RoundConfig, round_processes
from smrkit.sim.faults import Fault, FaultPlan
from smrkit.sim.kernel.records import CRASH, DECIDED, DELIVERED, PROPOSED, SEND, Record
from smrkit.sim.network import LockStepNetwork
from smrkit.sim.simulator import Simulator
from smrkit.sim.trace import short_text
from smrkit.sim.user_code import UserCodeError, resolve, split_reference

Make = Callable[[NodeId, RoundConfig], ConsensusProcess]
STATES_MAX_DEFAULT = 2_000_000
SENDER = "p1"
"""The broadcaster when the protocol is terminating reliable broadcast."""


@dataclass(frozen=True)
class Crash:
    """One link of a run's crash pattern: ``process`` crashed in ``round``; its
    messages of that round reached ``reached`` only."""

    round: int
    process: str
    reached: tuple[str, ...]
    hidden_from: tuple[str, ...]
    sent: tuple[str, ...] = ()
    """What its messages that left carried (``repr`` of each distinct message)."""

    @property
    def spec(self) -> str:
        receivers = ",".join(self.reached) if self.reached else "0"
        return f"crash:{self.process}@r{self.round}/{receivers}"

    def sentence(self) -> str:
        what = f" ({'; '.join(self.sent)})" if self.sent else ""
        if not self.reached:
            return f"round {self.round}: {self.process} crashed before any message left"
        hidden = ", ".join(self.hidden_from) or "nobody"
        return (
            f"round {self.round}: {self.process} crashed; only {', '.join(self.reached)} "
            f"got its message{what}, hidden from {hidden}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "process": self.process,
            "reached": list(self.reached),
            "hidden_from": list(self.hidden_from),
            "sent": list(self.sent),
            "fault": self.spec,
        }


@dataclass
class Violation:
    """A crash pattern under which the protocol breaks ``broken``, replayed on the
    kernel: ``checks`` are that run's verdicts, ``chain`` its crashes in order."""

    broken: list[str]
    checks: dict[str, PropertyCheck]
    chain: list[Crash]
    records: list[Record]
    found_by: str
    """``dangerous chain`` or ``exhaustive search``."""

    @property
    def faults(self) -> list[str]:
        return [crash.spec for crash in self.chain]

    def to_json(self) -> dict[str, Any]:
        first = self.checks[self.broken[0]]
        return {
            "property": self.broken[0],
            "broken": self.broken,
            "detail": first.detail,
            "processes": list(first.processes),
            "values": list(first.values),
            "found_by": self.found_by,
            "faults": self.faults,
            "chain": [crash.to_json() for crash in self.chain],
            "checks": {name: check.to_json() for name, check in self.checks.items()},
        }


@dataclass
class RoundsResult:
    protocol: str
    replicas: int
    f: int
    rounds: int
    patterns_explored: int = 0
    chains_tried: int = 0
    states: int = 0
    exhausted: bool = False
    """Every crash pattern was judged."""
    bound: str | None = None
    """What stopped the search before it was done (``None``: nothing did)."""
    violation: Violation | None = None
    seconds: float = 0.0
    processes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1: a violation; 0: the space was exhausted without one; 3: a bound stopped
        the search first."""
        if self.violation is not None:
            return 1
        return 0 if self.exhausted else 3

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "replicas": self.replicas,
            "f": self.f,
            "rounds": self.rounds,
            "patterns_explored": self.patterns_explored,
            "chains_tried": self.chains_tried,
            "states": self.states,
            "exhausted": self.exhausted,
            "bound": self.bound,
            "seconds": self.seconds,
            "violation": None if self.violation is None else self.violation.to_json(),
        }


def run_horizon(rounds: int, f: int) -> int:
    """The last round a run may take when its processes decide after round ``rounds``
    with up to ``f`` crashes: R, then relays, with room to spare."""
    return rounds + f + 2


class RoundsProtocolError(ValueError):
    """A protocol that ``smrkit rounds`` cannot search; the message says what to change."""


def resolve_round_protocol(ref: str) -> tuple[Make, bool]:
    """The process class ``ref`` names — a built-in (:data:`~smrkit.protocols.agreement.
    ROUND_PROTOCOLS`) or the user's ``module.path:Class``, a ``ConsensusProcess`` subclass
    built as ``Class(node_id, RoundConfig)`` — and whether it is judged as terminating
    reliable broadcast (``trb``) rather than consensus."""
    from smrkit.protocols.agreement import ROUND_PROTOCOLS, TerminatingBroadcast

    fix = (
        f"write --protocol {' | '.join(ROUND_PROTOCOLS)}, or module.path:Class (a "
        "ConsensusProcess subclass built as Class(node_id, RoundConfig))"
    )
    if ":" not in ref:
        make = ROUND_PROTOCOLS.get(ref)
        if make is None:
            raise RoundsProtocolError(f"unknown lock-step protocol {ref!r}; {fix}")
        return make, make is TerminatingBroadcast
    parts = split_reference(ref)
    if parts is None:
        raise RoundsProtocolError(f"bad protocol reference {ref!r}; {fix}")
    try:
        target = resolve(*parts, f"class {parts[1]}(ConsensusProcess)")
    except UserCodeError as error:
        raise RoundsProtocolError(str(error)) from None
    if not (isinstance(target, type) and issubclass(target, ConsensusProcess)):
        raise RoundsProtocolError(
            f"{ref} is a {type(target).__name__}, not a ConsensusProcess subclass; {fix}"
        )
    return target, issubclass(target, TerminatingBroadcast)


class _SearchOverError(Exception):
    """The exhaustive search is over early: a violation, or the state bound."""


def judge(
    records: Sequence[Record], processes: Sequence[str], *, trb: bool
) -> dict[str, PropertyCheck]:
    """The specification's verdicts over a run's records."""
    correct = correct_processes(records, processes)
    if trb:
        return trb_checks(records, correct, SENDER)
    return consensus_checks(records, correct)


def broken(checks: dict[str, PropertyCheck]) -> list[str]:
    return [name for name, check in checks.items() if not check.ok]


def state_records(space: Space, state: State) -> list[Record]:
    """What a lock-step state of consensus processes says, as the records the checkers
    read: who crashed, proposed, delivered and decided — a decision in the round the
    process says (its ``decided_in``, if it has one), the rest in no round."""
    records: list[Record] = []
    for i, snap in enumerate(state[NODES]):
        node = space.thawed(i, snap)
        assert isinstance(node, ConsensusProcess)
        p = space.ids[i]
        if state[DOWN][i] != LIVE:
            records.append(Record(0.0, CRASH, p, None, None, "crash"))
        if node.proposed:
            records.append(Record(0.0, PROPOSED, p, None, 0, node.proposal))
        for sender, value in node.delivered:
            records.append(Record(0.0, DELIVERED, p, sender, None, value))
        decided_in = getattr(node, "decided_in", None)
        for _ in range(node.decisions):
            records.append(Record(0.0, DECIDED, p, None, decided_in, node.decision))
    return records


class RoundsSearch:
    """One search: ``make`` builds the processes, n of them, f crashes at most, each
    deciding after ``rounds`` rounds."""

    def __init__(
        self,
        name: str,
        make: Make,
        *,
        replicas: int,
        f: int,
        rounds: int,
        trb: bool = False,
        states_max: int = STATES_MAX_DEFAULT,
        values: Sequence[Value] | None = None,
        guided: bool = True,
    ) -> None:
        if replicas < 2:
            raise ValueError(f"consensus needs at least 2 processes, got {replicas}")
        if not 1 <= f < replicas:
            raise ValueError(f"f must lie in [1, n - 1 = {replicas - 1}], got {f}")
        if rounds < 1:
            raise ValueError(f"a process decides after at least 1 round, got {rounds}")
        self.name = name
        self.make = make
        self.n, self.f, self.rounds = replicas, f, rounds
        self.trb = trb
        self.states_max = states_max
        self.values = values
        self.guided = guided
        """Try the dangerous chains before every pattern."""
        self.processes = list(server_ids(replicas))
        self.horizon = run_horizon(rounds, f)
        try:
            self.nodes()
        except Exception as error:
            raise RoundsProtocolError(
                f"building {name}'s processes as Class(node_id, RoundConfig) raised "
                f"{type(error).__name__}: {error}; give the class that constructor"
            ) from None

    def nodes(self) -> list[ConsensusProcess]:
        sender = SENDER if self.trb else None
        return round_processes(
            self.make, self.processes, self.f, self.rounds, self.values, sender=sender
        )

    # --- one pattern, on the kernel ----------------------------------------------------

    def run(self, crashes: Sequence[Crash]) -> list[Record]:
        """The kernel's run under ``crashes``: its records."""
        plan = FaultPlan(
            tuple(
                Fault(
                    "crash",
                    c.process,
                    start=float(c.round),
                    in_rounds=True,
                    receivers=c.reached if c.reached else None,
                    after_sends=None if c.reached else 0,
                )
                for c in crashes
            )
        )
        nodes: list[Node] = list(self.nodes())
        sim = Simulator(
            nodes,
            seed=0,
            network=LockStepNetwork(),
            plan=plan,
            header={"servers": self.processes, "clients": [], "faults": list(plan.specs)},
            time_limit_s=float(self.horizon + 1),
        )
        return list(sim.run().events)

    def violation(self, crashes: Sequence[Crash], found_by: str) -> Violation | None:
        """The kernel run of ``crashes``, if it breaks the specification."""
        records = self.run(crashes)
        checks = judge(records, self.processes, trb=self.trb)
        lost = broken(checks)
        if not lost:
            return None
        return Violation(lost, checks, self._described(crashes, records), records, found_by)

    def _described(self, crashes: Sequence[Crash], records: Sequence[Record]) -> list[Crash]:
        """``crashes`` with what each crashing process's messages carried."""
        sent: dict[tuple[str, int], list[str]] = {}
        current = 0
        for record in records:
            if record.kind == "round":
                current = record.num
            elif record.kind == SEND:
                texts = sent.setdefault((record.node, current), [])
                text = short_text(record.data)
                if text not in texts:
                    texts.append(text)
        return [
            Crash(
                c.round,
                c.process,
                c.reached,
                c.hidden_from,
                tuple(sent.get((c.process, c.round), [])),
            )
            for c in crashes
        ]

    # --- 1. dangerous chains -----------------------------------------------------------

    def chains(self) -> list[list[Crash]]:
        """Every dangerous chain of length k = min(f, R, n − 2), in order."""
        k = min(self.f, self.rounds, self.n - 2)
        if k < 1:
            return []
        found = []
        for order in itertools.permutations(self.processes, k + 1):
            crashes = []
            down: set[str] = set()
            for i in range(k):
                down.add(order[i])
                hidden = tuple(p for p in self.processes if p not in down and p != order[i + 1])
                crashes.append(Crash(i + 1, order[i], (order[i + 1],), hidden))
            found.append(crashes)
        return found

    # --- 2. every pattern --------------------------------------------------------------

    def search(self) -> RoundsResult:
        started = time.perf_counter()
        result = RoundsResult(
            self.name, self.n, self.f, self.rounds, processes=list(self.processes)
        )
        for chain in self.chains() if self.guided else []:
            result.chains_tried += 1
            result.patterns_explored += 1
            found = self.violation(chain, "dangerous chain")
            if found is not None:
                result.violation = found
                result.seconds = time.perf_counter() - started
                return result
        _Exhaustive(self, result).run()
        result.seconds = time.perf_counter() - started
        return result


def decision_rounds(search: RoundsSearch) -> dict[tuple[int, int | None], int]:
    """For an early-stopping protocol: the number of crash patterns that end with f'
    crashes and every correct decision taken by round d, keyed ``(f', d)`` — the
    distribution of decision rounds over every crash pattern."""
    result = RoundsResult(search.name, search.n, search.f, search.rounds)
    return _Exhaustive(search, result).outcomes()


class _Exhaustive:
    """The depth-first search over crash patterns (see the module docstring)."""

    def __init__(self, search: RoundsSearch, result: RoundsResult) -> None:
        self.search = search
        self.result = result
        self.space = Space(
            search.nodes(),
            SpaceConfig(
                timing=LOCK_STEP,
                crash_budget=search.f,
                crashable=tuple(search.processes),
                mid_step_crashes=True,
                horizon_s=float(search.horizon),
            ),
        )
        self.counts: dict[State, int] = {}
        self.leaf_verdicts: dict[State, bool] = {}
        self.path: list[tuple[int, RoundPattern]] = []
        self.accounted = 0

    def run(self) -> None:
        try:
            self._count(self.space.initial())
        except _SearchOverError:
            self.result.patterns_explored = self.accounted
            self.result.states = len(self.counts) + len(self.leaf_verdicts)
            return
        self.result.patterns_explored = self.accounted
        self.result.states = len(self.counts) + len(self.leaf_verdicts)
        self.result.exhausted = True

    def _count(self, state: State) -> int:
        known = self.counts.get(state)
        if known is not None:
            self.accounted += known
            return known
        if self.space.rounds_over(state):
            self._judge_leaf(state)
            self.accounted += 1
            return 1
        if len(self.counts) >= self.search.states_max:
            self.result.bound = f"states_max = {self.search.states_max} states searched"
            raise _SearchOverError
        r = state[CLOCK] + 1
        total = 0
        for pattern in self.space.round_patterns(state):
            self.path.append((r, pattern))
            total += self._count(self.space.after_round(state, r, pattern))
            self.path.pop()
        self.counts[state] = total
        return total

    def outcomes(self, state: State | None = None) -> dict[tuple[int, int | None], int]:
        """Over every crash pattern from ``state`` (the initial one by default): how many
        patterns end with f' crashes and the last correct decision in round d, keyed
        ``(f', d)`` (``d`` read from the processes' ``decided_in``; ``None`` if one of
        them never decided or does not say)."""
        memo: dict[State, dict[tuple[int, int | None], int]] = {}

        def walk(current: State) -> dict[tuple[int, int | None], int]:
            found = memo.get(current)
            if found is not None:
                return found
            if self.space.rounds_over(current):
                found = {self._outcome(current): 1}
            else:
                found = {}
                r = current[CLOCK] + 1
                for pattern in self.space.round_patterns(current):
                    child = walk(self.space.after_round(current, r, pattern))
                    for key, count in child.items():
                        found[key] = found.get(key, 0) + count
            memo[current] = found
            return found

        return walk(self.space.initial() if state is None else state)

    def _outcome(self, state: State) -> tuple[int, int | None]:
        crashes = sum(1 for d in state[DOWN] if d != LIVE)
        last: int | None = 0
        for i, snap in enumerate(state[NODES]):
            if state[DOWN][i] != LIVE:
                continue
            decided_in = getattr(self.space.thawed(i, snap), "decided_in", None)
            last = None if decided_in is None or last is None else max(last, decided_in)
        return crashes, last

    def _judge_leaf(self, state: State) -> None:
        verdict = self.leaf_verdicts.get(state)
        if verdict is None:
            verdict = self.leaf_verdicts[state] = not broken(
                judge(state_records(self.space, state), self.search.processes, trb=self.search.trb)
            )
        if verdict:
            return
        crashes = self._crashes()
        found = self.search.violation(crashes, "exhaustive search")
        if found is None:
            raise AssertionError(
                f"the search's state breaks the specification but the kernel run of "
                f"{[c.spec for c in crashes]} does not: the explorer and the kernel disagree"
            )
        self.accounted += 1
        self.result.violation = found
        raise _SearchOverError

    def _crashes(self) -> list[Crash]:
        """The crash pattern of the current path."""
        processes = self.search.processes
        crashes: list[Crash] = []
        down: set[int] = set()
        for r, pattern in self.path:
            crashing = {i for i, _ in pattern}
            for i, reached in pattern:
                hidden = tuple(
                    processes[j]
                    for j in range(len(processes))
                    if j not in down and j not in crashing and j not in reached
                )
                crashes.append(Crash(r, processes[i], tuple(processes[j] for j in reached), hidden))
            down |= crashing
        return crashes
