"""A Jepsen-style test of a running cluster: a workload, a nemesis, a checked history.

Clients (one worker per client, each with its own session) issue get/put/cas on a few
keys ``k0, k1, …`` and get/append on as many append-only keys ``log0, log1, …``, at an
offered ``rate``, every written value unique (``[3.17]`` is worker 3's 17th op),
while the nemesis injects faults on a fixed schedule: ``2 × kinds`` slots spread
evenly over the run, the kinds taking turns. Each fault targets the
primary of the moment:

* ``kill`` — SIGKILL it. With a crash-stop protocol it stays down, so at most f
  replicas are killed and at least one is left; with a ``restartable`` one it is
  restarted after half a slot (it recovers from its disk and rejoins), so kills go on
  for the whole run, one replica down at a time;
* ``partition`` — cut it off from the other replicas, healed after half a slot;
* ``omit`` — drop its messages to one backup, healed after half a slot.

Every op is recorded with its call and return times (seconds since the start) and an
outcome: ``ok``; ``fail`` when the service said it did not take effect; ``info`` when
no answer came within ``op_timeout_s`` — it may have, so it stays open. After the run
the nemesis heals, and one read per key records the final state. The history goes to
JSON Lines (:func:`smrkit.check.parsers.write_jsonl`) and through the linearizability
checker.

Acknowledged writes lost: an ``append`` acknowledged ``ok`` whose value is missing
from the final read of its append-only key (values are unique and bracketed, so ``[1.2]`` is never
found inside ``[11.2]``); *duplicated*: one found twice — exactly-once broken.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smrkit.check.history import History, Operation, Status
from smrkit.check.linearizability import LinearizabilityResult, check_linearizability
from smrkit.check.parsers import write_jsonl
from smrkit.core.ops import Op, Value, thaw
from smrkit.net import nemesis as nem
from smrkit.net.admin import status_all
from smrkit.net.client import Client, CommandError, OutcomeUnknownError
from smrkit.net.cluster import ClusterError, replica_pid, restart_replica
from smrkit.net.config import ClusterConfig
from smrkit.net.files import open_private, private_dir
from smrkit.protocols.registry import get_protocol

NEMESES = ("kill", "partition", "omit")
MIX = (("get", 0.35), ("put", 0.2), ("append", 0.35), ("cas", 0.1))
FINAL_PROCESS = "final"
log = logging.getLogger("smrkit.jepsen")


@dataclass(frozen=True)
class JepsenPlan:
    time_s: float = 30.0
    rate: float = 500.0
    """Offered load, ops per second over all clients."""
    nemesis: tuple[str, ...] = ()
    clients: int = 10
    keys: int = 5
    op_timeout_s: float = 5.0
    check_timeout_s: float = 120.0
    seed: int = 1
    kills_max: int | None = None
    """At most this many kills (crash-stop protocols: never more than f, and one replica
    is always left; restartable ones: each kill is restarted before the next fault)."""


@dataclass
class FaultWindow:
    kind: str
    target: str
    start: float
    end: float | None = None
    """``None``: never healed (a kill of a crash-stop replica); for a kill, when the
    replica was restarted and served again."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "start": self.start, "end": self.end}


@dataclass
class JepsenResult:
    plan: JepsenPlan
    history: History
    windows: list[FaultWindow]
    linearizability: LinearizabilityResult
    final: dict[str, Value]
    lost_writes: list[tuple[str, str]]
    duplicated_writes: list[tuple[str, str]]
    replicas: dict[str, Any] = field(default_factory=dict)
    history_path: Path | None = None

    @property
    def workload_ops(self) -> list[Operation]:
        return [op for op in self.history.ops if op.process != FINAL_PROCESS]

    def to_json(self) -> dict[str, Any]:
        ops = self.workload_ops
        counts = {s.value: sum(1 for op in ops if op.status is s) for s in Status}
        latencies = sorted((op.ret - op.call) * 1000 for op in ops if op.status is Status.OK)
        return {
            "verdict": self.linearizability.verdict,
            "valid": self.linearizability.verdict == "linearizable"
            and not self.lost_writes
            and not self.duplicated_writes,
            "ops": {"total": len(ops), **counts},
            "lost_writes": len(self.lost_writes),
            "duplicated_writes": len(self.duplicated_writes),
            "availability": counts["ok"] / len(ops) if ops else None,
            "latency_ms": {
                "p50": _percentile(latencies, 0.50),
                "p99": _percentile(latencies, 0.99),
                "max": latencies[-1] if latencies else None,
            },
            "faults": [w.to_json() for w in self.windows],
            "time_s": self.plan.time_s,
            "rate": self.plan.rate,
            "clients": self.plan.clients,
            "keys": self.plan.keys,
            "check_seconds": self.linearizability.seconds,
            "witness": None
            if self.linearizability.witness is None
            else self.linearizability.witness.to_json(),
            "lost": [list(item) for item in self.lost_writes[:20]],
            "final": {k: thaw(v) for k, v in self.final.items()},
            "replicas": self.replicas,
            "history": None if self.history_path is None else str(self.history_path),
        }


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


async def _worker(
    index: int,
    client: Client,
    recorder: _Recorder,
    plan: JepsenPlan,
    rng: random.Random,
) -> None:
    interval = plan.clients / plan.rate
    next_at = recorder.now() + rng.uniform(0, interval)
    keys = [f"k{i}" for i in range(plan.keys)]
    logs = [f"log{i}" for i in range(plan.keys)]
    seen: dict[str, Value] = {}
    incarnation = 1
    count = 0
    names = [name for name, _ in MIX]
    weights = [weight for _, weight in MIX]
    while True:
        now = recorder.now()
        if next_at > now:
            await asyncio.sleep(next_at - now)
        if recorder.now() >= plan.time_s:
            return
        next_at = max(next_at + interval, recorder.now())
        count += 1
        value = f"[{index}.{count}]"
        f = rng.choices(names, weights)[0]
        key = rng.choice(logs if f == "append" or (f == "get" and count % 2) else keys)
        if f == "get":
            op = Op("get", key)
        elif f == "cas":
            op = Op("cas", key, (seen.get(key), value))
        else:
            op = Op(f, key, value)
        process = str(index) if incarnation == 1 else f"{index}#{incarnation}"
        record = await recorder.run(client, process, op, plan.op_timeout_s)
        if record.status is Status.INFO:
            incarnation += 1  # Jepsen: a process whose op is unknown is a new process
        elif record.status is Status.OK:
            if f == "get":
                seen[key] = record.output
            elif f == "put" or (f == "cas" and record.output is True):
                seen[key] = value


async def _primary(config: ClusterConfig) -> tuple[str | None, list[str]]:
    """The current primary (the lowest-ranked one if several claim it) and the live
    replicas."""
    statuses = await status_all(config)
    live = [r for r, s in statuses.items() if s.get("ok") and s.get("serving")]
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
    n = len(config.servers)
    restartable = get_protocol(config.protocol).restartable
    kills_left = slots if restartable else min(get_protocol(config.protocol).tolerated(n), n - 1)
    if plan.kills_max is not None:
        kills_left = min(kills_left, plan.kills_max)
    for i in range(slots):
        kind = kinds[i % len(kinds)]
        start = slot_s * (i + 1)
        await asyncio.sleep(max(0.0, start - recorder.now()))
        primary, live = await _primary(config)
        target = primary or (live[0] if live else None)
        if target is None:
            continue
        if kind == "kill":
            if kills_left == 0 or replica_pid(config, target) is None:
                continue
            kills_left -= 1
            nem.kill(config, target)
            window = FaultWindow("kill", target, recorder.now())
            windows.append(window)
            if restartable:
                await asyncio.sleep(slot_s / 2)
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


async def run_test(
    config: ClusterConfig, plan: JepsenPlan, out_dir: Path | None = None
) -> JepsenResult:
    """Run the test against the cluster of ``config`` (which must be up)."""
    recorder = _Recorder(time.monotonic())
    windows: list[FaultWindow] = []
    async with Client(config, op_timeout_s=plan.op_timeout_s) as client:
        workers = [
            asyncio.ensure_future(
                _worker(i, client, recorder, plan, random.Random(f"{plan.seed}/{i}"))
            )
            for i in range(plan.clients)
        ]
        nemesis_task = asyncio.ensure_future(_nemesis(config, plan, recorder, windows))
        try:
            await asyncio.gather(*workers)
        finally:
            nemesis_task.cancel()
            for task in workers:
                task.cancel()
            await asyncio.gather(nemesis_task, *workers, return_exceptions=True)
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
        final: dict[str, Value] = {}
        for key in [f"{prefix}{i}" for prefix in ("k", "log") for i in range(plan.keys)]:
            record = await recorder.run(client, FINAL_PROCESS, Op("get", key), plan.op_timeout_s)
            if record.status is Status.OK:
                final[key] = record.output
    ops = _renumber(sorted(recorder.ops, key=lambda op: op.call))
    history = History(ops=ops, model="kv", source="smrkit test")
    lost, duplicated = _lost_writes(history.ops, final)
    lin = await asyncio.to_thread(check_linearizability, history, plan.check_timeout_s)
    statuses = await status_all(config)
    replicas = {
        r: {k: s.get(k) for k in ("is_primary", "applied", "stats")} if s.get("ok") else None
        for r, s in statuses.items()
    }
    result = JepsenResult(plan, history, windows, lin, final, lost, duplicated, replicas)
    if out_dir is not None:
        private_dir(out_dir)
        result.history_path = out_dir / "history.jsonl"
        with open_private(result.history_path) as handle:
            write_jsonl(history, handle)
    return result


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
