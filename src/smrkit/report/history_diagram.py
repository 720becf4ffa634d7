"""The data a history diagram draws, and the script and style that draw it.

The diagram shows one partition (one key) at a time: a lane per process, each op a bar
from its call to its return (an ``info`` op runs on to the end, fading), on a time axis
that zooms and pans. Ops of the linearization (or of the longest linearizable prefix)
are green and numbered in linearization order, and each has a dot at an instant where it
can take effect, joined in order by a line; the ops that cannot follow the prefix are
red, the one that returned first outlined. The drawing itself is done in the browser by
``history_diagram.js`` from the JSON that :func:`diagram_data` builds, so a page with
100,000 ops stays small and smooth: only the bars in view are drawn.

Every op and state is turned into text here; long states are cut to
:data:`STATE_CHARS` characters (the witness below the diagram has them in full).
"""

from __future__ import annotations

import math
from importlib import resources

from smrkit.check.history import Operation, Status
from smrkit.check.linearizability import LinearizabilityResult, PartitionResult
from smrkit.core.ops import Value

STATE_CHARS = 160


def short(value: Value, limit: int = STATE_CHARS) -> str:
    """``repr`` of a value, cut to ``limit`` characters with the full length noted."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 12]}… ({len(text)} chars)"


def op_label(op: Operation) -> str:
    """What an op did, briefly: ``put 'a'``, ``get → 'a'``, ``cas (1, 2) → True``."""
    text = op.f if op.arg is None else f"{op.f} {short(op.arg, 60)}"
    if op.status is Status.OK and op.output_known and op.output is not None:
        text += f" → {short(op.output, 60)}"
    elif op.status is Status.OK and not op.output_known:
        text += " → ?"
    return text


def linearization_points(order: list[tuple[Operation, Value]]) -> list[float]:
    """An instant for each op of a linearization (in order) inside its interval.

    Each op goes at its call or at the previous op's instant, whichever is later. That
    instant is never after its return: the search placed the op while its call came
    before every pending return, the previous op's included.
    """
    points: list[float] = []
    last = -math.inf
    for op, _ in order:
        last = max(last, op.call)
        points.append(min(last, op.ret))
    return points


def diagram_data(result: LinearizabilityResult, *, time_unit: str) -> dict[str, object]:
    """Everything the script needs, as plain JSON-able data."""
    parts = [_partition(part) for part in result.details]
    return {"timeUnit": time_unit, "verdict": result.verdict, "partitions": parts}


def _partition(part: PartitionResult) -> dict[str, object]:
    ops = sorted([*part.ops, *part.left_out], key=lambda op: (op.call, op.id))
    lanes = sorted({op.process for op in ops}, key=_lane_order)
    lane_of = {name: index for index, name in enumerate(lanes)}
    step_of = {op.id: k for k, (op, _) in enumerate(part.order)}
    witness = part.witness
    stuck = {} if witness is None else {op.id: k for k, (op, _) in enumerate(witness.stuck)}
    blocking = None if witness is None or witness.blocking is None else witness.blocking.id
    left_out = {op.id for op in part.left_out}
    records = []
    for op in ops:
        role = ""
        if op.id in step_of:
            role = "step"
        elif op.id in stuck:
            role = "blocking" if op.id == blocking else "stuck"
        status = "left" if op.id in left_out and op.status is not Status.FAIL else op.status.value
        records.append(
            [
                op.id,
                lane_of[op.process],
                op.call,
                None if op.ret == math.inf else op.ret,
                status,
                op_label(op),
                step_of.get(op.id, -1),
                role,
            ]
        )
    points = linearization_points(part.order)
    steps = [
        [op.id, point, short(state)] for (op, state), point in zip(part.order, points, strict=True)
    ]
    stuck_rows = []
    if witness is not None:
        for index, (op, model_output) in enumerate(witness.stuck):
            why = witness.reasons[index] if index < len(witness.reasons) else ""
            stuck_rows.append([op.id, short(model_output), why])
    times = [op.call for op in ops] + [op.ret for op in ops if op.ret != math.inf]
    return {
        "key": part.key,
        "verdict": part.verdict,
        "decidedBy": part.decided_by,
        "searchSteps": part.steps,
        "lanes": lanes,
        "ops": records,
        "steps": steps,
        "stuck": stuck_rows,
        "state": None if witness is None else short(witness.state),
        "tMin": min(times) if times else 0.0,
        "tMax": max(times) if times else 1.0,
    }


def _lane_order(name: str) -> tuple[str, int, str]:
    """Processes in natural order, a Jepsen incarnation (``3#2``) right after its first."""
    base, _, incarnation = name.partition("#")
    digits = base.lstrip("abcdefghijklmnopqrstuvwxyz-_")
    padded = digits.zfill(12) if digits.isdigit() else base
    prefix = base[: len(base) - len(digits)] if digits.isdigit() else ""
    return (f"{prefix}{padded}", int(incarnation or 1), name)


def script() -> str:
    """The diagram's script (``history_diagram.js``)."""
    return resources.files("smrkit.report").joinpath("history_diagram.js").read_text("utf-8")
