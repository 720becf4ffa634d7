"""The client history of a run, read off its trace.

Clients talk to every protocol through ``ClientRequest``/``ClientReply``, so the
simulator records ``invoke`` (a client's first send of a sequence number) and
``complete`` (the first reply to reach it) without knowing the protocol; this module
turns those events into a :class:`~smrkit.check.history.History`. An op with no reply by
the end of the run is ``info``: it may or may not have taken effect.
"""

from __future__ import annotations

import math

from smrkit.apps import SPECS
from smrkit.check.history import History, Operation, Status
from smrkit.core.ops import Op
from smrkit.sim import trace as tr
from smrkit.sim.trace import Trace


def history_from_trace(trace: Trace) -> History:
    config = trace.header.get("config", {})
    app = str(config.get("app", "kv"))
    calls: dict[tuple[str, int], tuple[float, Op]] = {}
    order: list[tuple[str, int]] = []
    done: dict[tuple[str, int], tuple[float, str, object]] = {}
    for t, kind, node, _, num, data in trace.events:
        if kind == tr.INVOKE:
            key = (node, num)
            calls[key] = (t, data)
            order.append(key)
        elif kind == tr.COMPLETE:
            status, result = data
            done[(node, num)] = (t, status, result)
    ops: list[Operation] = []
    for index, key in enumerate(order):
        call, op = calls[key]
        finished = done.get(key)
        if finished is None:
            status, ret, output = Status.INFO, math.inf, None
        else:
            ret, status_name, output = finished
            status = Status.OK if status_name == "ok" else Status.FAIL
        ops.append(
            Operation(
                id=index,
                process=key[0],
                f=op.f,
                key=op.key,
                arg=op.value,
                output=output,  # type: ignore[arg-type]
                status=status,
                call=call,
                ret=ret,
            )
        )
    return History(ops, model=app, initial=SPECS[app].initial, source="simulation")
