"""Linearizability checking: every key searched at once, several search orders raced.

A history is linearizable when every completed op can be given a single instant between
its call and its return such that applying the ops one at a time, in the order of those
instants, through the application's sequential spec produces exactly the outputs the
clients observed. Ops with an unknown outcome (``info``) may take effect at any instant
after their call, or never. ``fail`` ops did not take effect and are left out, and so are
ops that cannot change the state and whose output does not matter (a read that timed
out, or of unknown outcome): no order needs them.

How the check is organised (the search itself is in :mod:`smrkit.check.lin_search`):

* **P-compositionality.** When the spec is ``partitioned`` (a key-value store), ops on
  different keys are independent and each key is a search of its own.
* **No partition blocks another.** The searches run in slices of a fixed number of
  steps, round robin, and the check stops at the first partition proved not
  linearizable. A violation on a small key is found while a hard key is still being
  searched, and a hard key does not starve the others.
* **No single search order loses.** Each partition has one walker per order of
  :data:`~smrkit.check.lin_search.STRATEGIES`, taking turns and sharing the memo of dead
  ends, which is sound because a dead end is a fact about a position, not about the
  order that met it. The first walker to finish decides the partition. The others
  join once the first has taken a few steps per op, so an easy partition is not slowed
  down by the race (:mod:`smrkit.check.lin_race`).
* **One process.** Sharing the partitions out to forked processes was tried and
  measured: the hard histories spend nearly all their time on one key, so on two cores
  it saved nothing and the forks cost 40 ms; it was left out.
* **A timeout is an answer.** With ``timeout_s``, the verdict is ``unknown`` once the
  time is up; the partitions decided by then keep their verdicts.

Model states and outputs are compared with ``==`` (outputs also by type, so ``True``
never passes for ``1``); states that compare equal count as the same state.

When no linearization exists, the :class:`~smrkit.check.witness.Witness` is the deepest
point the search reached: the longest prefix of the history that does linearize, and
the ops none of which could take effect next. It is kept while searching, never
searched for again.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from smrkit.apps import SPECS, SequentialSpec
from smrkit.check.history import History, Operation, Status
from smrkit.check.lin_race import Verdict, race
from smrkit.check.lin_search import STRATEGIES, PartitionSearch
from smrkit.check.witness import Witness, operation_to_json, witness_at
from smrkit.core.ops import Value

__all__ = [
    "LinearizabilityResult",
    "PartitionResult",
    "Verdict",
    "Witness",
    "check_linearizability",
    "operation_to_json",
]


@dataclass
class PartitionResult:
    """What the check found about one partition (one key, or the whole history).

    ``verdict`` is ``unknown`` for a partition whose search had not finished when the
    check stopped (the time ran out, or another partition was found not linearizable).
    ``order`` is the linearization found (``linearizable``), or the longest prefix that
    linearizes found so far; each op with the model state after it. ``left_out`` are the
    ops no order needs (failed, and reads whose output does not matter).
    """

    key: str | None
    verdict: Verdict
    ops: list[Operation]
    order: list[tuple[Operation, Value]]
    left_out: list[Operation]
    witness: Witness | None = None
    steps: int = 0
    decided_by: str | None = None


@dataclass
class LinearizabilityResult:
    """The verdict on a history, with a witness when it is a violation."""

    verdict: Verdict
    ops: int
    seconds: float
    witness: Witness | None
    partitions: int
    initial: Value = None
    details: list[PartitionResult] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "ops": self.ops,
            "seconds": self.seconds,
            "witness": None if self.witness is None else self.witness.to_json(),
            "partitions": self.partitions,
        }


def check_linearizability(
    history: History,
    timeout_s: float | None = None,
    *,
    strategies: tuple[str, ...] = STRATEGIES,
) -> LinearizabilityResult:
    """Decide whether ``history`` is linearizable with respect to its model.

    The model is the spec named by ``history.model``, started from ``history.initial``
    in every partition. With ``timeout_s``, the search gives up after that many seconds
    of wall-clock time and the verdict is ``unknown``. ``strategies`` names the search
    orders to race (all of them by default). Raises :class:`ValueError` for an unknown
    model or strategy, or an op the model does not define.
    """
    started = time.perf_counter()
    deadline = math.inf if timeout_s is None else started + timeout_s
    spec = _spec(history.model)
    unknown = [name for name in strategies if name not in STRATEGIES]
    if unknown or not strategies:
        known = ", ".join(STRATEGIES)
        raise ValueError(f"unknown search strategy {unknown[0] if unknown else ''!r}; {known}")
    needed: dict[str | None, list[Operation]] = {}
    left_out: dict[str | None, list[Operation]] = {}
    kept = 0
    partitioned = spec.partitioned
    read_only = spec.read_only
    for op in history.ops:
        key = op.key if partitioned else None
        if op.status is Status.FAIL:
            left_out.setdefault(key, []).append(op)
            continue
        kept += 1
        _validate(spec, op)
        # An op that changes no state and whose output does not matter: no order needs it.
        if (op.status is Status.INFO or not op.output_known) and op.f in read_only:
            left_out.setdefault(key, []).append(op)
        else:
            needed.setdefault(key, []).append(op)
    keys = sorted(needed.keys() | left_out.keys(), key=lambda k: (len(needed.get(k, ())), k or ""))
    searches = [
        (PartitionSearch(spec, needed.get(key, []), history.initial, key), left_out.get(key, []))
        for key in keys
    ]
    partitions = sum(
        1
        for key in keys
        if key in needed or any(o.status is not Status.FAIL for o in left_out[key])
    )

    decided = race([search for search, _ in searches], strategies, deadline)
    details: list[PartitionResult] = []
    witness: Witness | None = None
    verdict: Verdict = "linearizable"
    for (search, dropped), (part_verdict, by) in zip(searches, decided, strict=True):
        result = _partition_result(search, dropped, part_verdict, by)
        details.append(result)
        if part_verdict == "violation":
            verdict = "violation"
            witness = result.witness
        elif part_verdict == "unknown" and verdict == "linearizable":
            verdict = "unknown"
    return LinearizabilityResult(
        verdict=verdict,
        ops=kept,
        seconds=time.perf_counter() - started,
        witness=witness,
        partitions=partitions,
        initial=history.initial,
        details=details,
    )


def _partition_result(
    search: PartitionSearch, left_out: list[Operation], verdict: Verdict, by: str | None
) -> PartitionResult:
    witness: Witness | None = None
    if verdict == "linearizable":
        order = search.linearization or []
    elif search.deepest is not None:
        order = search.prefix(search.deepest.top, search.deepest.state)
        if verdict == "violation":
            witness = witness_at(search, search.deepest)
    else:
        order = []
    return PartitionResult(
        key=search.key,
        verdict=verdict,
        ops=search.ops,
        order=order,
        left_out=left_out,
        witness=witness,
        steps=search.steps,
        decided_by=by,
    )


def _spec(model: str) -> SequentialSpec:
    try:
        return SPECS[model]
    except KeyError:
        known = ", ".join(sorted(SPECS))
        raise ValueError(f"unknown model {model!r}; known: {known}") from None


def _validate(spec: SequentialSpec, op: Operation) -> None:
    if op.f not in spec.functions:
        known = ", ".join(sorted(spec.functions))
        raise ValueError(f"op {op.id}: {spec.name} has no op {op.f!r} (it has {known})")
    if spec.partitioned and op.key is None:
        raise ValueError(f"op {op.id}: {spec.name} op {op.f!r} needs a key")
