"""A smrkit kv history as files the Porcupine harness reads exactly.

Why: the harness (built outside this repository, from Porcupine's source) checks a JSON
Lines file with one of Porcupine's own two models, chosen for the whole file: its etcd
model (int registers: read, write, cas) when any line is a ``cas``, else its kv model
(strings: get, put, append). A ``smrkit test`` history has both kinds of key — registers
``k0…`` with get/put/cas on *string* values, and logs ``log0…`` with get/append — so
neither model fits the file: the harness stopped at the first string ``cas`` argument
(``expected an integer value, got [1.1]``) and the bench printed ``error``.

The history is right (it is smrkit's documented format, and smrkit's kv model reads it);
what the harness lacked is a model for that mix. Keys are independent (linearizability
is compositional), so the history splits, per key, into at most two files, each in the
one model that fits it exactly:

* ``registers`` — keys with no ``append``: every value (a string, a list, anything JSON)
  replaced by a small int, the same int for equal values, ``null`` kept as ``null``
  (the etcd model's "no value"). Equality is all get/put/cas compare, so the verdict is
  unchanged.
* ``logs`` — keys with an ``append``, strings as they are: Porcupine's kv model.

The history is linearizable exactly when every file is; the verdicts combine as
:func:`combined_verdict` says. Two things Porcupine's models cannot say are refused with
:class:`NotExpressibleError` rather than approximated: an ``append`` key that also sees a
``cas`` or a non-string value, and an empty string on an ``append`` key (Porcupine's kv
model starts every key at ``""``, smrkit's at ``null``, and only an empty string could
tell them apart). A ``cas`` whose output is unknown is refused too (the harness's file
format has no such op). An ``ok`` get whose output is unknown constrains nothing and is
left out, as Porcupine's own readers leave out an ``info`` get.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from smrkit.check.history import History, Operation, Status
from smrkit.check.parsers import write_jsonl
from smrkit.core.ops import Value, thaw

# Porcupine's verdict words, as smrkit's.
PORCUPINE_VERDICTS = {"Ok": "linearizable", "Illegal": "violation", "Unknown": "unknown"}


class NotExpressibleError(ValueError):
    """A history that Porcupine's two models cannot state exactly."""


def split_for_porcupine(history: History) -> dict[str, History]:
    """``{"registers": …, "logs": …}``, the parts present, each checkable by one of
    Porcupine's models and by smrkit's checker alike (see the module docstring)."""
    if history.model != "kv":
        raise NotExpressibleError(f"Porcupine's harness reads kv histories, not {history.model!r}")
    if history.initial is not None:
        raise NotExpressibleError(
            "Porcupine's models start every key unwritten; this has an initial"
        )
    log_keys = {op.key for op in history.ops if op.f == "append"}
    registers: list[Operation] = []
    logs: list[Operation] = []
    numbers: dict[str, int] = {}

    def number(value: Value) -> int | None:
        if value is None:
            return None
        return numbers.setdefault(json.dumps(thaw(value), sort_keys=True), len(numbers))

    for op in history.ops:
        if op.status is Status.FAIL:
            continue
        if op.key in log_keys:
            logs.extend(_log_op(op))
            continue
        if op.f == "cas" and op.status is Status.OK and not op.output_known:
            raise NotExpressibleError(f"a cas with an unknown output: {op.describe()}")
        arg: Value = op.arg
        if op.f == "put":
            arg = number(op.arg)
        elif op.f == "cas" and isinstance(op.arg, tuple):
            arg = (number(op.arg[0]), number(op.arg[1]))
        output = number(op.output) if op.f == "get" and op.output_known else op.output
        registers.append(replace(op, arg=arg, output=output))
    parts = {"registers": registers, "logs": logs}
    return {
        name: History(
            ops=[replace(op, id=i) for i, op in enumerate(ops)],
            model="kv",
            initial=None,
            source=f"{history.source} ({name})",
        )
        for name, ops in parts.items()
        if ops
    }


def _log_op(op: Operation) -> list[Operation]:
    """``op`` on an ``append`` key as Porcupine's kv model states it (none or itself)."""
    if op.f == "cas":
        raise NotExpressibleError(
            f"Porcupine's kv model has no cas (on an append key): {op.describe()}"
        )
    if op.f == "get" and op.status is Status.OK and not op.output_known:
        return []  # any output is acceptable: it constrains nothing
    for value in (op.arg, op.output if op.f == "get" else None):
        if value is not None and not isinstance(value, str):
            raise NotExpressibleError(f"Porcupine's kv model holds strings only: {op.describe()}")
        if value == "":
            raise NotExpressibleError(
                f"an empty string on an append key (Porcupine's kv model cannot tell it from "
                f"an unwritten key): {op.describe()}"
            )
    return [op]


def write_for_porcupine(history: History, folder: Path, stem: str) -> list[Path]:
    """The files of :func:`split_for_porcupine`, written in ``folder`` as
    ``<stem>.<part>.jsonl``; their paths, registers first."""
    paths = []
    for name, part in split_for_porcupine(history).items():
        path = folder / f"{stem}.{name}.jsonl"
        write_jsonl(part, path)
        paths.append(path)
    return paths


def combined_verdict(verdicts: list[str]) -> str:
    """The verdict of a history from its independent parts': a violation in any part is
    one in the whole; otherwise any undecided part leaves the whole undecided (``error``
    before ``unknown``); otherwise linearizable. No parts decide nothing: ``error``."""
    if not verdicts:
        return "error"
    for verdict in ("violation", "error", "unknown"):
        if verdict in verdicts:
            return verdict
    if all(verdict == "linearizable" for verdict in verdicts):
        return "linearizable"
    return "error"
