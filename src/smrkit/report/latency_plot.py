"""The latency plot of a simulated run: every client command, when it was called and how
long its answer took, against the faults.

One dot per command at (its call time, its latency), green when it took effect, red when
the service said it did not. Fault windows and crashes are drawn as on the space-time
diagram and the intervals with no primary are shaded, so an outage shows as a column of
slow or missing answers over its cause. A command never answered is a grey line along
the top, from its call to the end of the run: how long it waited, in vain. Both axes have
titles and units, and the slowest commands are labelled with their latency and listed
with what they were — the outliers a reader looks for first. The y axis is linear from
0 ms, so far outliers flatten the rest; the table keeps their values readable. At most
:data:`POINTS_MAX` dots are drawn (every k-th command, the outliers always): the page
stays small for a run of any length, and says so.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from smrkit.sim import trace as tr
from smrkit.sim.trace import Trace

POINTS_MAX = 4000
OUTLIERS_SHOWN = 5

_WIDTH, _HEIGHT = 1100.0, 260.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 64.0, 16.0, 22.0, 44.0


@dataclass(frozen=True)
class Command:
    """One client command of the run: who, which, when called, and its answer."""

    client: str
    seq: int
    what: str
    call: float
    latency: float | None  # None: never answered
    status: str  # ok, fail, or info (no reply)


def commands(trace: Trace) -> list[Command]:
    """Every invoked command with its latency, in call order."""
    called: dict[tuple[str, int], tuple[float, str]] = {}
    found: list[Command] = []
    for t, kind, node, _, num, data in trace.events:
        if kind == tr.INVOKE:
            called[(node, num)] = (t, str(data))
        elif kind == tr.COMPLETE and (node, num) in called:
            call, what = called.pop((node, num))
            found.append(Command(node, num, what, call, t - call, str(data[0])))
    found.extend(Command(c, s, what, call, None, "info") for (c, s), (call, what) in called.items())
    found.sort(key=lambda command: command.call)
    return found


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms >= 1 else f"{ms:.3f} ms"


def _step(span: float, count: int) -> float:
    raw = max(span, 1e-12) / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return float(next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude * 1.000000001))


def _ticks(top: float, count: int) -> list[float]:
    step = _step(top, count)
    return [i * step for i in range(int(top / step + 1e-9) + 1)]


def _drawn(found: Sequence[Command], outliers: set[int]) -> list[int]:
    """Indices of the commands to draw: all, or every k-th plus the outliers."""
    if len(found) <= POINTS_MAX:
        return list(range(len(found)))
    every = math.ceil(len(found) / POINTS_MAX)
    return sorted(set(range(0, len(found), every)) | outliers)


def latency_section(
    trace: Trace,
    no_primary: Sequence[tuple[float, float]],
    faults: Sequence[tuple[str, float, float | None]],
) -> str:
    """The page section: the plot and the table of the slowest commands. ``faults`` are
    ``(spec, begin, end)`` with ``end`` ``None`` for a crash or a window never closed."""
    head = '<section id="latency">\n<h2>Latency of client commands</h2>\n'
    found = commands(trace)
    if not found:
        return head + "<p>No client command was invoked.</p>\n</section>"
    answered = [c for c in found if c.latency is not None]
    by_latency = sorted(range(len(found)), key=lambda i: -(found[i].latency or -1.0))
    outliers = [i for i in by_latency if found[i].latency is not None][:OUTLIERS_SHOWN]
    end = max(trace.end_time, found[-1].call, 1e-9)
    highest = max((c.latency or 0.0 for c in answered), default=0.0)
    top = _ticks(max(highest * 1.08, 1e-6) * 1000, 5)[-1] / 1000
    if top < highest:
        top = highest * 1.08
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM

    def x(t: float) -> float:
        return _LEFT + t / end * plot_w

    def y(latency: float) -> float:
        return _TOP + plot_h - latency / top * plot_h

    parts = [
        f'<svg class="lat" width="{_WIDTH:.0f}" height="{_HEIGHT:.0f}" viewBox="0 0 {_WIDTH:.0f}'
        f' {_HEIGHT:.0f}" role="img" aria-label="latency of each client command over time">'
    ]
    for start, stop in no_primary:
        parts.append(
            f'<rect class="noprim" x="{x(start):.1f}" y="{_TOP}"'
            f' width="{max(x(stop) - x(start), 1):.1f}" height="{plot_h:.1f}">'
            f"<title>no primary {start:.4f}–{stop:.4f} s</title></rect>"
        )
    for spec, begin, closes in faults:
        if closes is None:
            parts.append(
                f'<line class="fault-edge" x1="{x(begin):.1f}" y1="{_TOP - 6}" x2="{x(begin):.1f}"'
                f' y2="{_TOP + plot_h:.1f}"><title>{_e(spec)}</title></line>'
            )
        else:
            parts.append(
                f'<rect class="fault-win" x="{x(begin):.1f}" y="{_TOP - 8}" '
                f'width="{max(x(closes) - x(begin), 2):.1f}" height="5">'
                f"<title>{_e(spec)}</title></rect>"
            )
    for tick in _ticks(end, 10):
        px = x(tick)
        parts.append(
            f'<line class="grid" x1="{px:.1f}" y1="{_TOP}" x2="{px:.1f}" y2="{_TOP + plot_h:.1f}"/>'
            f'<text class="tick" x="{px:.1f}" y="{_TOP + plot_h + 14:.1f}">{tick:g}</text>'
        )
    for tick_ms in _ticks(top * 1000, 5):
        py = y(tick_ms / 1000)
        parts.append(
            f'<line class="grid" x1="{_LEFT}" y1="{py:.1f}" x2="{_LEFT + plot_w:.1f}"'
            f' y2="{py:.1f}"/>'
            f'<text class="ytick" x="{_LEFT - 6}" y="{py + 3:.1f}">{tick_ms:g}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP + plot_h:.1f}" x2="{_LEFT + plot_w:.1f}"'
        f' y2="{_TOP + plot_h:.1f}"/><line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}"'
        f' y2="{_TOP + plot_h:.1f}"/>'
        f'<text class="title" x="{_LEFT + plot_w / 2:.1f}" y="{_HEIGHT - 6:.1f}">'
        "time of the call (virtual seconds)</text>"
        f'<text class="title" transform="translate(14 {_TOP + plot_h / 2:.1f}) rotate(-90)">'
        "latency (ms)</text>"
    )
    for i in _drawn(found, set(outliers)):
        c = found[i]
        label = f"{c.client} #{c.seq} {c.what}: called at {c.call:.4f} s, "
        if c.latency is None:
            parts.append(
                f'<g class="noreply"><title>{_e(label)}no reply by the end of the run</title>'
                f'<path d="M{x(c.call):.1f} {_TOP - 3} H{x(end):.1f}"/>'
                f'<circle cx="{x(c.call):.1f}" cy="{_TOP - 3}" r="2.5"/></g>'
            )
            continue
        parts.append(
            f'<circle class="op {c.status}" cx="{x(c.call):.1f}" cy="{y(c.latency):.1f}" r="2">'
            f"<title>{_e(label)}{c.status} after {_ms(c.latency)}</title></circle>"
        )
    for rank, i in enumerate(outliers):
        c = found[i]
        assert c.latency is not None
        px, py = x(c.call), y(c.latency)
        anchor = "end" if px > _LEFT + plot_w * 0.8 else "start"
        dx = -6 if anchor == "end" else 6
        parts.append(
            f'<circle class="ring" cx="{px:.1f}" cy="{py:.1f}" r="4"/>'
            f'<text class="outlier" x="{px + dx:.1f}" y="{py - 4 + 11 * (rank % 2):.1f}"'
            f' text-anchor="{anchor}">{_ms(c.latency)}</text>'
        )
    parts.append("</svg>")
    unanswered = len(found) - len(answered)
    drawn = len(_drawn(found, set(outliers)))
    note = (
        f"{len(found)} commands: {len(answered)} answered, {unanswered} never answered "
        "(grey, along the top: from the call to the end of the run, still waiting). "
        + (
            ""
            if drawn == len(found)
            else f"{drawn} of them are drawn (every "
            f"{math.ceil(len(found) / POINTS_MAX)}th, and the slowest). "
        )
        + "Hover over a dot for the command."
    )
    rows = "".join(
        f'<tr><td class="num">{_ms(found[i].latency or 0.0)}</td><td><code>{_e(found[i].client)}'
        f' #{found[i].seq} {_e(found[i].what)}</code></td><td class="num">{found[i].call:.4f} s'
        f"</td><td>{_e(found[i].status)}</td></tr>"
        for i in outliers
    )
    table = (
        "<table><thead><tr><th>latency</th><th>command</th><th>called at</th><th>answer</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )
    return (
        f'{head}<p class="note">{_e(note)}</p>\n<div class="diagram">{"".join(parts)}</div>\n'
        f"<h3>The {len(outliers)} slowest commands</h3>\n{table}\n</section>"
    )
