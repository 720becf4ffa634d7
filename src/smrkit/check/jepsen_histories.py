"""Histories as Jepsen-family tools write them: etcd logs, kv logs, EDN histories.

* ``jepsen-etcd`` — the tab-separated ``jepsen.util`` log lines of Jepsen's etcd test
  (the logs Porcupine's and Knossos' test suites use), see :func:`parse_jepsen_etcd`;
* ``jepsen-kv`` — one EDN map per line with a ``:key``, as course harnesses and
  Porcupine's kv test logs print them; every key starts as the empty string; see
  :func:`parse_jepsen_kv`;
* ``jepsen-edn`` — Jepsen's own ``history.edn`` (and Maelstrom's, for ``lin-kv``):
  ``:invoke``/``:ok``/``:fail``/``:info`` events of ``:read``/``:write``/``:cas`` on a
  register, or on many registers as ``jepsen.independent`` tuples ``[k v]``; see
  :func:`parse_jepsen_edn`.

All of them are checked as the ``kv`` model: ``read``/``write`` become ``get``/``put``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from smrkit.apps import SPECS
from smrkit.check.edn import EdnError, Keyword, read_forms
from smrkit.check.events import SINGLE_KEY, HistoryFormatError, Pairing, check_arg
from smrkit.check.history import History, Status
from smrkit.core.ops import Value, freeze

_TYPES = frozenset({"invoke", "ok", "fail", "info"})
_REGISTER_NAMES = {"read": "get", "write": "put", "cas": "cas"}

# Whatever precedes the logger name (a level, perhaps a timestamp) is ignored.
ETCD_LINE = re.compile(r"^.*?\bjepsen\.util\s+-\s+(\S+)\s+:(\S+)\s+:(\S+)(?:\s+(.*?))?\s*$")
_ETCD_TYPES = frozenset({"invoke", "ok", "fail", "info"})
_ETCD_NAMES = {"read": "get", "write": "put", "cas": "cas"}
_TIMED_OUT = ":timed-out"


def parse_jepsen_etcd(text: str, source: str) -> History:
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
    pairing = Pairing(source, new_process_after_info=True)
    spec = SPECS["kv"]
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = ETCD_LINE.match(line)
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
            check_arg(spec, None, f, arg, source=source, line=number)
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
    meta: dict[str, object] = {"time_unit": "line"}
    return History(ops=pairing.finish(), model="kv", initial=None, source=source, meta=meta)


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
# EDN histories: {:process 9, :type :invoke, :f :append, :key "0", :value "x"}


@dataclass
class _EdnEvent:
    line: int
    process: str
    kind: str
    f: str
    key: object
    value: object
    time: object


def parse_jepsen_kv(text: str, source: str) -> History:
    """Read a key-value history of EDN maps, one event per line.

    Each line is ``{:process P, :type :invoke|:ok|:fail|:info, :f :get|:put|:append|:cas,
    :key K, :value V}``. Every key starts as the empty string; the value of a completed
    ``get`` is its output, ``put`` and ``append`` return nothing. The time of an event is
    its line number. Lines whose process is a keyword (the nemesis) are skipped.
    """
    events = list(_edn_events(text, source, keyed=True))
    return _pair_edn(events, source, initial="", independent=False)


def parse_jepsen_edn(text: str, source: str) -> History:
    """Read a Jepsen history of ``:read``/``:write``/``:cas`` on registers (EDN).

    The events are maps, one after another or in one vector, possibly written as
    records (``#jepsen.history.Op{…}``). ``:value`` is, on one register, ``nil`` for a
    read's invocation and the value read on its completion, the value of a write, and
    ``[old new]`` of a cas; with ``jepsen.independent`` keys (Maelstrom's ``lin-kv``) it
    is a tuple ``[k v]`` whose ``v`` is that. ``get``/``put``/``append`` with a
    ``:key`` are read as in :func:`parse_jepsen_kv`. A register starts with no value,
    and a read of ``nil`` saw no value (Knossos' cas-register model would accept any
    value for it). ``:fail`` ops did not take effect; ``:info`` ops may have. Event
    times are ``:time`` (nanoseconds) when every event has one, else their order.
    """
    events = list(_edn_events(text, source, keyed=False))
    if any(event.key is not None for event in events):
        return _pair_edn(events, source, initial=None, independent=False)
    return _pair_edn(events, source, initial=None, independent=_independent(events))


def _edn_events(text: str, source: str, *, keyed: bool) -> Iterator[_EdnEvent]:
    try:
        for line, form in read_forms(text, unwrap=True):
            if not isinstance(form, dict):
                raise HistoryFormatError(
                    source, line, "expected a map {:process …, :type …, :f …, :value …}"
                )
            process = form.get(Keyword("process"))
            if isinstance(process, Keyword):
                continue  # the nemesis, not a client
            if not isinstance(process, int | str) or isinstance(process, bool):
                raise HistoryFormatError(
                    source, line, "expected :process to be a number or a string"
                )
            kind = _keyword(form, "type", _TYPES, source, line)
            f = _keyword(form, "f", None, source, line)
            key = form.get(Keyword("key"))
            if key is not None and (not isinstance(key, str | int) or isinstance(key, bool)):
                raise HistoryFormatError(source, line, "expected :key to be a string or a number")
            if keyed and key is None:
                raise HistoryFormatError(source, line, "expected a :key")
            value = form.get(Keyword("value"))
            yield _EdnEvent(line, str(process), kind, f, key, value, form.get(Keyword("time")))
    except EdnError as error:
        raise HistoryFormatError(source, error.line, str(error)) from None


def _keyword(
    form: dict[object, object], field: str, allowed: frozenset[str] | None, source: str, line: int
) -> str:
    value = form.get(Keyword(field))
    if not isinstance(value, Keyword) or (allowed is not None and value.name not in allowed):
        expected = "a keyword" if allowed is None else ", ".join(f":{n}" for n in sorted(allowed))
        raise HistoryFormatError(source, line, f"expected :{field} to be {expected}, got {value!r}")
    return value.name


def _independent(events: list[_EdnEvent]) -> bool:
    """Whether the values are ``jepsen.independent`` tuples ``[k v]``: every invocation
    of a read or write has a pair, and every cas a pair whose second item is a pair."""
    invocations = [e for e in events if e.kind == "invoke" and e.f in _REGISTER_NAMES]
    if not invocations:
        return False

    def pair(value: object) -> bool:
        return isinstance(value, list) and len(value) == 2

    return all(
        pair(e.value) and (e.f != "cas" or pair(e.value[1]))  # type: ignore[index]
        for e in invocations
    )


def _pair_edn(
    events: list[_EdnEvent], source: str, *, initial: Value, independent: bool
) -> History:
    spec = SPECS["kv"]
    pairing = Pairing(source, new_process_after_info=True)
    times, unit = _event_times(events)
    for event, time in zip(events, times, strict=True):
        line = event.line
        f = _REGISTER_NAMES.get(event.f, event.f) if event.key is None else event.f
        if event.key is None and event.f not in _REGISTER_NAMES:
            raise HistoryFormatError(
                source, line, f"unknown op :{event.f} (expected :read, :write or :cas)"
            )
        value = event.value
        key = SINGLE_KEY if event.key is None else str(event.key)
        if independent:
            if not (isinstance(value, list) and len(value) == 2):
                raise HistoryFormatError(source, line, "expected :value to be a tuple [key value]")
            raw_key, value = value
            if not isinstance(raw_key, str | int) or isinstance(raw_key, bool):
                raise HistoryFormatError(source, line, f"bad key {raw_key!r} in [key value]")
            key = str(raw_key)
        try:
            if event.kind == "invoke":
                arg = None if f == "get" else _edn_to_value(value, source, line)
                check_arg(spec, initial, f, arg, source=source, line=line)
                pairing.invoke(line, event.process, f=f, key=key, arg=arg, time=time)
                continue
            call = pairing.pending_call(line, event.process, f)
            if call.key != key:
                raise HistoryFormatError(
                    source, line, f"completion on key {key} of an op invoked on key {call.key}"
                )
            if event.kind == "ok":
                output: Value = None
                if f == "get":
                    output = _edn_to_value(value, source, line)
                elif f == "cas":
                    output = True
                pairing.complete(line, event.process, Status.OK, output, time)
            elif event.kind == "fail":
                pairing.complete(line, event.process, Status.FAIL, None, time)
            else:
                pairing.complete(line, event.process, Status.INFO)
        except TypeError as error:
            raise HistoryFormatError(source, line, str(error)) from None
    meta: dict[str, object] = {"time_unit": unit}
    return History(ops=pairing.finish(), model="kv", initial=initial, source=source, meta=meta)


def _event_times(events: list[_EdnEvent]) -> tuple[list[float], str]:
    """``:time`` in seconds when every event has one and they never go back, else the
    event's line (all the real-time order the file records); and which it is."""
    stamps: list[float] = []
    for event in events:
        t = event.time
        if not isinstance(t, int | float) or isinstance(t, bool) or not math.isfinite(t):
            break
        if stamps and t < stamps[-1]:
            break
        stamps.append(float(t))
    else:
        return [t / 1e9 for t in stamps], "s"
    return [float(event.line) for event in events], "line"


def _edn_to_value(obj: object, source: str, line: int) -> Value:
    if isinstance(obj, Keyword):
        raise HistoryFormatError(source, line, f"expected a value, got the keyword :{obj.name}")
    if isinstance(obj, dict):
        raise HistoryFormatError(source, line, "expected a value, got a map")
    if isinstance(obj, list):
        return tuple(_edn_to_value(item, source, line) for item in obj)
    try:
        return freeze(obj)
    except TypeError:
        raise HistoryFormatError(source, line, f"expected a value, got {obj!r}") from None
