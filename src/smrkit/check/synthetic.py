"""Histories made to order, each with a verdict known by construction.

A checker is only as good as the histories it has been tried on, and the real ones with
known verdicts (Jepsen's etcd logs, the kv logs) are small and easy. These generators
make the hard kinds in any size, and a proof of the verdict comes with the construction:

* :func:`simulated_run` — a fault-free run of the ``pb-crash`` protocol in the simulator,
  with many clients on few keys. Linearizable, because the primary's order of applying
  the ops is a linearization: the function checks that every apply lies inside its op's
  interval and gives the output the client saw, and raises if not.
* :func:`register_run` — clients run read/write/cas ops on registers (kv keys) that are
  atomic: every op takes effect at one instant inside its interval, and its output is
  what the register held then. Linearizable, because those instants are a linearization.
* :func:`with_info` — a fraction of the ``ok`` completions become ``info`` (the client
  lost the reply). An ``info`` op may take effect, so the same linearization still
  explains the history: linearizable stays linearizable. The client then carries on
  as a new process (``c3#2``), as Jepsen does after an indeterminate op.
* :func:`merged` — several histories side by side on disjoint keys and processes: not
  linearizable when any part is not (P-compositionality), linearizable when all are.
* :func:`split_brain_run` — halfway through, the clients of one group are served by a
  stale copy of each register (two primaries), and every written value is unique. A
  read that returns a value after a later write of another value completed before it
  started is impossible in any linearization: :func:`stale_read` finds such a triple,
  and the generator keeps only runs that have one, so each is a violation by
  construction. :func:`with_info` spares the three ops of the proof.

Times are in seconds, rounded to microseconds so that they survive JSON Lines.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from smrkit.apps import KV_SPEC, SPECS
from smrkit.check.history import History, Operation, Status
from smrkit.check.trace_history import history_from_trace
from smrkit.core.ops import Value
from smrkit.sim import trace as tr
from smrkit.sim.world import SimConfig, run_simulation

# Shares of (read, write, cas): Jepsen's register tests (half reads, a quarter writes, a
# quarter cas), and without cas, for Porcupine's kv model (get and put).
REGISTER_MIX = (0.5, 0.25, 0.25)
KV_MIX = (0.5, 0.5, 0.0)

# Op latencies are uniform in [LATENCY_MIN_S, LATENCY_MAX_S]; a client waits up to
# THINK_MAX_S before its next op.
LATENCY_MIN_S = 0.2
LATENCY_MAX_S = 1.8
THINK_MAX_S = 0.2


# The op mix of simulated runs: the ops of Porcupine's kv model, so both checkers read them.
SIM_MIX = (("append", 0.25), ("get", 0.5), ("put", 0.25))


@dataclass(frozen=True)
class _Planned:
    """An op before its output is known: who, what, when, and when it takes effect."""

    client: int
    key: str
    f: str
    arg: Value
    call: float
    ret: float
    point: float


def simulated_run(seed: int, *, clients: int, ops: int, keys: int = 5) -> History:
    """``ops`` get/put/append ops by ``clients`` clients on ``keys`` keys, served by
    ``pb-crash`` in the simulator without faults: linearizable, which this checks.

    Written values are unique and network delays vary within [δ/10, δ], so the order in
    which requests reach the primary differs from the order of their calls: with many
    clients per key, a checker has to search.
    """
    config = SimConfig(
        protocol="pb-crash", clients=clients, ops=ops, keys=keys, seed=seed, mix=SIM_MIX
    )
    run = run_simulation(config)
    history = history_from_trace(run.trace)
    _check_applies_linearize(history, run.trace)
    return history


def _check_applies_linearize(history: History, trace: tr.Trace) -> None:
    """Raise unless the first primary's applies, in order, linearize ``history``."""
    primary = next(node for _, kind, node, *rest in trace.events if kind == tr.PRIMARY and rest[2])
    by_client: dict[str, list[Operation]] = {}
    for op in history.ops:
        by_client.setdefault(op.process, []).append(op)
    spec = SPECS[history.model]
    states: dict[str | None, Value] = {}
    applied = 0
    for t, kind, node, _, _, command in trace.events:
        if kind != tr.APPLY or node != primary:
            continue
        op = by_client[command.client][command.seq - 1]
        new, out = spec.step(states.get(op.key, history.initial), op.f, op.arg)
        states[op.key] = new
        applied += 1
        fits = op.status is not Status.OK or out == op.output or not op.output_known
        if not (op.call <= t <= op.ret and fits):
            raise AssertionError(f"the primary's applies do not linearize op {op.id}")
    if applied != sum(1 for op in history.ops if op.status is Status.OK):
        raise AssertionError("the primary did not apply every completed op exactly once")


def merged(histories: list[History]) -> History:
    """The histories side by side: part ``j``'s keys and processes get the prefix
    ``pj-``. Not linearizable exactly when some part is not (each key is checked on its
    own). All parts must be kv histories with the same initial state."""
    ops: list[Operation] = []
    for j, part in enumerate(histories):
        if part.model != "kv" or part.initial != histories[0].initial:
            raise ValueError("merged needs kv histories with one initial state")
        for op in part.ops:
            ops.append(replace(op, id=len(ops), key=f"p{j}-{op.key}", process=f"p{j}-{op.process}"))
    return History(ops=ops, model="kv", initial=histories[0].initial if histories else None)


def register_run(
    seed: int,
    *,
    clients: int,
    ops: int,
    keys: int = 1,
    values: int = 5,
    unique: bool = False,
    mix: tuple[float, float, float] = REGISTER_MIX,
) -> History:
    """``ops`` read/write/cas ops by ``clients`` closed-loop clients on ``keys`` atomic
    registers: linearizable by construction.

    Values are drawn from ``range(values)`` (Jepsen's etcd test uses 5), or, with
    ``unique``, every write writes a value never written before. A register starts
    empty (``None``); a cas that finds another value returns ``False`` and changes
    nothing. ``mix`` gives the shares of reads, writes and cas.
    """
    rng = random.Random(f"register/{seed}")
    planned = _plan(rng, clients=clients, ops=ops, keys=keys, values=values, unique=unique, mix=mix)
    return _execute(planned, stale_from=math.inf, stale_clients=frozenset())


def split_brain_run(
    seed: int,
    *,
    clients: int,
    ops: int,
    keys: int = 1,
    mix: tuple[float, float, float] = REGISTER_MIX,
    attempts: int = 100,
) -> History:
    """Like :func:`register_run` with unique values, but from the middle of the run the
    odd-numbered clients are served by a stale copy of every register that was frozen
    then and diverges on their own writes: two primaries. Not linearizable, by
    construction: the run is redrawn (``attempts`` times at most) until
    :func:`stale_read` proves it. Raises :class:`ValueError` if no attempt does.
    """
    if clients < 2:
        raise ValueError("a split brain needs at least 2 clients")
    for attempt in range(attempts):
        rng = random.Random(f"split/{seed}/{attempt}")
        planned = _plan(rng, clients=clients, ops=ops, keys=keys, values=0, unique=True, mix=mix)
        middle = sorted(p.point for p in planned)[len(planned) // 2] if planned else 0.0
        stale = frozenset(range(1, clients, 2))
        history = _execute(planned, stale_from=middle, stale_clients=stale)
        if stale_read(history) is not None:
            return history
    raise ValueError(f"no split-brain run of {ops} ops with a provable violation in {attempts}")


def with_info(history: History, fraction: float, seed: int) -> History:
    """Turn ``fraction`` of the ``ok`` ops into ``info`` (chosen at random by ``seed``).

    Linearizability is kept: an ``info`` op may take effect where it did. The ops of a
    :func:`stale_read` proof stay ``ok``, so a violation is kept too. A client whose op
    became ``info`` continues as a new process, ``c3#2``, as in Jepsen.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    rng = random.Random(f"info/{seed}")
    proof = stale_read(history)
    keep = set() if proof is None else {op.id for op in proof}
    candidates = [op.id for op in history.ops if op.status is Status.OK and op.id not in keep]
    chosen = set(rng.sample(candidates, round(fraction * len(candidates))))
    incarnation: dict[str, int] = {}
    ops: list[Operation] = []
    for op in sorted(history.ops, key=lambda o: (o.call, o.id)):
        base = op.process
        name = base if base not in incarnation else f"{base}#{incarnation[base]}"
        changed = replace(op, process=name)
        if op.id in chosen:
            changed = replace(changed, status=Status.INFO, output=None, ret=math.inf)
            incarnation[base] = incarnation.get(base, 1) + 1
        ops.append(changed)
    ops.sort(key=lambda o: o.id)
    return history.with_ops(ops)


def stale_read(history: History) -> tuple[Operation, Operation, Operation] | None:
    """A proof that a history with unique written values is not linearizable: ops
    ``(w, u, r)``, all ``ok``, on one key, where ``w`` wrote the value ``r`` read, ``u``
    wrote another value, ``w`` returned before ``u`` was called and ``u`` returned
    before ``r`` was called. After ``u`` the key never holds ``w``'s value again (no
    other op writes it), so ``r`` cannot be placed. ``None`` if there is no such triple.
    """
    writers: dict[tuple[str | None, object], Operation] = {}
    for op in history.ops:
        written = _written(op)
        if written is not _NOTHING:
            writers[(op.key, written)] = op
    # Per key, the ok writes by return time, to find a u between w and r quickly.
    done: dict[str | None, list[Operation]] = {}
    for op in history.ops:
        if op.status is Status.OK and _written(op) is not _NOTHING:
            done.setdefault(op.key, []).append(op)
    for key_ops in done.values():
        key_ops.sort(key=lambda o: o.ret)
    for read in history.ops:
        if read.f != "get" or read.status is not Status.OK or not read.output_known:
            continue
        w = writers.get((read.key, read.output))
        if w is None or w.status is not Status.OK:
            continue
        for u in done.get(read.key, []):
            if u.ret >= read.call:
                break
            if u is not w and u.call > w.ret:
                return w, u, read
    return None


_NOTHING = object()


def _written(op: Operation) -> object:
    """The value an ok op wrote (``_NOTHING`` if it wrote none)."""
    if op.status is not Status.OK:
        return _NOTHING
    if op.f == "put":
        return op.arg
    if op.f == "cas" and op.output is True and isinstance(op.arg, tuple):
        return op.arg[1]
    return _NOTHING


def _plan(
    rng: random.Random,
    *,
    clients: int,
    ops: int,
    keys: int,
    values: int,
    unique: bool,
    mix: tuple[float, float, float],
) -> list[_Planned]:
    if clients < 1 or ops < 0 or keys < 1:
        raise ValueError(f"need clients >= 1, ops >= 0, keys >= 1; got {clients}, {ops}, {keys}")
    if not unique and values < 1:
        raise ValueError(f"need values >= 1, got {values}")
    clock = [rng.uniform(0.0, THINK_MAX_S) for _ in range(clients)]
    planned: list[_Planned] = []
    written = 0
    for _ in range(ops):
        client = min(range(clients), key=lambda c: (clock[c], c))
        call = _micro(clock[client])
        ret = _micro(call + rng.uniform(LATENCY_MIN_S, LATENCY_MAX_S))
        point = rng.uniform(call, ret)
        clock[client] = ret + rng.uniform(0.0, THINK_MAX_S)
        key = f"k{rng.randrange(keys)}"
        draw = rng.random() * sum(mix)
        arg: Value
        if draw < mix[0]:
            f, arg = "get", None
        else:
            written += 1
            new = written if unique else rng.randrange(values)
            if draw < mix[0] + mix[1]:
                f, arg = "put", new
            else:
                old = rng.randrange(max(1, written - 3), written + 1) if unique else None
                f, arg = "cas", (old if unique else rng.randrange(values), new)
        planned.append(_Planned(client, key, f, arg, call, ret, point))
    return planned


def _execute(
    planned: list[_Planned], *, stale_from: float, stale_clients: frozenset[int]
) -> History:
    """Run the planned ops at their points; the stale clients use their own copy of
    each register from ``stale_from`` on."""
    true_state: dict[str, Value] = {}
    stale_state: dict[str, Value] | None = None
    outputs: dict[int, Value] = {}
    order = sorted(range(len(planned)), key=lambda i: (planned[i].point, i))
    for i in order:
        p = planned[i]
        if stale_state is None and p.point >= stale_from:
            stale_state = dict(true_state)
        states = stale_state if stale_state is not None and p.client in stale_clients else None
        target = true_state if states is None else states
        new, out = KV_SPEC.step(target.get(p.key), p.f, p.arg)
        target[p.key] = new
        outputs[i] = out
    by_call = sorted(range(len(planned)), key=lambda i: (planned[i].call, i))
    ops = [
        Operation(
            id=index,
            process=f"c{planned[i].client}",
            f=planned[i].f,
            key=planned[i].key,
            arg=planned[i].arg,
            output=outputs[i],
            status=Status.OK,
            call=planned[i].call,
            ret=planned[i].ret,
        )
        for index, i in enumerate(by_call)
    ]
    return History(ops=ops, model="kv", initial=None, source="synthetic")


def _micro(seconds: float) -> float:
    return round(seconds, 6)
