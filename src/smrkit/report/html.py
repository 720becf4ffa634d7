"""A judged run as one self-contained HTML page.

The page is meant to be attached to a bug report or read in a browser with no network:
one file, inline CSS and inline SVG, nothing to fetch, and it prints. One small inline
script (``diagram_zoom.js``) zooms and pans the diagrams; the page reads without it.
It shows, top to bottom:

* the run's configuration — protocol, n, f, failure model, δ, τ, δ_min, clients, seed,
  the fault plan and whether it lies inside the protocol's failure model, the trace hash
  (with the smrkit version, enough to replay the run), the event and op counts;
* the checks (Pb1–Pb5, linearizability, log agreement, failover, blocking) with their
  verdicts, and the linearizability witness when there is one;
* the measured figures against the protocol's own target and Table 1's lower bound;
* the latency of every client command over the run, against the faults, with the
  slowest ones labelled (:mod:`smrkit.report.latency_plot`);
* a space-time (Lamport) diagram: one lane per process, servers first, time flowing to
  the right; each message an arrow from its send to its delivery, coloured by type, with
  its fields on hover; dropped messages stop short at a red ✕ labelled with the cause;
  crashes and halts end their lane; in a run that has a primary, each server's primary
  intervals are a thick band on its lane and the intervals with no primary are shaded
  across the diagram (a run without one — Paxos, a consensus protocol — is not told it
  "never lacked a primary"); fault windows are bars above the lanes, and client
  invocations and completions are ticks. The legend lists the kinds of message the run
  sent, no others.

A diagram of a whole long run would be unreadable and huge, so the diagram shows windows
around what is worth looking at — each fault, crash, halt and interval with no primary,
from a little before to a little after (overlapping windows merged), each window its own
SVG with its own time axis, fitted to the page's column so that the fault, the failover
and what follows are all in view — and draws at most ``events_max`` events in all, narrowing
the windows around their faults when there are more (the page says so, and how many
messages were left out). A run with none of those shows its first part. That keeps the
page to a few hundred kilobytes whatever the length of the run.

Everything that comes from the run — node names, fault specs, message fields — is
escaped.
"""

from __future__ import annotations

import html
import json
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from smrkit.report.document import document
from smrkit.report.latency_plot import latency_section
from smrkit.sim import trace as tr
from smrkit.sim.trace import OpaqueMessage, Trace, encode

# Message categories: (css suffix, legend label, colour).
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("request", "ClientRequest", "#1f77b4"),
    ("reply", "ClientReply", "#2ca02c"),
    ("hint", "PrimaryHint", "#9467bd"),
    ("heartbeat", "heartbeats", "#8a8a8a"),
    ("update", "updates", "#ff7f0e"),
    ("other", "other", "#17a2b8"),
)

# The event kinds the diagram draws; ``events_max`` counts these.
_DRAWN = frozenset(
    {tr.SEND, tr.DELIVER, tr.DROP, tr.CRASH, tr.HALT, tr.PRIMARY, tr.FAULT, tr.INVOKE, tr.COMPLETE}
)

# Diagram geometry, in pixels.
_LEFT = 52
_RIGHT = 24
_LANE = 26
_FAULT_ROW = 15
_AXIS = 34
_PX_PER_EVENT = 3.0
_WIDTH_MIN = 720.0
_WIDTH_MAX = 6000.0
_FIELDS_MAX = 240  # characters of a message's fields shown on hover
_WINDOWS_MAX = 24  # diagrams on one page

_EPS = 1e-12


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _f(x: float) -> str:
    """A coordinate, compactly."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _t(t: float) -> str:
    return f"{t:.6f}"


# --- one pass over the trace ------------------------------------------------------------


@dataclass(slots=True)
class _Msg:
    mid: int
    t: float
    src: str
    dst: str
    msg: Any
    end: float | None = None  # delivery or drop time; None while in flight at the end
    cause: str | None = None  # why it was dropped; None if delivered (or in flight)


@dataclass
class _Fault:
    spec: str
    begin: float
    end: float | None = None  # None: a crash, or a window open until the end of the run

    @property
    def is_crash(self) -> bool:
        return self.spec.startswith("crash:")


@dataclass
class _Scan:
    """What the diagram needs from the trace, gathered in one pass."""

    end_time: float
    messages: list[_Msg] = field(default_factory=list)  # in send order
    send_times: list[float] = field(default_factory=list)
    max_latency: float = 0.0
    primary: list[tuple[str, float, float]] = field(default_factory=list)
    down: dict[str, tuple[float, str, str]] = field(default_factory=dict)  # node: t, kind, why
    faults: list[_Fault] = field(default_factory=list)
    ticks: list[tuple[float, str, str, Any, Any]] = field(default_factory=list)
    tick_times: list[float] = field(default_factory=list)
    drawn_times: list[float] = field(default_factory=list)  # times of the drawable events
    nodes: list[str] = field(default_factory=list)  # every node seen, first-seen order

    def events_in(self, start: float, end: float) -> int:
        return bisect_right(self.drawn_times, end) - bisect_left(self.drawn_times, start)

    def messages_in(self, start: float, end: float) -> list[_Msg]:
        """The messages sent, delivered or dropped within [start, end]."""
        lo = bisect_left(self.send_times, start - self.max_latency)
        hi = bisect_right(self.send_times, end)
        return [
            m
            for m in self.messages[lo:hi]
            if start <= m.t <= end or (m.end is not None and start <= m.end <= end)
        ]


def _scan(trace: Trace) -> _Scan:
    scan = _Scan(end_time=trace.end_time)
    by_id: dict[int, _Msg] = {}
    since: dict[str, float] = {}
    open_faults: dict[str, _Fault] = {}
    seen: dict[str, None] = {}
    drawn = scan.drawn_times
    for t, kind, node, other, num, data in trace.events:
        if kind not in _DRAWN:
            continue
        drawn.append(t)
        if kind == tr.SEND:
            message = _Msg(num, t, node, other, data)
            by_id[num] = message
            scan.messages.append(message)
            scan.send_times.append(t)
            seen[node] = seen[other] = None
        elif kind in (tr.DELIVER, tr.DROP):
            sent = by_id.get(num)
            if sent is not None:
                sent.end = t
                sent.cause = None if kind == tr.DELIVER else str(data)
                scan.max_latency = max(scan.max_latency, t - sent.t)
        elif kind == tr.PRIMARY:
            if data:
                since.setdefault(node, t)
            elif node in since:
                scan.primary.append((node, since.pop(node), t))
        elif kind in (tr.CRASH, tr.HALT):
            scan.down.setdefault(node, (t, kind, str(data)))
        elif kind == tr.FAULT:
            phase, spec = data
            if phase == "begin":
                fault = _Fault(str(spec), t)
                scan.faults.append(fault)
                open_faults[fault.spec] = fault
            elif spec in open_faults:
                open_faults.pop(spec).end = t
        else:  # invoke, complete
            scan.ticks.append((t, kind, node, num, data))
            scan.tick_times.append(t)
    scan.primary.extend((node, start, scan.end_time) for node, start in since.items())
    scan.nodes = list(seen)
    return scan


# --- which parts of the run to draw -----------------------------------------------------


@dataclass
class _Window:
    start: float
    end: float
    anchor: float  # the instant the window narrows around when it must
    why: list[str]

    def scaled(self, s: float) -> _Window:
        return _Window(
            self.anchor - s * (self.anchor - self.start),
            self.anchor + s * (self.end - self.anchor),
            self.anchor,
            self.why,
        )


def _span_windows(start: float, end: float, margin: float, why: str) -> list[_Window]:
    """A window around [start, end]; two (around each end) when the span is long."""
    if end - start <= 4 * margin:
        return [_Window(start - margin, end + margin, start, [why])]
    return [
        _Window(start - margin, start + margin, start, [f"{why} (begins)"]),
        _Window(end - margin, end + margin, end, [f"{why} (ends)"]),
    ]


def _plan_windows(
    scan: _Scan, no_primary: Sequence[tuple[float, float]], margin: float, events_max: int
) -> list[_Window]:
    """Windows around the faults, crashes, halts and intervals with no primary; a run with
    none of them is drawn whole when it fits in ``events_max`` events (a model checker's
    path, a short run), else its first part."""
    end_time = scan.end_time
    windows: list[_Window] = []
    for fault in scan.faults:
        if fault.is_crash or fault.end is None:
            t = fault.begin
            windows.append(_Window(t - margin, t + margin, t, [fault.spec]))
        else:
            windows.extend(_span_windows(fault.begin, fault.end, margin, fault.spec))
    for node, (t, kind, _) in scan.down.items():
        what = "crashed" if kind == tr.CRASH else "halted"
        windows.append(_Window(t - margin, t + margin, t, [f"{node} {what}"]))
    for start, stop in no_primary:
        windows.extend(_span_windows(start, stop, margin, f"no primary {start:.4f}–{stop:.4f} s"))
    if not windows:
        if scan.events_in(0.0, end_time) <= events_max:
            return [_Window(0.0, end_time, 0.0, ["the whole run"])]
        first = min(end_time, 4 * margin)
        return [_Window(0.0, first, 0.0, ["the first part of the run"])]
    merged: list[_Window] = []
    for window in sorted(windows, key=lambda w: (w.start, w.anchor)):
        window.start, window.end = max(0.0, window.start), min(end_time, window.end)
        window.anchor = min(max(window.anchor, window.start), window.end)
        last = merged[-1] if merged else None
        if last is not None and window.start <= last.end:
            last.end = max(last.end, window.end)
            last.why.extend(why for why in window.why if why not in last.why)
        else:
            merged.append(window)
    return merged


def _allocate(counts: Sequence[int], budget: int) -> list[int]:
    """Share ``budget`` among windows: small ones get all they need, big ones the rest."""
    shares = [0] * len(counts)
    left = max(0, budget)
    order = sorted(range(len(counts)), key=lambda i: counts[i])
    for rank, index in enumerate(order):
        shares[index] = min(counts[index], left // (len(counts) - rank))
        left -= shares[index]
    return shares


def _fit(window: _Window, scan: _Scan, allowed: int) -> _Window:
    """The widest narrowing of ``window`` around its anchor with at most ``allowed`` events."""
    if scan.events_in(window.start, window.end) <= allowed:
        return window
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        narrowed = window.scaled(mid)
        if scan.events_in(narrowed.start, narrowed.end) <= allowed:
            lo = mid
        else:
            hi = mid
    return window.scaled(lo)


# --- the SVG of one window ----------------------------------------------------------------


def _type_name(msg: Any) -> str:
    return msg.type if isinstance(msg, OpaqueMessage) else type(msg).__name__


def _category(name: str) -> str:
    if name == "ClientRequest":
        return "request"
    if name == "ClientReply":
        return "reply"
    if name == "PrimaryHint":
        return "hint"
    lowered = name.lower()
    if "heartbeat" in lowered or lowered in ("ping", "pong", "alive"):
        return "heartbeat"
    if "update" in lowered:
        return "update"
    return "other"


def _short(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=repr)


def _fields(msg: Any) -> str:
    data = encode(msg)
    if isinstance(data, dict):
        text = ", ".join(f"{k}={_short(v)}" for k, v in data.items() if k != "type")
    else:
        text = _short(data)
    return text if len(text) <= _FIELDS_MAX else text[: _FIELDS_MAX - 1] + "…"


class _Frame:
    """Maps times and lanes of one window to SVG coordinates."""

    def __init__(
        self, window: _Window, lanes: Sequence[str], faults: int, events: int, unit: str
    ) -> None:
        self.unit = unit
        self.start = window.start
        self.span = max(window.end - window.start, 1e-9)
        self.width = min(max(events * _PX_PER_EVENT, _WIDTH_MIN), _WIDTH_MAX)
        self.top = 8 + _FAULT_ROW * faults + (6 if faults else 0)
        self.lane = {node: self.top + _LANE * (i + 0.5) for i, node in enumerate(lanes)}
        self.bottom = self.top + _LANE * len(lanes)
        self.total_width = _LEFT + self.width + _RIGHT
        self.total_height = self.bottom + _AXIS

    def x(self, t: float) -> float:
        return _LEFT + (t - self.start) / self.span * self.width

    def clamp(self, t: float) -> float:
        return min(max(t, self.start), self.start + self.span)


_AXIS_UNITS = {"async": "step"}
"""What the time axis counts under a timing model without a clock: async time counts
steps (lock-step runs record round r at r·δ seconds, so their axis stays in seconds)."""


def _svg_axis(frame: _Frame) -> list[str]:
    raw = frame.span / 8
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    y = frame.bottom + 6
    end = frame.start + frame.span
    out = [f'<line class="axis" x1="{_LEFT}" y1="{_f(y)}" x2="{_f(frame.x(end))}" y2="{_f(y)}"/>']
    tick = math.ceil(frame.start / step - 1e-9) * step
    while tick <= end + step * 1e-9:
        x = _f(frame.x(tick))
        out.append(f'<line class="axis" x1="{x}" y1="{_f(y)}" x2="{x}" y2="{_f(y + 4)}"/>')
        out.append(f'<text class="tick" x="{x}" y="{_f(y + 15)}">{tick:.{decimals}f}</text>')
        tick += step
    out.append(
        f'<text class="unit" x="{_f(frame.total_width - 4)}" y="{_f(y + 27)}">{frame.unit}</text>'
    )
    return out


def _svg_background(
    frame: _Frame, faults: Sequence[_Fault], no_primary: Sequence[tuple[float, float]]
) -> list[str]:
    """The intervals with no primary, shaded, and the fault windows, as bars on top."""
    out: list[str] = []
    lo, hi = frame.start, frame.start + frame.span
    height = _f(frame.bottom - frame.top)
    for start, stop in no_primary:
        if stop < lo or start > hi:
            continue
        x1, x2 = frame.x(frame.clamp(start)), frame.x(frame.clamp(stop))
        out.append(
            f'<rect class="noprim" x="{_f(x1)}" y="{_f(frame.top)}" width="{_f(max(x2 - x1, 1))}"'
            f' height="{height}"><title>no primary from {_t(start)} to {_t(stop)} s'
            f" ({(stop - start) * 1000:.3f} ms)</title></rect>"
        )
    for row, fault in enumerate(faults):
        y = 8 + _FAULT_ROW * row
        stop = fault.begin if fault.is_crash else (hi if fault.end is None else fault.end)
        x1, x2 = frame.x(frame.clamp(fault.begin)), frame.x(frame.clamp(stop))
        until = "" if fault.is_crash else f" to {'the end' if fault.end is None else _t(stop)}"
        label = f"<title>{_e(fault.spec)}: from {_t(fault.begin)} s{until}</title>"
        out.append(
            f'<g class="fault"><rect x="{_f(x1)}" y="{y}" width="{_f(max(x2 - x1, 2))}"'
            f' height="{_FAULT_ROW - 4}"/>{label}'
            f'<text x="{_f(x1 + 3)}" y="{y + 9}">{_e(fault.spec)}</text></g>'
        )
        for t in (fault.begin, stop) if not fault.is_crash else (fault.begin,):
            if lo <= t <= hi:
                x = _f(frame.x(t))
                out.append(
                    f'<line class="fault-edge" x1="{x}" y1="{y + _FAULT_ROW - 4}" x2="{x}"'
                    f' y2="{_f(frame.bottom)}"/>'
                )
    return out


def _svg_lanes(
    frame: _Frame, scan: _Scan, servers: set[str], sep_after: int, lanes: Sequence[str]
) -> list[str]:
    """Lane lines and labels, primary bands, and crash or halt marks."""
    out: list[str] = []
    marks: list[str] = []  # drawn last, over the primary bands
    lo, hi = frame.start, frame.start + frame.span
    x_lo, x_hi = _f(frame.x(lo)), _f(frame.x(hi))
    for index, node in enumerate(lanes):
        y = frame.lane[node]
        name = "srv" if node in servers else "cli"
        out.append(f'<text class="{name}" x="6" y="{_f(y + 4)}">{_e(node)}</text>')
        down = scan.down.get(node)
        if down is None or down[0] > hi:
            out.append(f'<line class="lane" x1="{x_lo}" y1="{_f(y)}" x2="{x_hi}" y2="{_f(y)}"/>')
        else:
            t_down, kind, why = down
            x_down = _f(frame.x(max(t_down, lo)))
            if t_down > lo:
                out.append(
                    f'<line class="lane" x1="{x_lo}" y1="{_f(y)}" x2="{x_down}" y2="{_f(y)}"/>'
                )
            out.append(
                f'<line class="lane dead" x1="{x_down}" y1="{_f(y)}" x2="{x_hi}" y2="{_f(y)}"/>'
            )
            if t_down >= lo:
                word = "crash" if kind == tr.CRASH else "halt"
                x_word = _f(frame.x(t_down) - 4)
                marks.append(
                    f'<g class="down"><line x1="{x_down}" y1="{_f(y - 9)}" x2="{x_down}"'
                    f' y2="{_f(y + 9)}"/><text x="{x_word}" y="{_f(y - 5)}">{word}</text>'
                    f"<title>{_e(node)} {word}ed at {_t(t_down)} s: {_e(why)}</title></g>"
                )
        if index == sep_after - 1 and index < len(lanes) - 1:
            ys = _f(y + _LANE / 2)
            out.append(f'<line class="sep" x1="0" y1="{ys}" x2="{x_hi}" y2="{ys}"/>')
    for node, start, stop in scan.primary:
        if node not in frame.lane or stop < lo or start > hi:
            continue
        x1, x2 = frame.x(frame.clamp(start)), frame.x(frame.clamp(stop))
        y = frame.lane[node]
        out.append(
            f'<rect class="prim" x="{_f(x1)}" y="{_f(y - 4)}" width="{_f(max(x2 - x1, 1))}"'
            f' height="8"><title>{_e(node)} primary from {_t(start)} to {_t(stop)} s</title></rect>'
        )
    return out + marks


def _svg_messages(frame: _Frame, messages: Iterable[_Msg]) -> list[str]:
    """Arrows, send to delivery; dropped ones stop short at a red ✕ with the cause."""
    out: list[str] = []
    labels: list[tuple[float, float]] = []  # where drop causes are written, to not overlap
    for m in messages:
        if m.src in frame.lane and m.dst in frame.lane:
            out.append(_svg_message(frame, m, labels))
    return out


def _svg_message(frame: _Frame, m: _Msg, labels: list[tuple[float, float]]) -> str:
    name = _type_name(m.msg)
    css = f"m m-{_category(name)}"
    x1, y1 = frame.x(m.t), frame.lane[m.src]
    y_dst = frame.lane[m.dst]
    about = f"{_e(name)} #{m.mid} {_e(m.src)}→{_e(m.dst)}, sent {_t(m.t)}"
    fields = _e(_fields(m.msg))
    if m.end is None:  # still in flight when the run ended: a dotted stub
        x2, y2 = x1 + 14, y1 + 0.3 * (y_dst - y1)
        return (
            f'<line class="{css} inflight" x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}"'
            f' y2="{_f(y2)}"><title>{about}, still in flight at the end: {fields}</title></line>'
        )
    if m.cause is None:
        return (
            f'<line class="{css}" x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(frame.x(m.end))}"'
            f' y2="{_f(y_dst)}"><title>{about}, delivered {_t(m.end)}: {fields}</title></line>'
        )
    if m.end - m.t > _EPS:  # lost on the way, at the receiver: stop just short of it
        x2, y2 = x1 + 0.85 * (frame.x(m.end) - x1), y1 + 0.85 * (y_dst - y1)
    else:  # never left the sender
        x2, y2 = x1 + 12, y1 + 0.3 * (y_dst - y1)
    cause = _e(m.cause)
    label = ""
    if not any(abs(x2 - x) < 8 * len(m.cause) and abs(y2 - y) < 10 for x, y in labels[-20:]):
        labels.append((x2, y2))
        label = f'<text class="cause" x="{_f(x2 + 6)}" y="{_f(y2 - 3)}">{cause}</text>'
    return (
        f'<g class="drop"><line class="{css} dropped" x1="{_f(x1)}" y1="{_f(y1)}"'
        f' x2="{_f(x2)}" y2="{_f(y2)}"/><text class="x" x="{_f(x2)}" y="{_f(y2 + 4)}">✕'
        f"</text>{label}<title>{about}, dropped {_t(m.end)} ({cause}): {fields}</title></g>"
    )


def _svg_ticks(frame: _Frame, scan: _Scan) -> list[str]:
    """Client invocations (tick up) and completions (tick down, coloured by outcome)."""
    out: list[str] = []
    lo = bisect_left(scan.tick_times, frame.start)
    hi = bisect_right(scan.tick_times, frame.start + frame.span)
    for t, kind, node, seq, data in scan.ticks[lo:hi]:
        if node not in frame.lane:
            continue
        x, y = _f(frame.x(t)), frame.lane[node]
        if kind == tr.INVOKE:
            css, y1, y2 = "inv", y - 7, y
            what = f"invoke #{seq}: {_e(_fields(data))}"
        else:
            status, result = data if isinstance(data, tuple) else ("?", data)
            css, y1, y2 = f"cpl cpl-{_e(status)}", y, y + 7
            what = f"complete #{seq}: {_e(status)} → {_e(_short(encode(result)))}"
        out.append(
            f'<line class="{css}" x1="{x}" y1="{_f(y1)}" x2="{x}" y2="{_f(y2)}">'
            f"<title>{_e(node)} {what} at {_t(t)} s</title></line>"
        )
    return out


def _svg_window(
    scan: _Scan,
    window: _Window,
    lanes: Sequence[str],
    servers: set[str],
    no_primary: Sequence[tuple[float, float]],
    number: int,
    unit: str = "t (s)",
) -> tuple[str, set[int]]:
    """Window ``number``'s diagram, and the ids of the messages it draws."""
    lo, hi = window.start, window.end
    faults = [
        f
        for f in scan.faults
        if f.begin <= hi and (f.begin if f.is_crash else (f.end or math.inf)) >= lo
    ]
    frame = _Frame(window, lanes, len(faults), scan.events_in(lo, hi), unit)
    messages = scan.messages_in(lo, hi)
    sep_after = sum(1 for node in lanes if node in servers)
    anchor = frame.x(frame.clamp(window.anchor)) / frame.total_width
    parts = [
        f'<svg class="st" width="{_f(frame.total_width)}" height="{_f(frame.total_height)}"'
        f' viewBox="0 0 {_f(frame.total_width)} {_f(frame.total_height)}" role="img"'
        f' data-anchor="{anchor:.4f}"'
        f' aria-label="space-time diagram from {lo:.4f} to {hi:.4f} s">',
        f'<defs><clipPath id="clip-{number}"><rect x="{_LEFT - 1}" y="0"'
        f' width="{_f(frame.width + 2)}" height="{_f(frame.total_height)}"/></clipPath></defs>',
        *_svg_background(frame, faults, no_primary),
        *_svg_lanes(frame, scan, servers, sep_after, lanes),
        f'<g clip-path="url(#clip-{number})">',
        *_svg_messages(frame, messages),
        "</g>",
        *_svg_ticks(frame, scan),
        *_svg_axis(frame),
        "</svg>",
    ]
    return "\n".join(parts), {m.mid for m in messages}


# --- the page's sections ------------------------------------------------------------------


def _seconds(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int | float):
        return f"{value:.4f} s"
    return _e(value)


def _given(value: Any, unit: str = "") -> str:
    return "—" if value is None else f"{_e(value)}{unit}"


def _rows(rows: Iterable[tuple[str, str]]) -> str:
    """Table rows from (label, already escaped HTML) pairs."""
    return "\n".join(f"<tr><th>{_e(label)}</th><td>{cell}</td></tr>" for label, cell in rows)


def _list(items: Sequence[Any], empty: str, *, code: bool = True) -> str:
    if not items:
        return _e(empty)
    fmt = "<li><code>{}</code></li>" if code else "<li>{}</li>"
    return "<ul>" + "".join(fmt.format(_e(item)) for item in items) + "</ul>"


def _section_config(summary: dict[str, Any], trace: Trace) -> str:
    header = trace.header
    config = header.get("config") or {}
    ops = summary.get("ops") or {}
    ops_text = ", ".join(f"{_e(v)} {_e(k)}" for k, v in ops.items()) or "—"
    problems = summary.get("admissibility") or []
    wall = summary.get("wall_s")
    virtual = summary.get("virtual_s", trace.end_time)
    workload = ""
    if config:
        workload = (
            f"{_e(config.get('ops'))} ops of {_e(config.get('app'))} over "
            f"{_e(config.get('keys'))} keys"
        )
    rows = [
        ("protocol", f"<code>{_e(summary.get('protocol', header.get('protocol')))}</code>"),
        ("servers n", _given(summary.get("replicas", len(trace.servers)))),
        ("tolerates f", _given(summary.get("f", header.get("f")))),
        ("failure model", _given(summary.get("failure_model", header.get("failure_model")))),
        ("δ (message delay bound)", _given(summary.get("delta_s", header.get("delta_s")), " s")),
        ("τ", _given(summary.get("tau_s", header.get("tau_s")), " s")),
        ("δ_min", _given(summary.get("delta_min_s", header.get("delta_min_s")), " s")),
        ("clients", _given(summary.get("clients", len(trace.clients)))),
        ("workload", workload or "—"),
        ("seed", _given(summary.get("seed"))),
        ("fault plan", _list(summary.get("faults", header.get("faults", [])), "no faults")),
        ("admissibility", _list(problems, "inside the protocol's failure model", code=False)),
        ("trace hash", f"<code>{_e(summary.get('trace_hash', '—'))}</code>"),
        ("smrkit version", _given(header.get("smrkit"))),
        ("events", _given(summary.get("events", len(trace.events)))),
        ("virtual time", _seconds(virtual)),
        ("wall time", "—" if wall is None else f"{wall:.3f} s"),
        ("ops", ops_text),
    ]
    return (
        '<section id="configuration">\n<h2>Configuration</h2>\n<table class="kv">\n'
        f"{_rows(rows)}\n</table>\n</section>"
    )


def _instant(t: Any) -> str:
    if t is None:
        return "∞"
    return f"{t:.6f}" if isinstance(t, int | float) else _short(t)


def _op_text(op: dict[str, Any]) -> str:
    value = "" if op.get("value") is None else f" {_short(op.get('value'))}"
    output = _short(op.get("output")) if op.get("output_known", True) else "?"
    when = f"[{_instant(op.get('call'))}, {_instant(op.get('ret'))}]"
    return (
        f"#{op.get('id')} {op.get('process')} {op.get('f')} {op.get('key')}{value}"
        f" → {output} ({op.get('type')}) {when}"
    )


def _witness_text(witness: dict[str, Any], shown: int = 20) -> str:
    """A readable account of a linearizability witness (its JSON form)."""
    where = "" if witness.get("partition") is None else f" on key {witness['partition']!r}"
    prefix = witness.get("prefix") or []
    lines = [
        f"Not linearizable{where}: no order of the ops explains every output.",
        f"Longest linearizable prefix: {len(prefix)} op(s) from initial state "
        f"{_short(witness.get('initial'))}; each op, then the state after it:",
    ]
    if len(prefix) > shown:
        lines.append(f"  … {len(prefix) - shown} earlier op(s), see the JSON summary")
    lines.extend(
        f"  {_op_text(item['op'])}  ⇒ {_short(item.get('state'))}" for item in prefix[-shown:]
    )
    lines.append(
        f"Stuck in state {_short(witness.get('state'))}: none of these ops can take effect next:"
    )
    lines.extend(
        f"  {_op_text(item['op'])}: {item.get('why', '')}" for item in witness.get("stuck") or []
    )
    blocking = witness.get("blocking")
    if blocking:
        lines.append(f"Op #{blocking.get('id')} returned first: no later op can help it.")
    pending = witness.get("pending_info") or []
    if pending:
        ids = ", ".join(f"#{op.get('id')}" for op in pending)
        lines.append(f"Also pending, with unknown outcome: {ids}.")
    return "\n".join(lines)


def _section_checks(summary: dict[str, Any]) -> str:
    checks: dict[str, Any] = summary.get("checks") or {}
    rows = []
    for name, check in checks.items():
        ok = bool(check.get("ok"))
        verdict = '<td class="ok">ok</td>' if ok else '<td class="bad">VIOLATED</td>'
        summary_text = _e(check.get("summary", ""))
        rows.append(f"<tr><td><code>{_e(name)}</code></td>{verdict}<td>{summary_text}</td></tr>")
    failed = [name for name, check in checks.items() if not check.get("ok")]
    overall = (
        '<p class="verdict ok">all checks hold</p>'
        if not failed
        else f'<p class="verdict bad">violated: {_e(", ".join(failed))}</p>'
    )
    witness = (checks.get("linearizable") or {}).get("witness")
    witness_html = ""
    if witness:
        witness_html = (
            f'\n<h3>Linearizability witness</h3>\n<pre class="witness">'
            f"{_e(_witness_text(witness))}</pre>"
        )
    return (
        f'<section id="checks">\n<h2>Checks</h2>\n{overall}\n<table class="checks">\n'
        "<thead><tr><th>check</th><th>verdict</th><th>summary</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + f"\n</tbody>\n</table>{witness_html}\n</section>"
    )


def _over(measured: Any, target: Any) -> bool:
    numbers = (int, float)
    return (
        isinstance(measured, numbers) and isinstance(target, numbers) and (measured > target + 1e-9)
    )


def _section_figures(summary: dict[str, Any]) -> str:
    """The measured figures: against Table 1 for a primary-backup run, as the protocol
    reports them for any other (a Raft run's elections and commit latency, a chain's
    reconfigurations): Table 1's failover and blocking mean nothing for those."""
    measured = summary.get("measured") or {}
    if "failover_s_max" in measured:
        return _section_bounds(summary)
    return _section_measured(measured)


def _figure(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {_figure(v)}" for k, v in value.items())
    return "—" if value is None else str(value)


def _section_measured(measured: dict[str, Any]) -> str:
    """Every figure of ``measured``, one row each (a list gives one row per item)."""
    rows = []
    for key, value in measured.items():
        label = key.replace("_", " ")
        items = value if isinstance(value, list) else [value]
        if not items:
            rows.append((label, "none"))
        for item in items:
            rows.append((label, _figure(item)))
    body = "\n".join(
        f'<tr><th>{_e(label)}</th><td class="num">{_e(text)}</td></tr>' for label, text in rows
    )
    return (
        '<section id="bounds">\n<h2>Measured</h2>\n<table class="bounds">\n'
        "<thead><tr><th>figure</th><th>measured (s, or in δ where it says delta)</th></tr>"
        f"</thead>\n<tbody>\n{body}\n</tbody>\n</table>\n</section>"
    )


def _section_bounds(summary: dict[str, Any]) -> str:
    measured = summary.get("measured") or {}
    target = summary.get("target") or {}
    bound = summary.get("bound") or {}

    def cell(value: str, bad: bool = False) -> str:
        return f'<td class="num{" bad" if bad else ""}">{value}</td>'

    rows = []
    replicas_min = bound.get("replicas_min")
    at_least = "—" if replicas_min is None else f"≥ {_e(replicas_min)}"
    rows.append(("replicas", _given(summary.get("replicas")), "—", at_least))
    bad_rows: set[str] = set()
    for label, key in (("failover", "failover_s"), ("blocking", "blocking_s")):
        value = measured.get(f"{key}_max")
        if _over(value, target.get(key)):
            bad_rows.add(label)
        rows.append((label, _seconds(value), _seconds(target.get(key)), _seconds(bound.get(key))))
    k, k_target = measured.get("outage_count"), target.get("outage_count")
    rows.append(
        (
            "outages (k, Δ)",
            f"({_given(k)}, {_seconds(measured.get('outage_s_max'))})",
            f"({_given(k_target)}, {_seconds(target.get('outage_s'))})",
            "—",
        )
    )
    body = "\n".join(
        f"<tr><th>{_e(label)}</th>{cell(m, label in bad_rows)}{cell(t)}{cell(b)}</tr>"
        for label, m, t, b in rows
    )
    notes = []
    if bound:
        notes.append(
            f"Lower bounds for the {_e(bound.get('failure_model'))} model, from "
            f"{_e(bound.get('theorems', ''))}."
        )
        if bound.get("assumes_d_below_gamma"):
            notes.append("They assume D < Γ (the service tells clients of a new primary).")
        if bound.get("known_tight") is False:
            notes.append("They are not known to be tight.")
    return (
        '<section id="bounds">\n<h2>Measured against bound</h2>\n<table class="bounds">\n'
        f"<thead><tr><th>figure</th><th>measured</th><th>{_e(summary.get('protocol', ''))}"
        " target</th><th>lower bound (Table 1)</th></tr></thead>\n<tbody>\n"
        f'{body}\n</tbody>\n</table>\n<p class="note">{" ".join(notes)}</p>\n</section>'
    )


def _some(items: Sequence[str], sep: str, limit: int = 8) -> str:
    """``items`` joined, at most ``limit`` of them and a count of the rest."""
    text = sep.join(items[:limit])
    return text if len(items) <= limit else f"{text}{sep}… and {len(items) - limit} more"


def _legend(present: set[str], primary: bool) -> str:
    """The keys of what the diagrams draw: the categories of messages the run sent, and
    the primary bands and no-primary shading only for a run that has a primary — a
    consensus or agreement run has none, and its page should not speak of one."""
    swatches = "".join(
        f'<span class="key"><span class="sw" style="background:{colour}"></span>{_e(label)}</span>'
        for css, label, colour in CATEGORIES
        if css in present
    )
    extras = (
        (
            '<span class="key"><span class="sw prim-sw"></span>primary</span>'
            '<span class="key"><span class="sw noprim-sw"></span>no primary</span>'
            if primary
            else ""
        )
        + '<span class="key"><span class="sw fault-sw"></span>fault window</span>'
        '<span class="key"><span class="xkey">✕</span>dropped (cause)</span>'
        '<span class="key"><span class="dash"></span>after a crash or halt</span>'
        '<span class="key">ticks: invoke ↑, complete ↓</span>'
    )
    return f'<p class="legend">{swatches}{extras}</p>'


def _markers() -> str:
    """Arrowheads, one per category, shared by every diagram of the page."""
    marks = "".join(
        f'<marker id="ah-{css}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7"'
        f' markerHeight="7" orient="auto"><path d="M0,1L10,5L0,9z" fill="{colour}"/></marker>'
        for css, _, colour in CATEGORIES
    )
    return f'<svg class="defs" width="0" height="0" aria-hidden="true"><defs>{marks}</defs></svg>'


def _section_diagram(
    trace: Trace, no_primary: Sequence[tuple[float, float]], events_max: int
) -> str:
    scan = _scan(trace)
    unit = _AXIS_UNITS.get(str(trace.header.get("timing")), "t (s)")
    head = '<section id="diagram">\n<h2>Space-time diagram</h2>\n'
    if not trace.events:
        return head + "<p>The trace has no events.</p>\n</section>"
    servers = trace.servers
    clients = trace.clients
    known = set(servers) | set(clients)
    lanes = [*servers, *clients, *(node for node in scan.nodes if node not in known)]
    delta = float(trace.header.get("delta_s") or 0.01)
    tau = float(trace.header.get("tau_s") or 0.05)
    margin = max(2 * tau, 10 * delta)
    planned = _plan_windows(scan, no_primary, margin, events_max)
    skipped = planned[_WINDOWS_MAX:]
    planned = planned[:_WINDOWS_MAX]
    counts = [scan.events_in(w.start, w.end) for w in planned]
    shares = _allocate(counts, events_max)
    windows = [_fit(w, scan, share) for w, share in zip(planned, shares, strict=True)]
    truncated = any(count > share for count, share in zip(counts, shares, strict=True))
    planned_ids = {m.mid for w in planned for m in scan.messages_in(w.start, w.end)}

    figures: list[str] = []
    drawn_ids: set[int] = set()
    drawn_events = 0
    server_set = set(servers)
    for number, window in enumerate(windows, start=1):
        svg, ids = _svg_window(scan, window, lanes, server_set, no_primary, number, unit)
        drawn_ids |= ids
        drawn_events += scan.events_in(window.start, window.end)
        caption = f"Window {number}: {window.start:.4f}–{window.end:.4f} s — " + _e(
            _some(window.why, "; ")
        )
        figures.append(
            f'<figure>\n<figcaption>{caption}</figcaption>\n<div class="diagram">\n{svg}\n'
            "</div>\n</figure>"
        )
    total = len(scan.messages)
    has_primary = bool(scan.primary or no_primary)
    gaps = _some([f"{s:.6f}–{e:.6f} s" for s, e in no_primary], ", ") or "none"
    if scan.faults or scan.down or no_primary:
        around = "faults, crashes, halts and intervals with no primary"
        shown = (
            f"{len(windows)} window(s) around the "
            f"{around if has_primary else 'faults, crashes and halts'}, "
            f"from {margin:.3f} s before to {margin:.3f} s after"
        )
    else:
        part = (
            "The whole run" if planned[0].why == ["the whole run"] else "The first part of the run"
        )
        lacked = ", and it never lacked a primary" if has_primary else ""
        shown = f"{part} (no fault, crash or halt happened in it{lacked})"
    intervals = f" Intervals with no primary: {_e(gaps)}." if has_primary else ""
    notes = [
        f"{shown}: {drawn_events} of the run's {len(scan.drawn_times)} drawable events and "
        f"{len(drawn_ids)} of its {total} messages are drawn ({total - len(drawn_ids)} "
        f"messages not shown).{intervals} Hover over an arrow for the message's type and "
        "fields."
    ]
    if skipped:
        notes.append(
            f'<strong class="bad">{len(skipped)} more window(s)</strong>, from '
            f"{skipped[0].start:.4f} s on, are not drawn: a page shows at most {_WINDOWS_MAX}."
        )
    if truncated:
        notes.append(
            f'<strong class="bad">Truncated</strong> to at most {events_max} drawn events: the '
            f"windows were narrowed around their faults, leaving out "
            f"{len(planned_ids - drawn_ids)} message(s) of the planned windows."
        )
    paragraphs = "\n".join(f'<p class="note">{note}</p>' for note in notes)
    present = {_category(_type_name(m.msg)) for m in scan.messages}
    legend = _legend(present, has_primary)
    return f"{head}{paragraphs}\n{legend}\n{_markers()}\n" + "\n".join(figures) + "\n</section>"


_CSS = """
:root { --ok: #1a7f37; --bad: #c62828; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1b1b1b; background: #fff; max-width: 1200px; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
  border-bottom: 1px solid #ddd; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .2rem .55rem; text-align: left; vertical-align: top; }
thead th { background: #f3f3f3; } table.kv th { background: #fafafa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td ul { margin: 0; padding-left: 1.1rem; }
.ok { color: var(--ok); font-weight: 600; } .bad { color: var(--bad); font-weight: 700; }
.verdict { font-size: 1.05rem; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .5rem; white-space: pre-wrap; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .92em; }
.note { color: #444; }
ol.path { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em;
  padding-left: 3rem; } ol.path li { margin: .1rem 0; white-space: pre-wrap; }
ol.path li.fault { color: var(--bad); font-weight: 600; }
ol.path li.last { background: #fdecea; }
.legend .key { display: inline-block; margin-right: 1rem; white-space: nowrap; }
.sw { display: inline-block; width: 1.4rem; height: .35rem; margin-right: .3rem;
  vertical-align: middle; }
.prim-sw { background: #e0a800; height: .5rem; } .noprim-sw { background: #f7d4d4; height: .8rem; }
.fault-sw { background: #f28e2b; height: .6rem; }
.xkey { color: #d62728; font-weight: 700; margin-right: .3rem; }
.dash { display: inline-block; width: 1.4rem; border-top: 1px dashed #999; margin-right: .3rem;
  vertical-align: middle; }
svg.defs { position: absolute; width: 0; height: 0; overflow: hidden; }
figure { margin: 1rem 0; } figcaption { font-weight: 600; margin-bottom: .25rem; }
.diagram { overflow-x: auto; border: 1px solid #ddd; background: #fff; }
.diagram svg.st { max-width: 100%; height: auto; display: block; }
.diagram.panning { cursor: grabbing; user-select: none; }
.zoom { margin: .2rem 0; font-size: .85rem; color: #555; }
.zoom button { font: inherit; margin-right: .25rem; padding: 0 .5rem; cursor: pointer; }
.zoom-level { margin-left: .4rem; }
svg.lat { max-width: 100%; height: auto; display: block; }
svg.lat text { font: 10px system-ui, sans-serif; fill: #333; }
svg.lat text.tick { text-anchor: middle; } svg.lat text.ytick { text-anchor: end; }
svg.lat text.title { font-size: 11px; font-weight: 600; text-anchor: middle; }
svg.lat text.outlier { fill: #c62828; font-weight: 700; }
svg.lat .grid { stroke: #eee; } svg.lat .axis { stroke: #555; }
svg.lat .noprim { fill: #d62728; opacity: .13; } svg.lat .fault-win { fill: #f28e2b; }
svg.lat .fault-edge { stroke: #f28e2b; stroke-dasharray: 3 3; }
svg.lat .op { opacity: .7; } svg.lat .op.ok { fill: #2ca02c; } svg.lat .op.fail { fill: #d62728; }
svg.lat .ring { fill: none; stroke: #c62828; stroke-width: 1.5; }
svg.lat .noreply path { stroke: #777; stroke-width: 1.5; stroke-dasharray: 4 2; }
svg.lat .noreply circle { fill: #555; }
svg.st text { font: 10px system-ui, sans-serif; fill: #222; }
svg.st text.srv { font-weight: 700; } svg.st text.tick { text-anchor: middle; fill: #555; }
svg.st text.unit { text-anchor: end; fill: #555; }
.axis { stroke: #555; } .sep { stroke: #ccc; stroke-dasharray: 2 3; }
.lane { stroke: #333; stroke-width: 1; } .lane.dead { stroke: #aaa; stroke-dasharray: 4 3; }
.prim { fill: #e0a800; opacity: .6; } .noprim { fill: #d62728; opacity: .13; }
.fault rect { fill: #f28e2b; opacity: .85; } .fault text { font-size: 9px; fill: #000; }
.fault-edge { stroke: #f28e2b; stroke-dasharray: 3 3; }
.down line { stroke: #000; stroke-width: 3; } .down text { text-anchor: end; font-weight: 700; }
.m { stroke-width: 1.1; fill: none; }
.m-request { stroke: #1f77b4; marker-end: url(#ah-request); }
.m-reply { stroke: #2ca02c; marker-end: url(#ah-reply); }
.m-hint { stroke: #9467bd; marker-end: url(#ah-hint); stroke-width: 1.5; }
.m-heartbeat { stroke: #8a8a8a; stroke-width: .5; opacity: .35; marker-end: none; }
.m-update { stroke: #ff7f0e; marker-end: url(#ah-update); }
.m-other { stroke: #17a2b8; marker-end: url(#ah-other); stroke-width: 1.6; }
.m.dropped { marker-end: none; stroke-dasharray: 3 2; }
.m.inflight { marker-end: none; stroke-dasharray: 1 2; }
.m:hover { stroke-width: 3; opacity: 1; }
.drop text.x { fill: #d62728; font-size: 12px; font-weight: 700; text-anchor: middle; }
.drop text.cause { fill: #d62728; font-size: 8px; }
.inv { stroke: #1f77b4; stroke-width: 1.2; } .cpl { stroke: #2ca02c; stroke-width: 1.2; }
.cpl-fail { stroke: #d62728; } .cpl-info { stroke: #999; }
footer { margin-top: 2rem; color: #777; font-size: .85rem; }
@media print {
  body { max-width: none; margin: 0; font-size: 11px; }
  .diagram { overflow: visible; border: none; }
  .diagram svg { max-width: 100% !important; width: auto !important; height: auto; }
  .zoom { display: none; }
  figure, table { break-inside: avoid; }
}
"""


def space_time_section(trace: Trace, events_max: int = 4000) -> tuple[str, str]:
    """The space-time diagram of a run with no primary (an agreement run outside
    lock-step: its rounds are the protocol's own, not the timing's), as ``(css, html)``
    for another page to embed, with its zoom script."""
    body = _section_diagram(trace, (), events_max) + f"\n<script>{_zoom_script()}</script>"
    return _CSS, body


def _section_latency(trace: Trace, no_primary: Sequence[tuple[float, float]]) -> str:
    faults = [(f.spec, f.begin, None if f.is_crash else f.end) for f in _scan(trace).faults]
    return latency_section(trace, no_primary, faults)


def _zoom_script() -> str:
    """The diagrams' zoom and pan (``diagram_zoom.js``): the page reads without it."""
    return resources.files("smrkit.report").joinpath("diagram_zoom.js").read_text("utf-8")


def render_report(
    summary: dict[str, Any],
    trace: Trace,
    no_primary: Sequence[tuple[float, float]],
    *,
    title: str | None = None,
    events_max: int = 4000,
    sections: Sequence[str] = (),
    bounds: bool = True,
    latency: bool = True,
) -> str:
    """The HTML page of a judged run: ``summary`` is :func:`smrkit.report.summary.run_json`,
    ``no_primary`` the intervals with no primary (``evaluation.analysis.gaps``).
    ``sections`` (HTML) go between the checks and the diagram; ``bounds=False`` leaves out
    the table of measured figures and ``latency=False`` the clients' latency chart, for a
    page whose trace measured none and whose time counts moves (a model checker's
    path)."""
    if title is None:
        title = f"smrkit run: {summary.get('protocol', '?')}, seed {summary.get('seed', '?')}"
    body = [
        f"<header>\n<h1>{_e(title)}</h1>\n</header>",
        _section_config(summary, trace),
        _section_checks(summary),
        *sections,
        *([_section_figures(summary)] if bounds else []),
        *([_section_latency(trace, no_primary)] if latency and trace.clients else []),
        _section_diagram(trace, no_primary, events_max),
        f"<script>{_zoom_script()}</script>",
        f"<footer>Generated by smrkit {_e(trace.header.get('smrkit', ''))} from the run's "
        "trace and its JSON summary.</footer>",
    ]
    return document(title, _CSS, body)


def write_report(
    path: str | Path,
    summary: dict[str, Any],
    trace: Trace,
    no_primary: Sequence[tuple[float, float]],
    **kwargs: Any,
) -> int:
    """Write :func:`render_report`'s page to ``path``; returns the number of bytes written."""
    data = render_report(summary, trace, no_primary, **kwargs).encode("utf-8")
    Path(path).write_bytes(data)
    return len(data)
