"""Reading and writing histories: smrkit's JSON Lines and two kinds of Jepsen log.

Every format becomes one :class:`~smrkit.check.history.History`, so the checker never
knows where a history came from. All three record *events* (an invocation, later a
completion), not ops, so each reader pairs a completion with the pending invocation of
the same process, Jepsen style; an invocation still pending at the end of the file is
an op of unknown outcome (``info``).

Formats:

* ``jsonl`` — smrkit's own: an optional header line
  ``{"smrkit": "history", "version": 1, "model": "kv", "initial": null}`` then one JSON
  object per event (see :func:`parse_jsonl`); :func:`write_jsonl` writes it.
* ``jepsen-etcd`` — the tab-separated ``jepsen.util`` log lines of Jepsen's etcd test
  (see :func:`parse_jepsen_etcd`).
* ``jepsen-kv`` — one EDN map per line, as Jepsen and course harnesses print them
  (see :func:`parse_jepsen_kv`).

Malformed input raises :class:`HistoryFormatError`, whose message names the file, the
line and what was expected, so the CLI can print it as one line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from smrkit.apps import SPECS, SequentialSpec
from smrkit.check.history import History, Operation, Status
from smrkit.core.ops import Value, freeze, thaw
from smrkit.core.state_machine import InvalidOperationError

FORMATS = ("auto", "jsonl", "jepsen-etcd", "jepsen-kv")

# The key of a single-register history (Jepsen's etcd test, a keyless JSON Lines file)
# when it is checked as a key-value store, whose spec needs a key.
SINGLE_KEY = "register"

HEADER_TAG = "history"
HEADER_VERSION = 1


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
class _Call:
    """An invocation waiting for its completion."""

    id: int
    line: int
    process: str
    f: str
    key: str | None
    arg: Value
    time: float


class _Pairing:
    """Turns a stream of events into ops, pairing each completion with its invocation.

    With ``new_process_after_info``, a process whose op ended in ``info`` comes back as
    a new process with a fresh name (``3``, then ``3#2``, ``3#3``): Jepsen treats such a
    process as crashed and reuses its number for an independent one.
    """

    def __init__(self, source: str, *, new_process_after_info: bool) -> None:
        self.source = source
        self.renaming = new_process_after_info
        self.slots: list[_Call | Operation] = []
        self.pending: dict[str, _Call] = {}
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
        call = _Call(len(self.slots), line, name, f, key, arg, time)
        self.pending[process] = call
        self.slots.append(call)

    def pending_call(self, line: int, process: str, f: str) -> _Call:
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


def _read_lines(path: str | Path) -> tuple[str, list[str]]:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise HistoryFormatError(source, None, f"not UTF-8 text ({error.reason})") from None
    return source, text.splitlines()


def _check_arg(
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


# ---------------------------------------------------------------------------------------
# Jepsen's etcd test: "INFO  jepsen.util - 3\t:invoke\t:cas\t[3 0]"

# Whatever precedes the logger name (a level, perhaps a timestamp) is ignored.
_ETCD_LINE = re.compile(r"^.*?\bjepsen\.util\s+-\s+(\S+)\s+:(\S+)\s+:(\S+)(?:\s+(.*?))?\s*$")
_ETCD_TYPES = frozenset({"invoke", "ok", "fail", "info"})
_ETCD_NAMES = {"read": "get", "write": "put", "cas": "cas"}
_TIMED_OUT = ":timed-out"


def parse_jepsen_etcd(path: str | Path) -> History:
    """Read a Jepsen etcd log: one compare-and-set register, checked as one kv key.

    ``read``/``write``/``cas`` become ``get``/``put``/``cas`` on key
    :data:`SINGLE_KEY`; the register starts with no value (``None``). The time of an
    event is its line number, which is all the real-time order the log records. A read
    that failed (timed out) returned, so it is an ``ok`` read whose output is unknown; a
    cas that failed definitely found a different value, so it is an ``ok`` cas that
    returned ``False`` (the checker learns more from that than from dropping it); other
    failures did not take effect. Lines of the nemesis (``:nemesis`` instead of a process
    number) are not client ops and are skipped.
    """
    source, lines = _read_lines(path)
    pairing = _Pairing(source, new_process_after_info=True)
    spec = SPECS["kv"]
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        match = _ETCD_LINE.match(text)
        if match is None:
            raise HistoryFormatError(
                source, number, "expected 'INFO jepsen.util - <process> :<type> :<f> <value>'"
            )
        process, kind, name, raw = match.groups()
        if process.startswith(":"):
            continue
        if kind not in _ETCD_TYPES:
            raise HistoryFormatError(
                source, number, f"unknown type :{kind} (expected :invoke, :ok, :fail or :info)"
            )
        f = _ETCD_NAMES.get(name)
        if f is None:
            raise HistoryFormatError(
                source, number, f"unknown op :{name} (expected :read, :write or :cas)"
            )
        value = _etcd_value(raw or "nil", source, number)
        time = float(number)
        if kind == "invoke":
            arg = _etcd_arg(f, value, source, number)
            _check_arg(spec, None, f, arg, source=source, line=number)
            pairing.invoke(number, process, f=f, key=SINGLE_KEY, arg=arg, time=time)
            continue
        call = pairing.pending_call(number, process, f)
        if kind == "ok":
            output: Value = value if f == "get" else (True if f == "cas" else None)
            if f == "get" and value == _TIMED_OUT:
                raise HistoryFormatError(source, number, "an ok read needs a value")
            pairing.complete(number, process, Status.OK, output, time)
        elif kind == "fail":
            if f == "get":
                pairing.complete(number, process, Status.OK, None, time, output_known=False)
            elif f == "cas" and value == call.arg:
                pairing.complete(number, process, Status.OK, False, time)
            else:
                pairing.complete(number, process, Status.FAIL, None, time)
        else:
            pairing.complete(number, process, Status.INFO)
    return History(ops=pairing.finish(), model="kv", initial=None, source=source)


def _etcd_value(raw: str, source: str, line: int) -> Value:
    raw = raw.strip()
    if raw == "nil":
        return None
    if raw.startswith(":"):
        return raw
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if raw.startswith("[") and raw.endswith("]"):
        items = raw[1:-1].replace(",", " ").split()
        return tuple(_etcd_value(item, source, line) for item in items)
    raise HistoryFormatError(source, line, f"bad value {raw!r} (expected nil, an integer or [a b])")


def _etcd_arg(f: str, value: Value, source: str, line: int) -> Value:
    if f == "get":
        return None
    if f == "cas" and not (isinstance(value, tuple) and len(value) == 2):
        raise HistoryFormatError(source, line, f"cas needs [old new], got {value!r}")
    if isinstance(value, str):
        raise HistoryFormatError(source, line, f"{f} needs a value, got {value}")
    return value


# ---------------------------------------------------------------------------------------
# Jepsen-style EDN maps: {:process 9, :type :invoke, :f :append, :key "0", :value "x"}


@dataclass(frozen=True)
class Keyword:
    """An EDN keyword such as ``:ok`` (kept apart from strings)."""

    name: str


class _EdnError(ValueError):
    pass


_EDN_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_EDN_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?N?M?")
_EDN_DELIMITERS = frozenset(' \t\r\n,{}[]()"')


def read_edn(text: str) -> object:
    """Read one EDN value: maps, vectors, lists, strings, keywords, numbers, nil, bools.

    Enough of EDN for Jepsen history lines, and strict about the rest: anything it does
    not understand is an error, never a guess.
    """
    reader = _EdnReader(text)
    value = reader.value()
    reader.skip_space()
    if reader.pos != len(text):
        raise _EdnError(f"unexpected {text[reader.pos]!r} at column {reader.pos + 1}")
    return value


class _EdnReader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        text = self.text
        while self.pos < len(text) and (text[self.pos] in " \t\r\n,"):
            self.pos += 1

    def value(self) -> object:
        self.skip_space()
        if self.pos >= len(self.text):
            raise _EdnError("unexpected end of line")
        char = self.text[self.pos]
        if char == "{":
            items = self.sequence("}")
            if len(items) % 2:
                raise _EdnError("a map needs an even number of forms")
            result: dict[object, object] = {}
            for key, value in zip(items[::2], items[1::2], strict=True):
                if isinstance(key, list | dict):
                    raise _EdnError(f"unsupported map key {key!r}")
                result[key] = value
            return result
        if char == "[":
            return self.sequence("]")
        if char == "(":
            return self.sequence(")")
        if char == '"':
            return self.string()
        token = self.token()
        if token.startswith(":") and len(token) > 1:
            return Keyword(token[1:])
        if token == "nil":
            return None
        if token in ("true", "false"):
            return token == "true"
        if _EDN_NUMBER.fullmatch(token):
            digits = token.rstrip("NM")
            if any(c in digits for c in ".eE"):
                return float(digits)
            return int(digits)
        raise _EdnError(f"unexpected {token!r} at column {self.pos - len(token) + 1}")

    def sequence(self, close: str) -> list[object]:
        self.pos += 1
        items: list[object] = []
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                raise _EdnError(f"missing {close!r} at end of line")
            if self.text[self.pos] == close:
                self.pos += 1
                return items
            items.append(self.value())

    def string(self) -> str:
        text = self.text
        self.pos += 1
        parts: list[str] = []
        while self.pos < len(text):
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(parts)
            if char == "\\":
                code = text[self.pos + 1 : self.pos + 2]
                if code == "u" and re.fullmatch(
                    r"[0-9a-fA-F]{4}", text[self.pos + 2 : self.pos + 6]
                ):
                    parts.append(chr(int(text[self.pos + 2 : self.pos + 6], 16)))
                    self.pos += 6
                    continue
                if code not in _EDN_ESCAPES:
                    raise _EdnError(f"bad escape in string at column {self.pos + 1}")
                parts.append(_EDN_ESCAPES[code])
                self.pos += 2
                continue
            parts.append(char)
            self.pos += 1
        raise _EdnError("unterminated string")

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _EDN_DELIMITERS:
            self.pos += 1
        if self.pos == start:
            raise _EdnError(f"unexpected {self.text[start]!r} at column {start + 1}")
        return self.text[start : self.pos]


def _edn_to_value(obj: object) -> Value:
    if isinstance(obj, Keyword):
        raise _EdnError(f"expected a value, got the keyword :{obj.name}")
    if isinstance(obj, dict):
        raise _EdnError("expected a value, got a map")
    if isinstance(obj, list):
        return tuple(_edn_to_value(item) for item in obj)
    return freeze(obj)


_KV_TYPES = {"invoke", "ok", "fail", "info"}


def parse_jepsen_kv(path: str | Path) -> History:
    """Read a key-value history of EDN maps, one event per line.

    Each line is ``{:process P, :type :invoke|:ok|:fail|:info, :f :get|:put|:append|:cas,
    :key K, :value V}``. Every key starts as the empty string; the value of a completed
    ``get`` is its output, ``put`` and ``append`` return nothing. The time of an event is
    its line number. Lines whose process is a keyword (the nemesis) are skipped.
    """
    source, lines = _read_lines(path)
    pairing = _Pairing(source, new_process_after_info=True)
    spec = SPECS["kv"]
    initial = ""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            event = read_edn(text.strip())
            if not isinstance(event, dict):
                raise _EdnError("expected a map {:process …, :type …, :f …, :value …}")
            process = event.get(Keyword("process"))
            if isinstance(process, Keyword):
                continue
            if not isinstance(process, int | str) or isinstance(process, bool):
                raise _EdnError("expected :process to be a number or a string")
            kind = _keyword(event, "type", _KV_TYPES)
            f = _keyword(event, "f", set(spec.functions))
            raw_key = event.get(Keyword("key"))
            if not isinstance(raw_key, str | int) or isinstance(raw_key, bool):
                raise _EdnError("expected :key to be a string or a number")
            raw_value = event.get(Keyword("value"))
        except _EdnError as error:
            raise HistoryFormatError(source, number, str(error)) from None
        name = str(process)
        key = str(raw_key)
        time = float(number)
        try:
            if kind == "invoke":
                arg = _edn_to_value(raw_value)
                _check_arg(spec, initial, f, arg, source=source, line=number)
                pairing.invoke(number, name, f=f, key=key, arg=arg, time=time)
                continue
            pairing.pending_call(number, name, f)
            if kind == "ok":
                output: Value = None
                if f == "get":
                    output = _edn_to_value(raw_value)
                elif f == "cas":
                    output = True
                pairing.complete(number, name, Status.OK, output, time)
            elif kind == "fail":
                pairing.complete(number, name, Status.FAIL, None, time)
            else:
                pairing.complete(number, name, Status.INFO)
        except _EdnError as error:
            raise HistoryFormatError(source, number, str(error)) from None
    return History(ops=pairing.finish(), model="kv", initial=initial, source=source)


def _keyword(event: dict[object, object], field: str, allowed: set[str]) -> str:
    value = event.get(Keyword(field))
    if not isinstance(value, Keyword) or value.name not in allowed:
        expected = ", ".join(f":{name}" for name in sorted(allowed))
        raise _EdnError(f"expected :{field} to be one of {expected}, got {value!r}")
    return value.name


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


def parse_jsonl(path: str | Path, model: str | None = None) -> History:
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
    source, lines = _read_lines(path)
    header: dict[str, object] = {}
    header_line: int | None = None
    events: list[_Event] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
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
    pairing = _Pairing(source, new_process_after_info=False)
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
            _check_arg(spec, initial, f, value, source=source, line=event.line)
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
    spec: SequentialSpec, call: _Call, value: Value, source: str, line: int
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


def write_jsonl(history: History, path_or_file: str | Path | IO[str]) -> None:
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
    if isinstance(path_or_file, str | Path):
        Path(path_or_file).write_text(text, encoding="utf-8")
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


def sniff_format(path: str | Path) -> str:
    """Guess the format of a history file from its first non-empty line."""
    source, lines = _read_lines(path)
    first = next((line.strip() for line in lines if line.strip()), None)
    if first is None:
        raise HistoryFormatError(source, None, "the file is empty (expected a history)")
    if _ETCD_LINE.match(first):
        return "jepsen-etcd"
    if first.startswith("{"):
        try:
            json.loads(first)
        except json.JSONDecodeError:
            return "jepsen-kv"
        return "jsonl"
    raise HistoryFormatError(source, None, "cannot tell the format from the first line")


def load_history(path: str | Path, fmt: str = "auto", model: str | None = None) -> History:
    """Read a history file in format ``fmt`` (one of :data:`FORMATS`).

    ``model`` overrides the model of a JSON Lines file. Jepsen logs are always kv
    histories, so any other model for them is an error. Raises
    :class:`HistoryFormatError` for malformed input and :class:`OSError` for a file that
    cannot be read.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt == "auto":
        fmt = sniff_format(path)
    if fmt == "jsonl":
        return parse_jsonl(path, model=model)
    if model not in (None, "kv"):
        raise HistoryFormatError(
            str(path), None, f"{fmt} histories are kv histories; --model {model} does not apply"
        )
    if fmt == "jepsen-etcd":
        return parse_jepsen_etcd(path)
    return parse_jepsen_kv(path)
