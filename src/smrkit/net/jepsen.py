"""A Jepsen-style test of a running cluster: a workload, a nemesis, a checked history.

**Load is open-loop**, as Jepsen's: the ``rate × time`` offered operations are issued on
schedule (the i-th at ``i / rate`` s) whatever the latency, so a dead service is
measured against all it was asked, not against the little a blocked client manages to
ask. Each operation runs in a *process* (a sequential client, its own session); an
idle process takes the next operation, and when every one is busy a new one starts.
A process whose operation gets no answer within ``op_timeout_s`` is retired — its
operation stays open (``info``: it may or may not have taken effect) — and a fresh
one takes its place. At most ``in_flight_max`` operations run at once; an offered one
beyond that is counted as offered, not invoked. Operations: get/put/cas on ``keys``
registers and get/append on as many append-only logs, every written value unique
(``[3.17]`` is the 3rd process's 17th op). A register or log moves to a fresh key
after ``WRITES_PER_KEY`` writes, as Jepsen's independent keys do, so that checking
stays tractable however many writes an outage leaves pending. **Every key carries the
run id** (``r<id>.k0.0``, ``r<id>.log0.3``), so a second run on the same cluster
starts from keys no earlier run touched, as the checker assumes.

**Health before**: a cluster with fewer live replicas than the protocol needs
(``n − f``) is refused (:class:`ClusterUnfitError`); replicas already down count
against the ``f`` the nemesis may kill. **Health after**: which replicas are live,
halted (and why) or dead.

The nemesis injects faults on a fixed schedule: ``2 × kinds`` slots spread evenly over
the run, the kinds taking turns, each aimed at the primary of the moment:

* ``kill`` — SIGKILL it, only if fewer than ``min(f, n − 1)`` replicas are down. With a
  crash-stop protocol it stays down; with a ``restartable`` one its supervisor starts
  it again (it recovers from its disk and rejoins), and the nemesis does if it has not
  served again half a slot later;
* ``partition`` — cut it off from the other replicas, healed after half a slot;
* ``omit`` — drop its messages to one backup, healed after half a slot.

After the load, the nemesis heals, killed replicas of a restartable protocol are
restarted, and one read per key records the final state, retried until it is answered
or ``final_read_s`` has passed. The history goes to JSON Lines and through the
linearizability checker.

**The verdict** is ``violation`` when the checker finds one or an acknowledged write
is lost or applied twice; ``unknown`` when nothing was acknowledged, the checker ran
out of time, or a final read was never answered (lost writes could not be looked for
on that key); ``linearizable`` otherwise. Lost: an ``append`` acknowledged ``ok``
whose value is missing from the final read of its key (values are bracketed, so
``[1.2]`` is never found inside ``[11.2]``); applied twice: found twice.

Replicas that expose timing counters (``timing: {late_messages, late_timers}`` in their
status) are read before and after: how often the run broke the synchronous model the
protocols' guarantees rest on.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smrkit.check.history import History, Operation, Status
from smrkit.check.linearizability import LinearizabilityResult, check_linearizability
from smrkit.check.parsers import write_jsonl
from smrkit.core.ops import Op, Value, thaw
from smrkit.net import availability
from smrkit.net import nemesis as nem
from smrkit.net.admin import status_all
from smrkit.net.client import Client, CommandError, OutcomeUnknownError
from smrkit.net.cluster import ClusterError, replica_pid, restart_replica
from smrkit.net.config import ClusterConfig, safety_rests_on_timing
from smrkit.net.files import open_private, private_dir
from smrkit.protocols.registry import get_protocol

NEMESES = ("kill", "partition", "omit")
MIX = (("get", 0.35), ("put", 0.2), ("append", 0.35), ("cas", 0.1))
FINAL_PROCESS = "final"
IN_FLIGHT_MAX = 4000
"""Operations under way at once, at most (each holds a client session)."""
OP_TIMEOUT_S = 5.0
"""Default: an op unanswered this long retires its process (``smrkit test --op-timeout``)."""
FINAL_READ_S = 30.0
"""Default: how long the final reads are retried (``--final-read-timeout``)."""
CHECK_TIMEOUT_S = 120.0
"""Default: the checker's wall-clock budget (``--check-timeout``)."""
FINAL_READS_AT_ONCE = 64
RETURN_POLL_S = 0.1
WRITES_PER_KEY = 8
"""Writes a key takes before its slot moves to a fresh key (Jepsen's *independent*
keys): the checker's search on a key grows with the factorial of its concurrent
appends, and an outage leaves every write of the moment pending at once."""
log = logging.getLogger("smrkit.jepsen")

Progress = Callable[[str, float, dict[str, int]], None]
"""``(phase, fraction done, counts)``: called as the run goes (``load``, ``final
reads``, ``checking``)."""


class ClusterUnfitError(ClusterError):
    """The cluster cannot be tested: down, or fewer live replicas than it needs."""


@dataclass(frozen=True)
class JepsenPlan:
    time_s: float = 30.0
    rate: float = 500.0
    """Offered load, ops per second."""
    nemesis: tuple[str, ...] = ()
    clients: int = 10
    """Processes at the start; more start when all are busy."""
    keys: int = 5
    op_timeout_s: float = OP_TIMEOUT_S
    check_timeout_s: float = CHECK_TIMEOUT_S
    seed: int = 1
    kills_max: int | None = None
    """At most this many kills (never more than leave ``n − min(f, n − 1)`` up)."""
    final_read_s: float = FINAL_READ_S
    in_flight_max: int = IN_FLIGHT_MAX
    run_id: str | None = None
    """Prefix of every key; ``None``: a fresh random one."""

    @property
    def offered(self) -> int:
        return math.floor(self.rate * self.time_s + 1e-9)


@dataclass
class FaultWindow:
    kind: str
    target: str
    start: float
    end: float | None = None
    """``None``: never healed (a kill of a crash-stop replica); for a kill, when the
    replica served again (restarted by its supervisor, or by the nemesis half a slot
    later)."""
    pid: int | None = None
    """The process a kill ended."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "start": self.start, "end": self.end}


@dataclass
class JepsenResult:
    plan: JepsenPlan
    run_id: str
    history: History
    windows: list[FaultWindow]
    linearizability: LinearizabilityResult
    final: dict[str, Value]
    lost_writes: list[tuple[str, str]]
    duplicated_writes: list[tuple[str, str]]
    offered: int
    invoked: int
    unread_keys: list[str] = field(default_factory=list)
    replicas: dict[str, Any] = field(default_factory=dict)
    health_before: dict[str, str] = field(default_factory=dict)
    timing: dict[str, int] | None = None
    history_path: Path | None = None
    protocol: str | None = None
    """The cluster's protocol: whether its safety rests on the timing it assumes
    (:func:`safety_rests_on_timing`) decides what a late message means."""

    @property
    def workload_ops(self) -> list[Operation]:
        return [op for op in self.history.ops if not op.process.startswith(FINAL_PROCESS)]

    @property
    def acks(self) -> list[float]:
        """When each acknowledged workload op returned (seconds since the start)."""
        return [op.ret for op in self.workload_ops if op.status is Status.OK]

    def unknown_reasons(self) -> list[str]:
        """Why the run cannot be called linearizable though no violation was found."""
        reasons = []
        if not self.acks:
            reasons.append("no operation was acknowledged")
        if self.linearizability.verdict == "unknown":
            reasons.append(f"the checker ran out of time ({self.plan.check_timeout_s:g} s)")
        if self.unread_keys:
            named = ", ".join(self.unread_keys[:3])
            more = f" and {len(self.unread_keys) - 3} more" if len(self.unread_keys) > 3 else ""
            reasons.append(
                f"the final read of {named}{more} was never answered in "
                f"{self.plan.final_read_s:g} s: lost writes could not be looked for there"
            )
        return reasons

    @property
    def verdict(self) -> str:
        if (
            self.linearizability.verdict == "violation"
            or self.lost_writes
            or self.duplicated_writes
        ):
            return "violation"
        return "unknown" if self.unknown_reasons() else "linearizable"

    def to_json(self) -> dict[str, Any]:
        ops = self.workload_ops
        counts = {s.value: sum(1 for op in ops if op.status is s) for s in Status}
        latencies = sorted((op.ret - op.call) * 1000 for op in ops if op.status is Status.OK)
        acks = self.acks
        span = self.plan.time_s
        faults = []
        starts = sorted(w.start for w in self.windows)
        for window in self.windows:
            entry = window.to_json()
            later = [t for t in starts if t > window.start]
            until = min([window.end if window.end is not None else span, *later])
            outage = availability.outage_during(acks, span, window.start, until)
            entry["outage"] = None if outage is None else outage.to_json()
            entry["recover_s"] = (
                None if window.end is None else availability.recovery_s(acks, window.end)
            )
            faults.append(entry)
        witness = self.linearizability.witness
        return {
            "verdict": self.verdict,
            "valid": self.verdict == "linearizable",
            "unknown_reasons": self.unknown_reasons() if self.verdict == "unknown" else [],
            "linearizability": self.linearizability.verdict,
            "run_id": self.run_id,
            "ops": {"offered": self.offered, "invoked": self.invoked, "total": len(ops), **counts},
            "lost_writes": len(self.lost_writes),
            "duplicated_writes": len(self.duplicated_writes),
            "availability": counts["ok"] / self.offered if self.offered else None,
            "acked_per_second": availability.per_second(acks, span),
            "longest_gap": availability.longest_gap(acks, span).to_json(),
            "outages": [gap.to_json() for gap in availability.outages(acks, span)],
            "latency_ms": {
                "p50": _percentile(latencies, 0.50),
                "p99": _percentile(latencies, 0.99),
                "max": latencies[-1] if latencies else None,
            },
            "faults": faults,
            "time_s": self.plan.time_s,
            "rate": self.plan.rate,
            "clients": self.plan.clients,
            "keys": self.plan.keys,
            "op_timeout_s": self.plan.op_timeout_s,
            "final_read_timeout_s": self.plan.final_read_s,
            "check_timeout_s": self.plan.check_timeout_s,
            "check_seconds": self.linearizability.seconds,
            "timing": self.timing,
            "protocol": self.protocol,
            "safety_rests_on_timing": (
                None if self.protocol is None else safety_rests_on_timing(self.protocol)
            ),
            "witness": None if witness is None else witness.to_json(),
            "witness_text": None if witness is None else witness.render(),
            "lost": [list(item) for item in self.lost_writes[:100]],
            "duplicated": [list(item) for item in self.duplicated_writes[:100]],
            "final": {k: thaw(v) for k, v in self.final.items()},
            "unread_keys": self.unread_keys,
            "health_before": self.health_before,
            "replicas": self.replicas,
            "history": None if self.history_path is None else str(self.history_path),
        }


def timing_consequence(summary: dict[str, Any]) -> str:
    """What late messages and timers meant for the run: a synchronous protocol's
    guarantees rest on δ, a partially synchronous one's safety does not (only its
    liveness: elections and commits wait for timely messages)."""
    if summary.get("safety_rests_on_timing") is False:
        return (
            f"{summary.get('protocol')} does not rely on δ for safety, only for electing "
            "and committing in time"
        )
    return "the protocol's guarantees did not apply"


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[index]


class _Recorder:
    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.ops: list[Operation] = []

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def run(self, client: Client, process: str, op: Op, timeout_s: float) -> Operation:
        call = self.now()
        status, output = Status.OK, None
        try:
            output = await asyncio.wait_for(client.call(op), timeout_s)
        except CommandError:
            status = Status.FAIL
        except (OutcomeUnknownError, TimeoutError):
            status = Status.INFO
        ret = math.inf if status is Status.INFO else self.now()
        record = Operation(
            id=len(self.ops),
            process=process,
            f=op.f,
            key=op.key,
            arg=op.value,
            output=output,
            status=status,
            call=call,
            ret=ret,
        )
        self.ops.append(record)
        return record


class _Load:
    """The open-loop generator: the offered ops on schedule, each in an idle process."""

    def __init__(self, client: Client, recorder: _Recorder, plan: JepsenPlan, run_id: str):
        self.client = client
        self.recorder = recorder
        self.plan = plan
        self.run_id = run_id
        self.rng = random.Random(f"{plan.seed}/{run_id}")
        self.idle: collections.deque[int] = collections.deque(range(plan.clients))
        self.processes = plan.clients
        self.counts: collections.Counter[int] = collections.Counter()
        self.seen: dict[str, Value] = {}
        self.under_way: set[asyncio.Task[None]] = set()
        self.invoked = 0
        self.writes: collections.Counter[str] = collections.Counter()
        """Writes issued to each key slot (``k0``, ``log3``) since its key last changed."""
        self.generation: collections.Counter[str] = collections.Counter()
        self.used: dict[str, None] = {}
        """Every key an op was issued to, in order (the final reads read them all)."""

    def key(self, slot: str, write: bool) -> str:
        """The slot's key of the moment; after ``WRITES_PER_KEY`` writes the slot moves
        to a fresh key."""
        key = f"r{self.run_id}.{slot}.{self.generation[slot]}"
        self.used[key] = None
        if write:
            self.writes[slot] += 1
            if self.writes[slot] >= WRITES_PER_KEY:
                self.writes[slot] = 0
                self.generation[slot] += 1
        return key

    async def run(self) -> None:
        names = [name for name, _ in MIX]
        weights = [weight for _, weight in MIX]
        for i in range(self.plan.offered):
            due = i / self.plan.rate
            now = self.recorder.now()
            if due > now:
                await asyncio.sleep(due - now)
            f = self.rng.choices(names, weights)[0]
            kind = "log" if f == "append" or (f == "get" and i % 2) else "k"
            slot = f"{kind}{self.rng.randrange(self.plan.keys)}"
            if len(self.under_way) >= self.plan.in_flight_max:
                continue  # offered, not invoked
            key = self.key(slot, write=f != "get")
            process = self.idle.popleft() if self.idle else self._new_process()
            self.counts[process] += 1
            value = f"[{process}.{self.counts[process]}]"
            if f == "get":
                op = Op("get", key)
            elif f == "cas":
                op = Op("cas", key, (self.seen.get(key), value))
            else:
                op = Op(f, key, value)
            self.invoked += 1
            task = asyncio.ensure_future(self._one(process, op, value))
            self.under_way.add(task)
            task.add_done_callback(self.under_way.discard)
        if self.under_way:
            await asyncio.gather(*self.under_way, return_exceptions=True)

    def _new_process(self) -> int:
        self.processes += 1
        return self.processes - 1

    async def _one(self, process: int, op: Op, value: str) -> None:
        """Run one op in ``process``; ``value`` is what a put or cas writes."""
        record = await self.recorder.run(self.client, str(process), op, self.plan.op_timeout_s)
        if record.status is Status.INFO:
            return  # retired: its op stays open, a fresh process takes the next one
        self.idle.append(process)
        if record.status is Status.OK and op.key is not None:
            if op.f == "get":
                self.seen[op.key] = record.output
            elif op.f == "put" or (op.f == "cas" and record.output is True):
                self.seen[op.key] = value


def _is_live(status: dict[str, Any]) -> bool:
    return bool(status.get("ok") and status.get("serving"))


def replica_health(config: ClusterConfig, replica: str, status: dict[str, Any]) -> str:
    """``live``, ``halted: <why>``, ``not answering: …`` (its process runs: between a
    halt and its restart, or stuck) or ``dead: …`` (no process) for one replica."""
    if _is_live(status):
        return "live"
    if status.get("ok"):
        return f"halted: {status.get('halted') or 'not serving yet'}"
    pid = replica_pid(config, replica)
    if pid is not None:
        return f"not answering: process {pid} runs (restarting after a halt, or stuck)"
    return "dead: no process"


def needed_replicas(config: ClusterConfig) -> int:
    """Live replicas the protocol needs to serve: ``n − f``."""
    n = len(config.servers)
    return n - get_protocol(config.protocol).tolerated(n)


def _kills_allowed(config: ClusterConfig) -> int:
    """Replicas that may be down at once under the nemesis: ``min(f, n − 1)``."""
    n = len(config.servers)
    return min(get_protocol(config.protocol).tolerated(n), n - 1)


async def check_health(config: ClusterConfig) -> dict[str, str]:
    """Each replica's health; raises :class:`ClusterUnfitError` when fewer than the
    protocol needs are live."""
    statuses = await status_all(config)
    health = {r: replica_health(config, r, s) for r, s in statuses.items()}
    live = [r for r, h in health.items() if h == "live"]
    need = needed_replicas(config)
    if len(live) < need:
        down = ", ".join(f"{r} {h.split(':')[0]}" for r, h in health.items() if h != "live")
        if not live:
            fix = f"run 'smrkit cluster up {config.base}'"
        elif get_protocol(config.protocol).restartable:
            fix = (
                "wait for halted replicas to restart, and restart dead ones "
                f"('smrkit nemesis --cluster {config.base} restart REPLICA')"
            )
        else:
            fix = (
                f"{config.protocol} is crash-stop: start the cluster anew "
                f"('smrkit cluster down {config.base}', then 'up')"
            )
        raise ClusterUnfitError(
            f"{len(live)} of {len(config.servers)} replicas live ({down}); {config.protocol} "
            f"needs {need} to serve; {fix}"
        )
    return health


def _timing(statuses: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Each answering replica's timing counters, if it exposes them."""
    found: dict[str, dict[str, int]] = {}
    for replica, status in statuses.items():
        timing = status.get("timing") if status.get("ok") else None
        if isinstance(timing, dict):
            found[replica] = {
                "late_messages": int(timing.get("late_messages", 0)),
                "late_timers": int(timing.get("late_timers", 0)),
                "incarnation": int(status.get("incarnation", 1)),
            }
    return found


def timing_during(
    before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]
) -> dict[str, int] | None:
    """Late messages and timers counted during the run, over all replicas (a replica
    restarted meanwhile counts from zero); ``None`` when no replica exposes them."""
    if not before and not after:
        return None
    total = {"late_messages": 0, "late_timers": 0}
    for replica, now in after.items():
        then = before.get(replica)
        same = then is not None and then["incarnation"] == now["incarnation"]
        for key in total:
            earlier = then[key] if then is not None and same and now[key] >= then[key] else 0
            total[key] += now[key] - earlier
    return total


async def _primary(config: ClusterConfig) -> tuple[str | None, list[str]]:
    """The current primary (the lowest-ranked one if several claim it) and the live
    replicas."""
    statuses = await status_all(config)
    live = [r for r, s in statuses.items() if _is_live(s)]
    primaries = [r for r in live if statuses[r].get("is_primary")]
    return (primaries[0] if primaries else None), live


async def _nemesis(
    config: ClusterConfig, plan: JepsenPlan, recorder: _Recorder, windows: list[FaultWindow]
) -> None:
    kinds = [k for k in plan.nemesis if k in NEMESES]
    if not kinds:
        return
    slots = 2 * len(kinds)
    slot_s = plan.time_s / (slots + 1)
    restartable = get_protocol(config.protocol).restartable
    kills_left = slots if plan.kills_max is None else plan.kills_max
    for i in range(slots):
        kind = kinds[i % len(kinds)]
        start = slot_s * (i + 1)
        await asyncio.sleep(max(0.0, start - recorder.now()))
        primary, live = await _primary(config)
        target = primary or (live[0] if live else None)
        if target is None:
            continue
        if kind == "kill":
            down = len(config.servers) - len(live)
            if kills_left == 0 or down >= _kills_allowed(config):
                continue  # replicas already down count against f
            if replica_pid(config, target) is None:
                continue
            kills_left -= 1
            window = FaultWindow("kill", target, recorder.now(), pid=nem.kill(config, target))
            windows.append(window)
            if restartable:
                await _await_return(config, window, recorder, slot_s / 2)
                if window.end is None:
                    await _restart(config, window, recorder)
            continue
        if kind == "partition":
            links = nem.partition_links(config, [target])
            label = f"{target} | rest"
        else:
            others = [r for r in live if r != target]
            if not others:
                continue
            links = {(target, others[0])}
            label = f"{target}->{others[0]}"
        await nem.block(config, links)
        window = FaultWindow(kind, label, recorder.now())
        windows.append(window)
        await asyncio.sleep(slot_s / 2)
        await nem.heal(config)
        window.end = recorder.now()


async def _await_return(
    config: ClusterConfig, window: FaultWindow, recorder: _Recorder, limit_s: float
) -> None:
    """Wait up to ``limit_s`` for a killed replica to serve again by itself (its
    supervisor restarts it); the window ends when it does."""
    deadline = recorder.now() + limit_s
    await asyncio.sleep(RETURN_POLL_S)
    while recorder.now() < deadline:
        status = (await status_all(config, only=[window.target]))[window.target]
        if _is_live(status) and status.get("pid") != window.pid:
            window.end = recorder.now()
            return
        await asyncio.sleep(RETURN_POLL_S)


async def _restart(config: ClusterConfig, window: FaultWindow, recorder: _Recorder) -> None:
    """Heal a kill: start the replica again; the window ends once it serves. The start
    runs in a thread and is shielded: a restart under way finishes (and ends its window)
    even if the nemesis is cancelled meanwhile."""

    def start() -> None:
        try:
            restart_replica(config, window.target)
        except ClusterError as error:
            log.warning("cannot restart %s: %s", window.target, error)
            return
        window.end = recorder.now()

    task = asyncio.ensure_future(asyncio.to_thread(start))
    _RESTARTS.add(task)
    task.add_done_callback(_RESTARTS.discard)
    await asyncio.shield(task)


_RESTARTS: set[asyncio.Future[None]] = set()
"""Restarts under way (awaited before the final reads)."""


async def _heal_everything(
    config: ClusterConfig, windows: list[FaultWindow], recorder: _Recorder
) -> None:
    await nem.heal(config)
    restartable = get_protocol(config.protocol).restartable
    if _RESTARTS:
        await asyncio.gather(*_RESTARTS, return_exceptions=True)
    for window in windows:
        if window.end is not None:
            continue
        if window.kind != "kill":
            window.end = recorder.now()
        elif restartable and replica_pid(config, window.target) is None:
            await _restart(config, window, recorder)  # the run ended before it


async def _final_reads(
    client: Client, recorder: _Recorder, keys: list[str], plan: JepsenPlan
) -> dict[str, Value]:
    """One answered read per key, each retried until ``plan.final_read_s`` has passed."""
    deadline = recorder.now() + plan.final_read_s
    final: dict[str, Value] = {}
    at_once = asyncio.Semaphore(FINAL_READS_AT_ONCE)

    async def read(key: str) -> None:
        async with at_once:
            await read_until_answered(key)

    async def read_until_answered(key: str) -> None:
        while True:
            left = deadline - recorder.now()
            if left <= 0:
                return
            timeout = min(plan.op_timeout_s, left)
            process = f"{FINAL_PROCESS}:{key}"  # one per key: the reads run side by side
            record = await recorder.run(client, process, Op("get", key), timeout)
            if record.status is Status.OK:
                final[key] = record.output
                return
            await asyncio.sleep(min(0.2, max(0.0, deadline - recorder.now())))

    await asyncio.gather(*(read(key) for key in keys))
    return final


async def run_test(
    config: ClusterConfig,
    plan: JepsenPlan,
    out_dir: Path | None = None,
    *,
    progress: Progress | None = None,
) -> JepsenResult:
    """Run the test against the cluster of ``config``; raises :class:`ClusterUnfitError`
    (before any load) if it cannot serve."""
    health = await check_health(config)
    timing_before = _timing(await status_all(config))
    run_id = plan.run_id or secrets.token_hex(3)
    recorder = _Recorder(time.monotonic())
    windows: list[FaultWindow] = []
    async with Client(config, op_timeout_s=plan.op_timeout_s) as client:
        load = _Load(client, recorder, plan, run_id)
        load_task = asyncio.ensure_future(load.run())
        nemesis_task = asyncio.ensure_future(_nemesis(config, plan, recorder, windows))
        reporter = asyncio.ensure_future(_report_progress(progress, recorder, plan))
        try:
            await load_task
        finally:
            for task in (nemesis_task, load_task, reporter):
                task.cancel()
            await asyncio.gather(nemesis_task, load_task, reporter, return_exceptions=True)
            await _heal_everything(config, windows, recorder)
        if progress is not None:
            progress("final reads", 1.0, _counts(recorder))
        keys = list(load.used)
        final = await _final_reads(client, recorder, keys, plan)
    ops = _renumber(sorted(recorder.ops, key=lambda op: op.call))
    history = History(ops=ops, model="kv", source="smrkit test")
    lost, duplicated = _lost_writes(history.ops, final)
    statuses = await status_all(config)  # the cluster as the run left it
    if progress is not None:
        progress("checking", 1.0, _counts(recorder))
    lin = await asyncio.to_thread(check_linearizability, history, plan.check_timeout_s)
    replicas = {
        r: {
            "health": replica_health(config, r, s),
            **(
                {
                    k: s.get(k)
                    for k in ("is_primary", "role", "term", "applied", "incarnation", "timing")
                    if k in s
                }
                if s.get("ok")
                else {}
            ),
        }
        for r, s in statuses.items()
    }
    result = JepsenResult(
        plan,
        run_id,
        history,
        windows,
        lin,
        final,
        lost,
        duplicated,
        offered=plan.offered,
        invoked=load.invoked,
        unread_keys=[k for k in keys if k not in final],
        replicas=replicas,
        health_before=health,
        timing=timing_during(timing_before, _timing(statuses)),
        protocol=config.protocol,
    )
    if out_dir is not None:
        private_dir(out_dir)
        result.history_path = out_dir / "history.jsonl"
        with open_private(result.history_path) as handle:
            write_jsonl(history, handle)
    return result


def _counts(recorder: _Recorder) -> dict[str, int]:
    counts = collections.Counter(op.status.value for op in recorder.ops)
    return {s.value: counts[s.value] for s in Status}


async def _report_progress(
    progress: Progress | None, recorder: _Recorder, plan: JepsenPlan
) -> None:
    if progress is None:
        return
    while True:
        progress("load", min(1.0, recorder.now() / plan.time_s), _counts(recorder))
        await asyncio.sleep(0.25)


def _renumber(ops: list[Operation]) -> list[Operation]:
    """Ids are positions in the history (the checker's witnesses refer to them)."""
    return [
        Operation(i, op.process, op.f, op.key, op.arg, op.output, op.status, op.call, op.ret)
        for i, op in enumerate(ops)
    ]


def _lost_writes(
    ops: list[Operation], final: dict[str, Value]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    lost: list[tuple[str, str]] = []
    duplicated: list[tuple[str, str]] = []
    for op in ops:
        if op.f != "append" or op.status is not Status.OK or op.key not in final:
            continue
        assert op.key is not None and isinstance(op.arg, str)
        text = final[op.key]
        found = text.count(op.arg) if isinstance(text, str) else 0
        if found == 0:
            lost.append((op.key, op.arg))
        elif found > 1:
            duplicated.append((op.key, op.arg))
    return lost, duplicated


def latency_timeline(result: JepsenResult) -> list[tuple[float, float | None, str]]:
    """``(call time, latency ms or None, status)`` of each workload op, for plots."""
    return [
        (op.call, None if op.ret == math.inf else (op.ret - op.call) * 1000, op.status.value)
        for op in result.workload_ops
    ]
