"""Reading and writing histories: smrkit's JSON Lines, and what other tools write.

Every format becomes one :class:`~smrkit.check.history.History`, so the checker never
knows where a history came from. Formats (``--format`` of ``smrkit check-history``):

* ``jsonl`` — smrkit's own: an optional header line
  ``{"smrkit": "history", "version": 1, "model": "kv", "initial": null}`` then one JSON
  object per event (see :func:`parse_jsonl`); :func:`write_jsonl` writes it.
* ``jepsen-etcd``, ``jepsen-kv``, ``jepsen-edn`` — Jepsen's etcd logs, EDN kv logs
  (Porcupine's test formats) and EDN histories (Jepsen's and Maelstrom's
  ``history.edn``): see :mod:`smrkit.check.jepsen_histories`.

:func:`read_history` reads text (a file's, or standard input's) and :func:`load_history`
a file; ``auto`` tells the format from the text. A file with nothing in it is an empty
history. Malformed input raises :class:`HistoryFormatError`, whose message names the
source, the line and what was expected, so the CLI can print it as one line.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from smrkit.apps import SPECS, SequentialSpec
from smrkit.check.events import SINGLE_KEY, Call, HistoryFormatError, Pairing, check_arg
from smrkit.check.history import History, Operation, Status
from smrkit.core.ops import Value, freeze, thaw
from smrkit.core.state_machine import InvalidOperationError

__all__ = [
    "FORMATS",
    "SINGLE_KEY",
    "HistoryFormatError",
    "infer_model",
    "load_history",
    "read_history",
    "sniff_format",
    "write_jsonl",
]

FORMATS = ("auto", "jsonl", "jepsen-etcd", "jepsen-kv", "jepsen-edn")

HEADER_TAG = "history"
HEADER_VERSION = 1


# ---------------------------------------------------------------------------------------
# smrkit's JSON Lines

# Aliases a JSON Lines file may use for kv ops (Jepsen's single-register vocabulary).
_KV_ALIASES = {"read": "get", "write": "put"}
_JSONL_TYPES = {"invoke", "ok", "fail", "info"}


@dataclass
class _Event:
    line: int
    process: str
    kind: str
    f: str
    key: str | None
    value: object
    time: float
    output_known: bool


def infer_model(names: Iterable[str]) -> str:
    """The model a headerless file's op names suggest.

    ``get``/``put``/``append``/``cas`` mean the key-value store and ``add`` the counter.
    Only ``read``/``write`` is Jepsen's read/write register, whose writes overwrite: it
    is checked as one kv key (``read`` as ``get``, ``write`` as ``put``), not as
    smrkit's write-once ``register``, which a header or ``--model register`` selects.
    """
    found = set(names)
    if found & {"get", "put", "append", "cas"}:
        return "kv"
    if "add" in found:
        return "counter"
    return "kv"


def parse_jsonl(text: str, source: str, model: str | None = None) -> History:
    """Read smrkit's JSON Lines history format.

    An optional first line is the header ``{"smrkit": "history", "version": 1, "model":
    …, "initial": …}``. Every other line is one event: ``{"process": "c1", "type":
    "invoke", "f": "cas", "key": "x", "value": [1, 2], "time": 0.13}``, then later the
    same process's completion with ``type`` ``ok``, ``fail`` or ``info``. Of a completion,
    ``value`` is the output: what a read returned; for a ``cas`` either ``true``/``false``
    or the echoed ``[old, new]`` pair (Jepsen's way to say it succeeded); the new value
    for a register's ``write`` and the new total for a counter's ``add`` (a missing or
    ``null`` value there means unknown); ignored for ``put`` and ``append``, which return
    nothing. ``"output_known": false`` marks an output as unknown. A missing ``time`` is
    the line number. ``model`` overrides the header; without either, the model is
    inferred from the op names (see :func:`infer_model`).

    Process names are kept as written: the checker needs processes only to pair events,
    and a process whose op ended in ``info`` has nothing pending any more.
    """
    lines = text.splitlines()
    header: dict[str, object] = {}
    header_line: int | None = None
    events: list[_Event] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise HistoryFormatError(
                source, number, f"expected a JSON object ({error.msg} at column {error.colno})"
            ) from None
        if not isinstance(obj, dict):
            raise HistoryFormatError(source, number, "expected a JSON object")
        if "smrkit" in obj:
            if events or header:
                raise HistoryFormatError(source, number, "the header must be the first line")
            header = _header(obj, source, number)
            header_line = number
            continue
        events.append(_event(obj, source, number))

    chosen = model or _header_str(header, "model") or infer_model(e.f for e in events)
    if chosen not in SPECS:
        known = ", ".join(sorted(SPECS))
        raise HistoryFormatError(source, None, f"unknown model {chosen!r} (expected {known})")
    spec = SPECS[chosen]
    initial = freeze(header["initial"]) if "initial" in header else spec.initial
    for read in sorted(spec.read_only):
        try:
            spec.step(initial, read, None)
        except InvalidOperationError as error:
            raise HistoryFormatError(
                source, header_line, f"initial state {initial!r} does not suit {spec.name}: {error}"
            ) from None
    pairing = Pairing(source, new_process_after_info=False)
    for event in events:
        f = _KV_ALIASES.get(event.f, event.f) if spec.name == "kv" else event.f
        key = event.key
        if spec.partitioned and key is None:
            key = SINGLE_KEY
        try:
            value = freeze(event.value)
        except TypeError:
            raise HistoryFormatError(
                source, event.line, "expected value to be null, a bool, number, string or list"
            ) from None
        if event.kind == "invoke":
            check_arg(spec, initial, f, value, source=source, line=event.line)
            pairing.invoke(event.line, event.process, f=f, key=key, arg=value, time=event.time)
            continue
        call = pairing.pending_call(event.line, event.process, f)
        if event.kind == "ok":
            recorded, output = False, None
            if event.output_known:
                recorded, output = _output(spec, call, value, source, event.line)
            pairing.complete(
                event.line, event.process, Status.OK, output, event.time, output_known=recorded
            )
        elif event.kind == "fail":
            pairing.complete(event.line, event.process, Status.FAIL, None, event.time)
        else:
            pairing.complete(event.line, event.process, Status.INFO)
    meta = header.get("meta")
    return History(
        ops=pairing.finish(),
        model=spec.name,
        initial=initial,
        source=source,
        meta=dict(meta) if isinstance(meta, dict) else {},
    )


def _header(obj: dict[str, object], source: str, line: int) -> dict[str, object]:
    if obj.get("smrkit") != HEADER_TAG:
        raise HistoryFormatError(source, line, f'expected "smrkit": "{HEADER_TAG}" in the header')
    if obj.get("version") != HEADER_VERSION:
        raise HistoryFormatError(
            source,
            line,
            f"unsupported version {obj.get('version')!r} (this smrkit reads {HEADER_VERSION})",
        )
    model = obj.get("model")
    if model is not None and not isinstance(model, str):
        raise HistoryFormatError(source, line, "expected the header's model to be a string")
    try:
        freeze(obj.get("initial"))
    except TypeError:
        raise HistoryFormatError(source, line, "expected a plain value as initial") from None
    return obj


def _header_str(header: dict[str, object], name: str) -> str | None:
    value = header.get(name)
    return value if isinstance(value, str) else None


def _event(obj: dict[str, object], source: str, line: int) -> _Event:
    process = obj.get("process")
    if not isinstance(process, str | int) or isinstance(process, bool):
        raise HistoryFormatError(source, line, 'expected "process" to be a string or integer')
    kind = obj.get("type")
    if kind not in _JSONL_TYPES:
        raise HistoryFormatError(
            source, line, f'expected "type" to be invoke, ok, fail or info, got {kind!r}'
        )
    f = obj.get("f")
    if not isinstance(f, str) or not f:
        raise HistoryFormatError(source, line, 'expected "f" to name the op')
    key = obj.get("key")
    if isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    if key is not None and not isinstance(key, str):
        raise HistoryFormatError(source, line, 'expected "key" to be a string or null')
    time = obj.get("time", line)
    if time is None:
        time = line
    if not isinstance(time, int | float) or isinstance(time, bool) or not math.isfinite(time):
        raise HistoryFormatError(source, line, 'expected "time" to be a finite number')
    output_known = obj.get("output_known", True)
    if not isinstance(output_known, bool):
        raise HistoryFormatError(source, line, 'expected "output_known" to be true or false')
    return _Event(
        line, str(process), str(kind), f, key, obj.get("value"), float(time), output_known
    )


def _output(
    spec: SequentialSpec, call: Call, value: Value, source: str, line: int
) -> tuple[bool, Value]:
    """Whether an ``ok`` completion records its output, and the output normalised to
    what the spec returns."""
    f = call.f
    if spec.name == "kv":
        if f in ("put", "append"):
            return True, None
        if f == "cas":
            if isinstance(value, bool):
                return True, value
            if value == call.arg:
                return True, True
            raise HistoryFormatError(
                source, line, "expected a cas to return true, false or its [old, new] pair"
            )
        return True, value
    if f in ("write", "add") and value is None:
        return False, None
    return True, value


def write_jsonl(history: History, path_or_file: str | os.PathLike[str] | IO[str]) -> None:
    """Write ``history`` in smrkit's JSON Lines format (what :func:`parse_jsonl` reads).

    Events are written in time order, each invocation with its op's call time and each
    completion with its return time. An ``info`` op's completion has no time and follows
    its invocation directly: the op stays open to the end, and the process is free to
    call its next op (processes only pair events; the checker does not use them).
    """
    header: dict[str, object] = {
        "smrkit": HEADER_TAG,
        "version": HEADER_VERSION,
        "model": history.model,
        "initial": thaw(history.initial),
    }
    if history.meta:
        header["meta"] = history.meta
    # Sort keys (time, rank, op id, order): at one instant, completions (rank 0) come
    # before invocations (rank 1), so a process may call again the instant its previous
    # op returns; an op that returns when it is called, and an info op, which stays
    # open whatever its completion line says, complete right after their invocation.
    events: list[tuple[float, int, int, int, dict[str, object]]] = []
    for op in history.ops:
        arg = thaw(op.arg)
        events.append((op.call, 1, op.id, 0, _jsonl_event(op, "invoke", arg, op.call)))
        if op.status is Status.INFO:
            events.append((op.call, 1, op.id, 1, _jsonl_event(op, "info", arg, None)))
            continue
        output = thaw(op.output) if op.status is Status.OK else arg
        done = _jsonl_event(op, op.status.value, output, op.ret)
        if not op.output_known and op.status is Status.OK:
            done["output_known"] = False
        if op.ret > op.call:
            events.append((op.ret, 0, op.id, 0, done))
        else:
            events.append((op.call, 1, op.id, 1, done))
    events.sort(key=lambda event: event[:4])
    lines = [json.dumps(header, default=repr)]
    lines.extend(json.dumps(event) for *_, event in events)
    text = "\n".join(lines) + "\n"
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "w", encoding="utf-8") as file:
            file.write(text)
    else:
        path_or_file.write(text)


def _jsonl_event(op: Operation, kind: str, value: object, time: float | None) -> dict[str, object]:
    event: dict[str, object] = {
        "process": op.process,
        "type": kind,
        "f": op.f,
        "key": op.key,
        "value": value,
    }
    if time is not None:
        event["time"] = time
    return event


# ---------------------------------------------------------------------------------------
# Choosing a parser


def sniff_format(text: str, source: str = "<text>") -> str:
    """Tell the format of a history from its first event."""
    # Only for a file that is not JSON Lines: the Jepsen formats' modules.
    from smrkit.check.edn import EdnError, Keyword, read_forms
    from smrkit.check.jepsen_histories import ETCD_LINE

    first = next((line.strip() for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise HistoryFormatError(source, None, "the text is empty (expected a history)")
    if first.startswith("{"):
        try:
            json.loads(first)
        except json.JSONDecodeError:
            pass
        else:
            return "jsonl"
    if ETCD_LINE.match(first):
        return "jepsen-etcd"
    if first.startswith(("{", "[", "#")):
        try:
            _, event = next(read_forms(text, unwrap=True))
        except (EdnError, StopIteration):
            event = None
        if isinstance(event, dict):
            return "jepsen-kv" if Keyword("key") in event else "jepsen-edn"
    raise HistoryFormatError(
        source,
        None,
        "cannot tell the format from the first event (expected JSON Lines, a Jepsen etcd "
        "log or EDN maps)",
    )


def read_history(text: str, source: str, fmt: str = "auto", model: str | None = None) -> History:
    """Read a history from ``text`` in format ``fmt`` (one of :data:`FORMATS`).

    ``model`` overrides the model of a JSON Lines history. Jepsen histories are always
    kv histories, so any other model for them is an error. Text with nothing in it is
    an empty history. Raises :class:`HistoryFormatError` for malformed input.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt in ("jepsen-etcd", "jepsen-kv", "jepsen-edn") and model not in (None, "kv"):
        raise HistoryFormatError(
            source, None, f"{fmt} histories are kv histories; --model {model} does not apply"
        )
    if not text.strip():
        chosen = model or "kv"
        initial = "" if fmt == "jepsen-kv" else SPECS[chosen].initial
        return History(ops=[], model=chosen, initial=initial, source=source)
    if fmt == "auto":
        fmt = sniff_format(text, source)
        if fmt != "jsonl" and model not in (None, "kv"):
            raise HistoryFormatError(
                source, None, f"{fmt} histories are kv histories; --model {model} does not apply"
            )
    if fmt == "jsonl":
        return parse_jsonl(text, source, model=model)
    from smrkit.check.jepsen_histories import parse_jepsen_edn, parse_jepsen_etcd, parse_jepsen_kv

    if fmt == "jepsen-etcd":
        return parse_jepsen_etcd(text, source)
    if fmt == "jepsen-kv":
        return parse_jepsen_kv(text, source)
    return parse_jepsen_edn(text, source)


def load_history(
    path: str | os.PathLike[str], fmt: str = "auto", model: str | None = None
) -> History:
    """Read the history file at ``path``; see :func:`read_history`. Raises
    :class:`OSError` for a file that cannot be read."""
    source = str(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except UnicodeDecodeError as error:
        raise HistoryFormatError(source, None, f"not UTF-8 text ({error.reason})") from None
    return read_history(text, source, fmt, model)
