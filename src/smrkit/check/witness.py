"""Why a history is not linearizable, in terms a reader can check by hand.

A :class:`Witness` is built from the deepest dead end of the search
(:class:`~smrkit.check.lin_search.DeadEnd`): the longest prefix that linearizes, each op
with the model state after it, and the completed ops that were pending there, none of
which can take effect next — each with the output the model would have given instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from smrkit.apps import SequentialSpec
from smrkit.check.history import Operation, Status
from smrkit.check.lin_search import DeadEnd, PartitionSearch
from smrkit.core.ops import Value, thaw

# How many ops of a witness prefix :meth:`Witness.render` shows (the JSON has them all).
_RENDER_PREFIX = 20

_NO_CONTINUATION = "it could take effect here, but no continuation from there works"


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


def witness_at(search: PartitionSearch, dead: DeadEnd) -> Witness:
    """Describe a dead end of ``search`` as a witness."""
    prefix = search.prefix(dead.top, dead.state)
    state = dead.state
    stuck: list[tuple[Operation, Value | None]] = []
    reasons: list[str] = []
    pending_info: list[Operation] = []
    for op in search.pending_at(dead):
        if op.status is Status.INFO:
            pending_info.append(op)
        else:
            out, why = why_not(search.spec, state, op)
            stuck.append((op, out))
            reasons.append(why)
    blocking = search.blocked_op(dead)
    if all(op is not blocking for op, _ in stuck):
        stuck.append((blocking, None))
        reasons.append(_NO_CONTINUATION)
    return Witness(
        partition=search.key,
        prefix=prefix,
        stuck=stuck,
        initial=search.initial,
        blocking=blocking,
        pending_info=pending_info,
        reasons=reasons,
    )


def why_not(spec: SequentialSpec, state: Value, op: Operation) -> tuple[Value | None, str]:
    """The model's output for ``op`` in ``state``, and why ``op`` cannot go next there."""
    try:
        _, out = spec.step(state, op.f, op.arg)
    except (ValueError, TypeError) as error:
        return None, f"the model cannot apply it here: {error}"
    if op.output_known and (out != op.output or type(out) is not type(op.output)):
        return out, f"the model would return {out!r}, not {op.output!r}"
    return out, _NO_CONTINUATION
