"""Traces: every event of a run, as structured records.

In memory an event is a :class:`~smrkit.sim.kernel.records.Record` ``(t, kind, node,
other, num, data)`` — a ``NamedTuple``, cheap to append in the simulator's hot loop (the
kinds are listed in :mod:`smrkit.sim.kernel.records`). On disk it is one JSON object per
line (JSON Lines), after a header line that holds the run's configuration, so a trace
file plus the smrkit version replays the run. ``trace_hash`` is the SHA-256 of the
canonical event lines: the same configuration and seed give the same hash, which is how
determinism is tested.

A ``drop`` is recorded where the loss happens: losses on a link and send omissions at
send time (right after the ``send``), receive omissions and deliveries to a crashed or
halted node at delivery time. A fault window has a ``fault`` begin and end event; a
crash, or a window that never closes, only a begin event. Read back from a file,
protocol messages become :class:`OpaqueMessage` (their type name is ``msg.type``);
client messages, ops and commands become their own classes again.

A signed value is written ``{"type": "Signed", "signer": …, "value": …, "sealed": …}``:
``sealed`` says whether its seal was minted for that signer and that value (false for a
Byzantine node's pasted or mutated signature). Read back, it is a :class:`SignedRecord`
— evidence of a signature, which writes itself back the same way but verifies nothing:
only a running world's keyring makes genuine signatures.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeAlias

from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.ops import Command, Op, freeze
from smrkit.core.signatures import Signed
from smrkit.sim.kernel.fingerprint import canonical
from smrkit.sim.kernel.records import (
    ACT,
    APPLY,
    COMMITTED,
    COMPLETE,
    CRASH,
    DECIDED,
    DELIVER,
    DELIVERED,
    DEST,
    DROP,
    ELECTED,
    END,
    FAULT,
    HALT,
    INVOKE,
    PRIMARY,
    PROPOSED,
    ROUND,
    SAVE,
    SEND,
    START,
    TIMER,
    Record,
)

Event: TypeAlias = Record
"""A trace event is a kernel record."""

__all__ = [
    "ACT",
    "APPLY",
    "COMMITTED",
    "COMPLETE",
    "CRASH",
    "DECIDED",
    "DELIVER",
    "DELIVERED",
    "DEST",
    "DROP",
    "ELECTED",
    "END",
    "FAULT",
    "HALT",
    "INVOKE",
    "PRIMARY",
    "PROPOSED",
    "ROUND",
    "SAVE",
    "SEND",
    "START",
    "TIMER",
    "Event",
    "OpaqueMessage",
    "Record",
    "SignedRecord",
    "Trace",
    "TraceFormatError",
    "encode",
    "encode_text",
    "event_from_json",
    "event_line",
    "event_to_json",
    "read_trace",
    "short_text",
]

TRACE_FORMAT = "smrkit-trace"
TRACE_VERSION = 1


class TraceFormatError(ValueError):
    """A trace file that cannot be read."""


@dataclass(frozen=True, slots=True)
class OpaqueMessage(Message):
    """A protocol message read back from a trace file: its type name and fields."""

    type: str
    fields: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class SignedRecord:
    """A signed value read back from a trace: who signed what, and whether the seal
    matched (``sealed``). Not a signature: nothing verifies it."""

    signer: str
    value: Any
    sealed: bool


def sealed(signed: Signed[Any]) -> bool:
    """Whether ``signed``'s seal was minted for its signer and its value."""
    seal = signed.seal
    signer, text = getattr(seal, "signer", None), getattr(seal, "text", None)
    if signer != signed.signer or not isinstance(text, str):
        return False
    try:
        return canonical(signed.value) == text
    except TypeError:
        return False


# --- encoding -------------------------------------------------------------------------

_ENCODERS: dict[type, Callable[[Any], Any]] = {}


def encode(value: Any) -> Any:
    """JSON-shaped form of a message, op, command, timer or value."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        encoder = _ENCODERS[kind] = _make_encoder(kind)
    return encoder(value)


def _make_encoder(kind: type) -> Callable[[Any], Any]:
    if issubclass(kind, float):
        return lambda v: v if math.isfinite(v) else repr(v)
    if issubclass(kind, int | str):
        return lambda v: v
    if issubclass(kind, tuple | list):
        return lambda v: [encode(item) for item in v]
    if kind is OpaqueMessage:
        return lambda v: {"type": v.type, **dict(v.fields)}
    if kind is Signed:
        return lambda v: _signed_json(v.signer, v.value, sealed(v))
    if kind is SignedRecord:
        return lambda v: _signed_json(v.signer, v.value, v.sealed)
    if dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclasses.fields(kind))
        type_name = kind.__name__

        def encode_dataclass(v: Any) -> dict[str, Any]:
            record: dict[str, Any] = {"type": type_name}
            for name in names:
                record[name] = encode(getattr(v, name))
            return record

        return encode_dataclass
    if issubclass(kind, dict):
        return lambda v: {str(k): encode(item) for k, item in v.items()}
    if issubclass(kind, frozenset | set):
        return lambda v: sorted(encode(item) for item in v)
    return repr


def _signed_json(signer: str, value: Any, is_sealed: bool) -> dict[str, Any]:
    return {"type": "Signed", "signer": signer, "value": encode(value), "sealed": is_sealed}


_TEXT_WRITERS: dict[type, Callable[[Any], str]] = {}


def short_text(value: Any, limit: int = 80) -> str:
    """A message or value for a person: ``Known([0,1])`` — its type and its fields'
    values as JSON (a plain value as JSON), cut to ``limit`` characters."""
    data = encode(value)
    if isinstance(data, dict) and "type" in data:
        fields = ", ".join(
            json.dumps(v, separators=(",", ":")) for k, v in data.items() if k != "type"
        )
        text = f"{data['type']}({fields})"
    else:
        text = json.dumps(data, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def encode_text(value: Any) -> str:
    """The canonical JSON text of ``encode(value)`` (compact, not ASCII-escaped), written
    directly: the trace hash encodes every message, so this is on a hot path."""
    kind = type(value)
    if kind is str:
        return _q(value)
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    writer = _TEXT_WRITERS.get(kind)
    if writer is None:
        writer = _TEXT_WRITERS[kind] = _make_text_writer(kind)
    return writer(value)


def _make_text_writer(kind: type) -> Callable[[Any], str]:
    if kind is float:
        return lambda v: repr(v) if math.isfinite(v) else _q(repr(v))
    if kind is tuple or kind is list:
        return lambda v: "[" + ",".join([encode_text(item) for item in v]) + "]"
    if dataclasses.is_dataclass(kind) and kind not in (OpaqueMessage, Signed, SignedRecord):
        head = '{"type":' + _q(kind.__name__)
        keys = tuple((f",{_q(f.name)}:", f.name) for f in dataclasses.fields(kind))

        def write_dataclass(v: Any) -> str:
            return head + "".join([key + encode_text(getattr(v, name)) for key, name in keys]) + "}"

        return write_dataclass
    return lambda v: _DUMPS(encode(v))


def _time(t: float) -> float:
    return round(t, 9)


def event_to_json(event: Event) -> dict[str, Any]:
    """The JSON object of one event (what its trace line decodes to)."""
    t, kind, node, other, num, data = event
    record: dict[str, Any] = {"t": _time(t), "kind": kind}
    if kind == SEND:
        record.update(id=num, src=node, dst=other, msg=encode(data))
    elif kind == DELIVER:
        record.update(id=num, src=other, dst=node)
    elif kind == DROP:
        record.update(id=num, src=other, dst=node, cause=data)
    elif kind == TIMER:
        record.update(node=node, timer=encode(data))
    elif kind in (CRASH, HALT):
        record.update(node=node, reason=data)
    elif kind == PRIMARY:
        record.update(node=node, primary=bool(data))
    elif kind == DEST:
        record.update(node=node, dest=other)
    elif kind == INVOKE:
        record.update(node=node, seq=num, op=encode(data))
    elif kind == COMPLETE:
        status, result = data
        record.update(node=node, seq=num, type=status, result=encode(result))
    elif kind == APPLY:
        record.update(node=node, index=num, cmd=encode(data))
    elif kind == SAVE:
        record.update(node=node, key=data)
    elif kind == FAULT:
        phase, spec = data
        record.update(phase=phase, spec=spec)
    elif kind == ROUND:
        record.update(round=num)
    elif kind == ACT:
        record.update(node=node, move=encode(data))
    elif kind in (PROPOSED, DECIDED):
        record.update(node=node, round=num, value=encode(data))
    elif kind == DELIVERED:
        record.update(node=node, sender=other, round=num, value=encode(data))
    elif kind == ELECTED:
        base_index, base_term, terms = data
        record.update(node=node, term=num, base_index=base_index, base_term=base_term)
        record.update(terms=list(terms))
    elif kind == COMMITTED:
        term, first, entries = data
        record.update(node=node, index=num, term=term, first=first)
        record.update(entries=[list(entry) for entry in entries])
    elif kind in (START, END):
        if node is not None:
            record["node"] = node
    else:
        raise ValueError(f"unknown event kind {kind!r}")
    return record


_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


_QUOTED: dict[str, str] = {}


def _q(text: str) -> str:
    quoted = _QUOTED.get(text)
    if quoted is None:
        quoted = _DUMPS(text)
        if len(_QUOTED) < 100_000:
            _QUOTED[text] = quoted
    return quoted


def _encoded(value: Any, cache: dict[int, str] | None) -> str:
    """``value`` as JSON text; ``cache`` (object id → text) is valid for one pass over a
    trace, whose events keep every object alive: a message sent to several nodes, or a
    command applied by every replica, is encoded once."""
    if cache is None:
        return encode_text(value)
    text = cache.get(id(value))
    if text is None:
        text = cache[id(value)] = encode_text(value)
    return text


def event_line(event: Event, cache: dict[int, str] | None = None) -> str:
    """The canonical JSON line of an event: ``json.loads(event_line(e)) ==
    event_to_json(e)``. The frequent kinds take a fast path that writes the line
    directly, in the same key order."""
    t, kind, node, other, num, data = event
    head = f'{{"t":{round(t, 9)!r},"kind":"{kind}",'
    if kind == DELIVER:
        return f'{head}"id":{num},"src":{_q(other)},"dst":{_q(node)}}}'
    if kind == SEND:
        msg = _encoded(data, cache)
        return f'{head}"id":{num},"src":{_q(node)},"dst":{_q(other)},"msg":{msg}}}'
    if kind == APPLY:
        return f'{head}"node":{_q(node)},"index":{num},"cmd":{_encoded(data, cache)}}}'
    if kind == INVOKE:
        return f'{head}"node":{_q(node)},"seq":{num},"op":{_encoded(data, cache)}}}'
    if kind == COMPLETE:
        status, result = data
        return (
            f'{head}"node":{_q(node)},"seq":{num},"type":{_q(status)},'
            f'"result":{_encoded(result, cache)}}}'
        )
    if kind == TIMER:
        return f'{head}"node":{_q(node)},"timer":{_encoded(data, cache)}}}'
    return _DUMPS(event_to_json(event))


# --- decoding -------------------------------------------------------------------------


def _decode_op(data: Any) -> Op:
    return Op(data["f"], data.get("key"), freeze(data.get("value")))


def _decode_message(data: Any) -> Message:
    kind = data.get("type")
    if kind == "ClientRequest":
        op = _decode_op(data["op"])
        return ClientRequest(data["client"], data["seq"], op, data.get("previous"))
    if kind == "ClientReply":
        return ClientReply(data["client"], data["seq"], freeze(data["result"]), data.get("error"))
    if kind == "PrimaryHint":
        return PrimaryHint(data["primary"], data["view"])
    fields = tuple((k, v) for k, v in data.items() if k != "type")
    return OpaqueMessage(str(kind), fields)


def _decode_value(data: Any) -> Any:
    """A value of a record (a decision, a move…): JSON lists become tuples, a signed
    value a :class:`SignedRecord`, another object an :class:`OpaqueMessage`."""
    if isinstance(data, list):
        return tuple(_decode_value(item) for item in data)
    if isinstance(data, dict):
        if data.get("type") == "Signed":
            value = _decode_value(data["value"])
            return SignedRecord(str(data["signer"]), value, bool(data["sealed"]))
        fields = tuple((k, v) for k, v in data.items() if k != "type")
        return OpaqueMessage(str(data.get("type")), fields)
    return freeze(data)


def _decode_command(data: Any) -> Command:
    return Command(data["client"], data["seq"], _decode_op(data["op"]))


def _timer(data: Any) -> Any:
    return freeze(data)


def event_from_json(record: dict[str, Any], sent: dict[int, Message]) -> Event:
    """Inverse of :func:`event_to_json`; ``sent`` maps message ids to decoded messages."""
    t = float(record["t"])
    kind = record["kind"]
    if kind == SEND:
        msg = _decode_message(record["msg"])
        sent[record["id"]] = msg
        return Record(t, kind, record["src"], record["dst"], record["id"], msg)
    if kind == DELIVER:
        return Record(t, kind, record["dst"], record["src"], record["id"], sent.get(record["id"]))
    if kind == DROP:
        return Record(t, kind, record["dst"], record["src"], record["id"], record["cause"])
    if kind == TIMER:
        return Record(t, kind, record["node"], None, None, _timer(record["timer"]))
    if kind in (CRASH, HALT):
        return Record(t, kind, record["node"], None, None, record["reason"])
    if kind == PRIMARY:
        return Record(t, kind, record["node"], None, None, bool(record["primary"]))
    if kind == DEST:
        return Record(t, kind, record["node"], record["dest"], None, None)
    if kind == INVOKE:
        return Record(t, kind, record["node"], None, record["seq"], _decode_op(record["op"]))
    if kind == COMPLETE:
        result = (record["type"], freeze(record["result"]))
        return Record(t, kind, record["node"], None, record["seq"], result)
    if kind == APPLY:
        command = _decode_command(record["cmd"])
        return Record(t, kind, record["node"], None, record["index"], command)
    if kind == SAVE:
        return Record(t, kind, record["node"], None, None, record["key"])
    if kind == FAULT:
        return Record(t, kind, None, None, None, (record["phase"], record["spec"]))
    if kind == ROUND:
        return Record(t, kind, None, None, record["round"], None)
    if kind == ACT:
        return Record(t, kind, record["node"], None, None, _decode_value(record["move"]))
    if kind in (PROPOSED, DECIDED):
        value = _decode_value(record["value"])
        return Record(t, kind, record["node"], None, record["round"], value)
    if kind == DELIVERED:
        value = _decode_value(record["value"])
        return Record(t, kind, record["node"], record["sender"], record["round"], value)
    if kind == ELECTED:
        log = (record["base_index"], record["base_term"], tuple(record["terms"]))
        return Record(t, kind, record["node"], None, record["term"], log)
    if kind == COMMITTED:
        entries = tuple(tuple(entry) for entry in record["entries"])
        data = (record["term"], record["first"], entries)
        return Record(t, kind, record["node"], None, record["index"], data)
    if kind in (START, END):
        return Record(t, kind, record.get("node"), None, None, None)
    raise TraceFormatError(f"unknown event kind {kind!r}")


# --- the trace ------------------------------------------------------------------------


@dataclass
class Trace:
    """A run's header (configuration, nodes, fault plan) and its events, in order."""

    header: dict[str, Any]
    events: list[Event] = field(default_factory=list)

    @property
    def servers(self) -> list[str]:
        return list(self.header.get("servers", []))

    @property
    def clients(self) -> list[str]:
        return list(self.header.get("clients", []))

    @property
    def byzantine(self) -> set[str]:
        """The nodes the run's fault plan made Byzantine (``byzantine:p3=…``)."""
        return {
            spec.removeprefix("byzantine:").partition("=")[0]
            for spec in self.header.get("faults", [])
            if spec.startswith("byzantine:")
        }

    @property
    def end_time(self) -> float:
        return self.events[-1][0] if self.events else 0.0

    def lines(self) -> Iterator[str]:
        """The canonical event lines (without the header)."""
        cache: dict[int, str] = {}
        for event in self.events:
            yield event_line(event, cache)

    def trace_hash(self) -> str:
        """SHA-256 over the canonical event lines — exactly the bytes of a trace file after
        its header line, so ``tail -n +2 run.jsonl | sha256sum`` gives the same hash."""
        digest = hashlib.sha256()
        for line in self.lines():
            digest.update(line.encode())
            digest.update(b"\n")
        return digest.hexdigest()

    def write(self, target: str | Path | IO[str]) -> None:
        """Write the trace as JSON Lines: the header, then one line per event; gzipped
        when the path ends in ``.gz`` (a trace of retries compresses ~50-fold)."""
        header = {"format": TRACE_FORMAT, "version": TRACE_VERSION, **self.header}
        if isinstance(target, str | Path):
            with _open_text(target, "w") as handle:
                self._write_to(handle, header)
        else:
            self._write_to(target, header)

    def _write_to(self, handle: IO[str], header: dict[str, Any]) -> None:
        handle.write(json.dumps(header, separators=(",", ":")) + "\n")
        for line in self.lines():
            handle.write(line + "\n")

    def select(self, kinds: Iterable[str]) -> Iterator[Event]:
        wanted = set(kinds)
        return (event for event in self.events if event[1] in wanted)


GZIP_MAGIC = b"\x1f\x8b"


def _open_text(path: str | Path, mode: str) -> IO[str]:
    """A text handle on ``path``: gzip when writing a ``.gz`` name, or reading a file
    that starts with gzip's magic bytes (whatever its name)."""
    if mode == "w":
        gzipped = str(path).endswith(".gz")
    else:
        with open(path, "rb") as probe:
            gzipped = probe.read(2) == GZIP_MAGIC
    if gzipped:
        # mtime=0: the same trace gives the same bytes.
        raw = gzip.GzipFile(path, mode + "b", compresslevel=6, mtime=0)
        return io.TextIOWrapper(raw, encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def read_trace(path: str | Path) -> Trace:
    """Load a trace written by :meth:`Trace.write`, plain or gzipped."""
    try:
        handle = _open_text(path, "r")
    except OSError as error:
        raise TraceFormatError(f"cannot read trace {path}: {error.strerror}") from None
    try:
        with handle:
            return _read(handle, str(path))
    except (OSError, EOFError) as error:  # a truncated or corrupt gzip stream
        raise TraceFormatError(f"cannot read trace {path}: {error}") from None
    except UnicodeDecodeError as error:
        raise TraceFormatError(
            f"{path}: not UTF-8 text at byte {error.start} (not an smrkit trace?)"
        ) from None


def _read(lines: Iterable[str], name: str) -> Trace:
    header: dict[str, Any] | None = None
    events: list[Event] = []
    sent: dict[int, Message] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            raise TraceFormatError(f"{name}:{number}: not JSON ({error.msg})") from None
        if header is None:
            if not isinstance(record, dict) or record.get("format") != TRACE_FORMAT:
                raise TraceFormatError(f"{name}:1: not an smrkit trace (no trace header)")
            header = record
            continue
        try:
            events.append(event_from_json(record, sent))
        except (KeyError, TypeError, ValueError) as error:
            raise TraceFormatError(f"{name}:{number}: bad event ({error})") from None
    if header is None:
        raise TraceFormatError(f"{name}: empty file, expected an smrkit trace")
    return Trace(header, events)
