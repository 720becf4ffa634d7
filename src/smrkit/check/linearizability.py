"""Linearizability checking by exhaustive search with memoization.

A history is linearizable when every completed op can be given a single instant between
its call and its return such that applying the ops one at a time, in the order of those
instants, through the application's sequential spec produces exactly the outputs the
clients observed. Ops with an unknown outcome (``info``) may take effect at any instant
after their call, or never.

The search is Wing and Gong's, with Lowe's memoization, as popularised by Porcupine:

* the calls and returns of all ops are laid out in time order in a doubly linked list;
* walking the list from its head, the search tries to *linearize* a pending call next
  (apply its op to the model state and compare outputs); on success the op's call and
  return are unlinked and the walk restarts from the head;
* reaching a return means that op had to take effect by then and no order placed it, so
  the search backtracks: it relinks the last linearized op (the links make undo O(1))
  and tries the next candidate after it;
* every (set of linearized ops, model state) pair is recorded; reaching one again cannot
  lead anywhere new, which is what keeps the search tractable.

A few observations cut the work further, all sound:

* P-compositionality: when the spec is ``partitioned`` (a key-value store), ops on
  different keys are independent and each key is checked on its own;
* an op that cannot change the state and whose output does not matter (a read with an
  unknown value, a pending op that would leave the state as it is) never needs to be
  linearized, so it is never tried;
* ops of unknown outcome are optional, and having used *more* of them only removes
  choices: a position is hopeless when a dead end was met with the same completed ops
  linearized, the same state and a subset of the optional ops used. The search tries
  the ops that must take effect before the optional ones, so such dead ends come early;
* identical optional ops (same function and argument) are interchangeable, so they
  are only used in the order of their calls.

Model states and outputs are compared with ``==`` (outputs also by type, so ``True``
never passes for ``1``); states that compare equal count as the same state.

When no linearization exists, the :class:`Witness` is the deepest point the search
reached: the longest prefix of the history that does linearize, and the ops none of
which could take effect next.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal, cast

from smrkit.apps import SPECS, SequentialSpec
from smrkit.apps.spec import StepFn
from smrkit.check.history import History, Operation, Status
from smrkit.core.ops import Value, thaw

Verdict = Literal["linearizable", "violation", "unknown"]

# How many search steps run between two looks at the clock: often enough that a timeout
# is honoured within milliseconds, rarely enough that the clock costs nothing.
_CLOCK_EVERY = 1024

# How many ops of a witness prefix :meth:`Witness.render` shows (the JSON has them all).
_RENDER_PREFIX = 20


def operation_to_json(op: Operation) -> dict[str, object]:
    """The JSON form of an op, as it appears in witnesses and ``--json`` output."""
    return {
        "id": op.id,
        "process": op.process,
        "f": op.f,
        "key": op.key,
        "value": thaw(op.arg),
        "output": thaw(op.output),
        "type": op.status.value,
        "call": op.call,
        "ret": None if op.ret == math.inf else op.ret,
        "output_known": op.output_known,
    }


@dataclass
class Witness:
    """Why a history is not linearizable: how far the search got, and where it stuck.

    ``prefix`` holds the longest linearizable prefix the search found, in linearization
    order, each op with the model state after it. ``stuck`` holds the completed ops that
    were pending right after that prefix, each with the output the model would have
    given instead (``None`` when the op cannot be applied to that state at all); none of
    them matches what the client saw. ``blocking`` is the one among them whose return
    came first: it had to take effect before then, so no later op can help.
    ``reasons`` says, for each op of ``stuck``, why it cannot go next.
    ``pending_info`` lists the ops of unknown outcome that were also pending; the search
    tried every choice of which of them took effect.
    """

    partition: str | None
    prefix: list[tuple[Operation, Value]]
    stuck: list[tuple[Operation, Value | None]]
    initial: Value = None
    blocking: Operation | None = None
    pending_info: list[Operation] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def state(self) -> Value:
        """The model state after the prefix."""
        return self.prefix[-1][1] if self.prefix else self.initial

    def to_json(self) -> dict[str, object]:
        return {
            "partition": self.partition,
            "initial": thaw(self.initial),
            "prefix": [
                {"op": operation_to_json(op), "state": thaw(state)} for op, state in self.prefix
            ],
            "state": thaw(self.state),
            "stuck": [
                {
                    "op": operation_to_json(op),
                    "model_output": thaw(out),
                    "why": self.reasons[index] if index < len(self.reasons) else "",
                }
                for index, (op, out) in enumerate(self.stuck)
            ],
            "blocking": None if self.blocking is None else operation_to_json(self.blocking),
            "pending_info": [operation_to_json(op) for op in self.pending_info],
        }

    def render(self, max_prefix: int = _RENDER_PREFIX) -> str:
        """A human-readable account, several lines, no trailing newline."""
        where = "" if self.partition is None else f" on key {self.partition!r}"
        lines = [
            f"Not linearizable{where}: no order of the ops explains every output.",
            f"Longest linearizable prefix found: {len(self.prefix)} op(s) from initial "
            f"state {self.initial!r} (each op, then the state after it):",
        ]
        shown = self.prefix[-max_prefix:] if max_prefix > 0 else []
        if len(shown) < len(self.prefix):
            lines.append(f"  … {len(self.prefix) - len(shown)} earlier op(s), see --json")
        lines.extend(f"  #{op.id:<4} {op.describe()}  => {state!r}" for op, state in shown)
        if not self.prefix:
            lines.append("  (none)")
        lines.append(f"Stuck in state {self.state!r}: none of these ops can take effect next:")
        for index, (op, _) in enumerate(self.stuck):
            why = self.reasons[index] if index < len(self.reasons) else ""
            mark = "  <- returned first" if op is self.blocking else ""
            lines.append(f"  #{op.id:<4} {op.describe()}: {why}{mark}")
        if self.blocking is not None:
            lines.append(
                f"Op #{self.blocking.id} returned at {self.blocking.ret:.6g}, so it cannot "
                "wait for any op called later. Every order of the ops was tried; this "
                "prefix is the furthest any of them got."
            )
        if self.pending_info:
            ids = ", ".join(f"#{op.id}" for op in self.pending_info)
            lines.append(
                f"Also pending, with unknown outcome: {ids}; letting them take effect "
                "here gets no further."
            )
        return "\n".join(lines)


@dataclass
class LinearizabilityResult:
    """The verdict on a history, with a witness when it is a violation."""

    verdict: Verdict
    ops: int
    seconds: float
    witness: Witness | None
    partitions: int

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "ops": self.ops,
            "seconds": self.seconds,
            "witness": None if self.witness is None else self.witness.to_json(),
            "partitions": self.partitions,
        }


# Markers in the table of op outcomes: not computed yet; cannot take effect there.
_MISSING = object()
_NO_GO = object()


def _apply(
    step: StepFn,
    state: Value,
    *,
    f: str,
    arg: Value,
    known: bool,
    expected: Value,
    expected_type: type,
) -> object:
    """The state after an op, or ``_NO_GO`` if its output would differ from the one seen.

    Outputs must be equal and of the same type, so that ``True`` never passes for ``1``.
    """
    try:
        new_state, out = step(state, f, arg)
    except (ValueError, TypeError):
        return _NO_GO
    if known and (out != expected or type(out) is not expected_type):
        return _NO_GO
    return new_state


class _OutOfTimeError(Exception):
    """The wall-clock budget ran out inside one partition."""


def check_linearizability(
    history: History, timeout_s: float | None = None
) -> LinearizabilityResult:
    """Decide whether ``history`` is linearizable with respect to its model.

    ``fail`` ops are left out first (they did not take effect). The model is the spec
    named by ``history.model``, started from ``history.initial`` in every partition.
    With ``timeout_s``, the search gives up after that many seconds of wall-clock time
    and the verdict is ``unknown``. Raises :class:`ValueError` for an unknown model or
    an op the model does not define.
    """
    started = time.perf_counter()
    deadline = math.inf if timeout_s is None else started + timeout_s
    spec = _spec(history.model)
    ops = [op for op in history.ops if op.status is not Status.FAIL]
    for op in ops:
        _validate(spec, op)
    partitions = _partition(spec, ops)
    # Small partitions first: a violation in a cheap one ends the check early.
    order = sorted(partitions.items(), key=lambda item: (len(item[1]), item[0] or ""))
    verdict: Verdict = "linearizable"
    witness: Witness | None = None
    for key, part_ops in order:
        try:
            witness = _check_partition(spec, part_ops, history.initial, key, deadline)
        except _OutOfTimeError:
            verdict = "unknown"
            break
        if witness is not None:
            verdict = "violation"
            break
    return LinearizabilityResult(
        verdict=verdict,
        ops=len(ops),
        seconds=time.perf_counter() - started,
        witness=witness,
        partitions=len(partitions),
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


def _partition(spec: SequentialSpec, ops: list[Operation]) -> dict[str | None, list[Operation]]:
    parts: dict[str | None, list[Operation]] = {}
    for op in ops:
        parts.setdefault(op.key if spec.partitioned else None, []).append(op)
    return parts


def _needless(spec: SequentialSpec, op: Operation) -> bool:
    """Whether ``op`` can be left out: it changes no state and any output is fine."""
    unconstrained = op.status is Status.INFO or not op.output_known
    return unconstrained and op.f in spec.read_only


def _check_partition(
    spec: SequentialSpec,
    all_ops: list[Operation],
    initial: Value,
    partition: str | None,
    deadline: float,
) -> Witness | None:
    """Search one partition; ``None`` if it linearizes, else the witness.

    The witness is the deepest dead end of the search. Describing a dead end costs time
    proportional to its depth, so the first search only notes *which* dead end was the
    deepest; on a violation, a second, identical search (it is deterministic) stops at
    that dead end and describes it. A linearizable history pays nothing for witnesses.
    """
    ops = [op for op in all_ops if not _needless(spec, op)]
    deepest = _search(spec, ops, initial, partition, deadline, witness_at=None)
    if deepest is None:
        return None
    assert isinstance(deepest, int)
    witness = _search(spec, ops, initial, partition, math.inf, witness_at=deepest)
    assert isinstance(witness, Witness), "the second search must reach the same dead end"
    return witness


def _search(
    spec: SequentialSpec,
    ops: list[Operation],
    initial: Value,
    partition: str | None,
    deadline: float,
    *,
    witness_at: int | None,
) -> Witness | int | None:
    """The search proper. ``None``: linearizable. Otherwise, with ``witness_at`` unset,
    the number of the deepest dead end; with it set, the witness at that dead end."""
    n = len(ops)
    step = spec.step
    fs = [op.f for op in ops]
    args = [op.arg for op in ops]
    outs = [op.output for op in ops]
    out_types = [type(op.output) for op in ops]
    # Only a completed op's output is checked; an info op never returned anything.
    known = [op.output_known and op.status is Status.OK for op in ops]
    bits = [1 << i for i in range(n)]
    twin = _twins(ops, bits)
    nxt, prv, ent_op, match = _entry_list(ops)

    must = sum(1 for op in ops if op.ret != math.inf)
    remaining = must
    state = initial
    # The linearized ops as two bitsets: those that had to be (``done``) and those of
    # unknown outcome that were chosen to take effect (``maybe``).
    done = 0
    maybe = 0
    stack: list[tuple[int, Value, int, int]] = []
    # Dead ends, as {(done, state): [maybe, ...]}. Having linearized *more* optional ops
    # only removes choices, so a position is hopeless when a dead end with the same
    # done set and state had a subset of its maybe set. Each list is kept an antichain.
    failed: dict[tuple[int, Value], list[int]] = {}
    # Per op, the outcome of applying it in each state met: the new state, or _NO_GO.
    outcomes: list[dict[Value, object]] = [{} for _ in range(n)]
    best = -1
    best_maybe = 0
    best_at = 0
    dead_ends = 0
    budget = _CLOCK_EVERY
    clock = time.perf_counter
    missing = _MISSING
    no_go = _NO_GO

    # Each position is searched in two passes over the candidates: ops that must take
    # effect first, then optional ones. Dead ends with fewer optional ops come first,
    # and they rule out more later positions.
    optional_pass = False
    entry = nxt[0]
    while remaining:
        ret_entry = match[entry]
        if ret_entry >= 0:
            if (ret_entry == 0) != optional_pass:
                entry = nxt[entry]
                continue
            i = ent_op[entry]
            seen = outcomes[i]
            result = seen.get(state, missing)
            if result is missing:
                result = _apply(
                    step,
                    state,
                    f=fs[i],
                    arg=args[i],
                    known=known[i],
                    expected=outs[i],
                    expected_type=out_types[i],
                )
                seen[state] = result
            if result is no_go:
                entry = nxt[entry]
                continue
            new_state = cast(Value, result)
            if ret_entry:
                after_done = done | bits[i]
                after_maybe = maybe
            elif new_state == state or (twin[i] and not maybe & twin[i]):
                # An optional op that would change nothing never needs to take effect,
                # nor one whose identical twin, called earlier, has not.
                entry = nxt[entry]
                continue
            else:
                after_done = done
                after_maybe = maybe | bits[i]
            dead = failed.get((after_done, new_state))
            if dead is not None:
                hopeless = False
                for earlier in dead:
                    if earlier | after_maybe == after_maybe:
                        hopeless = True
                        break
                if hopeless:
                    entry = nxt[entry]
                    continue
            stack.append((entry, state, done, maybe))
            state = new_state
            done = after_done
            maybe = after_maybe
            # Unlink the call and its return.
            p = prv[entry]
            q = nxt[entry]
            nxt[p] = q
            prv[q] = p
            if ret_entry:
                remaining -= 1
                p = prv[ret_entry]
                q = nxt[ret_entry]
                nxt[p] = q
                prv[q] = p
            entry = nxt[0]
            optional_pass = False
            budget -= 1
            if not budget:
                budget = _CLOCK_EVERY
                if clock() > deadline:
                    raise _OutOfTimeError
        elif not optional_pass:
            optional_pass = True
            entry = nxt[0]
        else:
            # A return: that op had to be linearized by now. Backtrack.
            # The witness is the furthest point, reached with the fewest optional ops.
            depth = must - remaining
            if depth > best or (depth == best and maybe.bit_count() < best_maybe):
                best = depth
                best_maybe = maybe.bit_count()
                best_at = dead_ends
            if dead_ends == witness_at:
                return _witness(
                    spec,
                    ops,
                    partition=partition,
                    initial=initial,
                    state=state,
                    stack=stack,
                    blocked_at=entry,
                    links=(nxt, match, ent_op),
                )
            dead_ends += 1
            if not stack:
                return best_at
            dead = failed.get((done, state))
            if dead is None:
                failed[(done, state)] = [maybe]
            else:
                dead[:] = [earlier for earlier in dead if earlier | maybe != earlier]
                dead.append(maybe)
            entry, state, done, maybe = stack.pop()
            ret_entry = match[entry]
            if ret_entry:
                remaining += 1
                nxt[prv[ret_entry]] = ret_entry
                prv[nxt[ret_entry]] = ret_entry
            nxt[prv[entry]] = entry
            prv[nxt[entry]] = entry
            optional_pass = not ret_entry
            entry = nxt[entry]
    return None


def _twins(ops: list[Operation], bits: list[int]) -> list[int]:
    """For each optional op, the bit of the identical optional op called just before it.

    Identical optional ops are interchangeable, so the search only ever uses them in
    the order of their calls; 0 means there is no such twin.
    """
    twin = [0] * len(ops)
    last_of_kind: dict[tuple[str, str], int] = {}
    for i in sorted(range(len(ops)), key=lambda i: (ops[i].call, i)):
        if ops[i].status is Status.INFO:
            kind = (ops[i].f, repr(ops[i].arg))
            if kind in last_of_kind:
                twin[i] = bits[last_of_kind[kind]]
            last_of_kind[kind] = i
    return twin


def _entry_list(ops: list[Operation]) -> tuple[list[int], list[int], list[int], list[int]]:
    """The doubly linked list of calls and returns, as arrays ``(nxt, prv, op, match)``.

    Entry 0 is the head, 1..k the calls and returns in time order, k+1 the tail. At
    equal times calls come first, so ops that merely touch count as concurrent.
    ``op[e]`` is the index of the op of entry ``e``; ``match[e]`` is, for a call, the
    index of its return entry (0 when the op never returns) and -1 for a return.
    """
    events: list[tuple[float, int, int]] = []
    for i, op in enumerate(ops):
        events.append((op.call, 0, i))
        if op.ret != math.inf:
            events.append((op.ret, 1, i))
    events.sort()
    size = len(events)
    tail = size + 1
    nxt = [*range(1, size + 2), tail]
    prv = [0, *range(0, size + 1)]
    ent_op = [-1] * (size + 2)
    match = [-1] * (size + 2)
    call_entry = [0] * len(ops)
    for index, (_, kind, i) in enumerate(events, start=1):
        ent_op[index] = i
        if kind == 0:
            call_entry[i] = index
            match[index] = 0
        else:
            match[call_entry[i]] = index
    return nxt, prv, ent_op, match


def _witness(
    spec: SequentialSpec,
    ops: list[Operation],
    *,
    partition: str | None,
    initial: Value,
    state: Value,
    stack: list[tuple[int, Value, int, int]],
    blocked_at: int,
    links: tuple[list[int], list[int], list[int]],
) -> Witness:
    """Describe the search's current position (a dead end) as a witness."""
    nxt, match, ent_op = links
    prefix: list[tuple[Operation, Value]] = []
    for depth, (entry, *_) in enumerate(stack):
        after = stack[depth + 1][1] if depth + 1 < len(stack) else state
        prefix.append((ops[ent_op[entry]], after))
    stuck: list[tuple[Operation, Value | None]] = []
    reasons: list[str] = []
    pending_info: list[Operation] = []
    entry = nxt[0]
    while entry != blocked_at:
        if match[entry] >= 0:
            op = ops[ent_op[entry]]
            if op.status is Status.INFO:
                pending_info.append(op)
            else:
                out, why = _why_not(spec, state, op)
                stuck.append((op, out))
                reasons.append(why)
        entry = nxt[entry]
    blocking = ops[ent_op[blocked_at]]
    if all(op is not blocking for op, _ in stuck):
        stuck.append((blocking, None))
        reasons.append("it could take effect here, but no continuation from there works")
    return Witness(
        partition=partition,
        prefix=prefix,
        stuck=stuck,
        initial=initial,
        blocking=blocking,
        pending_info=pending_info,
        reasons=reasons,
    )


def _why_not(spec: SequentialSpec, state: Value, op: Operation) -> tuple[Value | None, str]:
    """The model's output for ``op`` in ``state``, and why ``op`` cannot go next there."""
    try:
        _, out = spec.step(state, op.f, op.arg)
    except (ValueError, TypeError) as error:
        return None, f"the model cannot apply it here: {error}"
    if op.output_known and (out != op.output or type(out) is not type(op.output)):
        return out, f"the model would return {out!r}, not {op.output!r}"
    return out, "it could take effect here, but no continuation from there works"
