"""From events to ops: pairing each completion with its invocation.

Every history format smrkit reads records *events* — an invocation, later a
completion — not ops, so every reader pairs a completion with the pending invocation of
the same process, Jepsen style, through one :class:`Pairing`; an invocation still
pending at the end is an op of unknown outcome (``info``). Malformed input raises
:class:`HistoryFormatError`, whose message names the source, the line and what was
expected, so that the command line can print it as one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from smrkit.apps import SequentialSpec
from smrkit.check.history import Operation, Status
from smrkit.core.ops import Value
from smrkit.core.state_machine import InvalidOperationError

# The key of a single-register history (Jepsen's etcd test, a keyless history) when it
# is checked as a key-value store, whose spec needs a key.
SINGLE_KEY = "register"


class HistoryFormatError(ValueError):
    """A history file that cannot be read as the format it claims to be."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


# ---------------------------------------------------------------------------------------
# Pairing invocations with completions


@dataclass
class Call:
    """An invocation waiting for its completion."""

    id: int
    line: int
    process: str
    f: str
    key: str | None
    arg: Value
    time: float


class Pairing:
    """Turns a stream of events into ops, pairing each completion with its invocation.

    With ``new_process_after_info``, a process whose op ended in ``info`` comes back as
    a new process with a fresh name (``3``, then ``3#2``, ``3#3``): Jepsen treats such a
    process as crashed and reuses its number for an independent one.
    """

    def __init__(self, source: str, *, new_process_after_info: bool) -> None:
        self.source = source
        self.renaming = new_process_after_info
        self.slots: list[Call | Operation] = []
        self.pending: dict[str, Call] = {}
        self.incarnation: dict[str, int] = {}

    def invoke(
        self, line: int, process: str, *, f: str, key: str | None, arg: Value, time: float
    ) -> None:
        if process in self.pending:
            earlier = self.pending[process]
            raise HistoryFormatError(
                self.source,
                line,
                f"process {process} invokes {f} while its {earlier.f} from line "
                f"{earlier.line} is still pending (expected a completion first)",
            )
        name = process
        if self.renaming and self.incarnation.get(process, 1) > 1:
            name = f"{process}#{self.incarnation[process]}"
        call = Call(len(self.slots), line, name, f, key, arg, time)
        self.pending[process] = call
        self.slots.append(call)

    def pending_call(self, line: int, process: str, f: str) -> Call:
        """The invocation a completion of ``f`` by ``process`` closes."""
        call = self.pending.get(process)
        if call is None:
            raise HistoryFormatError(
                self.source,
                line,
                f"completion of {f} by process {process}, which has no pending invocation",
            )
        if call.f != f:
            raise HistoryFormatError(
                self.source,
                line,
                f"completion of {f} by process {process}, whose pending invocation "
                f"(line {call.line}) is {call.f}",
            )
        return call

    def complete(
        self,
        line: int,
        process: str,
        status: Status,
        output: Value = None,
        time: float = math.inf,
        *,
        output_known: bool = True,
        arg: Value | None = None,
    ) -> None:
        call = self.pending.pop(process)
        if status is Status.INFO:
            time = math.inf
            if self.renaming:
                self.incarnation[process] = self.incarnation.get(process, 1) + 1
        try:
            op = Operation(
                id=call.id,
                process=call.process,
                f=call.f,
                key=call.key,
                arg=call.arg if arg is None else arg,
                output=output,
                status=status,
                call=call.time,
                ret=time,
                output_known=output_known,
            )
        except ValueError as error:
            raise HistoryFormatError(self.source, line, str(error)) from None
        self.slots[call.id] = op

    def finish(self) -> list[Operation]:
        """All ops; invocations never completed become ``info`` (outcome unknown)."""
        ops: list[Operation] = []
        for slot in self.slots:
            if isinstance(slot, Operation):
                ops.append(slot)
                continue
            ops.append(
                Operation(
                    id=slot.id,
                    process=slot.process,
                    f=slot.f,
                    key=slot.key,
                    arg=slot.arg,
                    output=None,
                    status=Status.INFO,
                    call=slot.time,
                    ret=math.inf,
                )
            )
        return ops


def check_arg(
    spec: SequentialSpec, initial: Value, f: str, arg: Value, *, source: str, line: int
) -> None:
    """Reject an op whose argument the spec cannot take (a cas without two values…)."""
    if f not in spec.functions:
        known = ", ".join(sorted(spec.functions))
        raise HistoryFormatError(
            source, line, f"{spec.name} has no op {f!r} (expected one of {known})"
        )
    try:
        spec.step(initial, f, arg)
    except InvalidOperationError as error:
        raise HistoryFormatError(source, line, str(error)) from None
