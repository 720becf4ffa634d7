"""The HTML report of ``smrkit test`` (a Jepsen-style test of a real cluster).

One self-contained page, in the style of :mod:`smrkit.report.html` (inline CSS and SVG,
no scripts): the verdict and the figures; availability over time — acknowledged ops per
second against the offered rate, the fault windows shaded and labelled; latency over
time — one dot per op at its call time, height its latency on a log scale, ops of
unknown outcome as marks along the top, the slowest ops labelled with their value;
the fault schedule with each fault's outage and recovery; the linearizability witness
as ``check-history`` prints it, and the acknowledged writes that were lost.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from smrkit.net.config import ClusterConfig
from smrkit.net.jepsen import timing_consequence
from smrkit.report.html import _CSS

_W = 1000.0
_H = 320.0
_LEFT = 56.0
_RIGHT = 16.0
_TOP = 26.0
_BOTTOM = 40.0
_OUTLIERS = 5
"""The slowest ops, labelled with their latency."""
_LABEL_GAP = 60.0
_POINTS_MAX = 20_000
_COLOURS = {"ok": "#1f77b4", "fail": "#ff7f0e", "info": "#d62728"}
_FAULT_COLOURS = {"kill": "#d62728", "partition": "#f28e2b", "omit": "#9467bd"}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _ms(value: object) -> str:
    return "–" if not isinstance(value, int | float) else f"{value:.2f} ms"


def _plot(summary: dict[str, Any], timeline: list[tuple[float, float | None, str]]) -> str:
    span = max([float(summary.get("time_s", 1.0))] + [t for t, _, _ in timeline]) or 1.0
    latencies = [lat for _, lat, _ in timeline if lat is not None and lat > 0]
    low = max(0.01, min(latencies, default=0.1))
    high = max(latencies, default=10.0) * 1.2
    lo, hi = math.log10(low), math.log10(max(high, low * 10))
    plot_w = _W - _LEFT - _RIGHT
    plot_h = _H - _TOP - _BOTTOM

    def x(t: float) -> float:
        return _LEFT + plot_w * t / span

    def y(lat: float) -> float:
        return _TOP + plot_h * (1 - (math.log10(max(lat, low)) - lo) / (hi - lo))

    parts = [
        f'<svg class="st" xmlns="http://www.w3.org/2000/svg" width="{_W:.0f}" '
        f'height="{_H:.0f}" viewBox="0 0 {_W:.0f} {_H:.0f}">'
    ]
    parts.extend(_faults(summary, x, span))
    step = max(1, len(timeline) // _POINTS_MAX)
    for t, lat, status in timeline[::step]:
        colour = _COLOURS.get(status, "#333")
        cy = _TOP + 2 if lat is None else y(lat)
        parts.append(f'<circle cx="{x(t):.1f}" cy="{cy:.1f}" r="1.3" fill="{colour}"/>')
    parts.append(
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_W - _RIGHT}" '
        f'y2="{_TOP + plot_h}"/><line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" '
        f'y2="{_TOP + plot_h}"/>'
    )
    for exp in range(math.floor(lo), math.ceil(hi) + 1):
        value = 10.0**exp
        if low <= value <= high * 1.01:
            parts.append(
                f'<text class="unit" x="{_LEFT - 4}" y="{y(value) + 3:.1f}">{value:g} ms</text>'
                f'<line class="sep" x1="{_LEFT}" y1="{y(value):.1f}" x2="{_W - _RIGHT}" '
                f'y2="{y(value):.1f}"/>'
            )
    for lat, t in _outliers(timeline, x):
        parts.append(
            f'<text class="unit" x="{x(t) + 3:.1f}" y="{y(lat) - 3:.1f}" '
            f'style="text-anchor: start">{lat:,.0f} ms</text>'
        )
    parts.extend(_time_axis(span, x))
    parts.append(_y_title("latency (ms, log scale)"))
    parts.append("</svg>")
    return "".join(parts)


def _outliers(timeline: list[tuple[float, float | None, str]], x: Any) -> list[tuple[float, float]]:
    """The ``_OUTLIERS`` slowest ops, ``(latency, call time)``, at least ``_LABEL_GAP``
    px apart so that their labels do not overlap."""
    chosen: list[tuple[float, float]] = []
    ranked = sorted(((lat, t) for t, lat, _ in timeline if lat is not None), reverse=True)
    for lat, t in ranked:
        if all(abs(x(t) - x(other)) >= _LABEL_GAP for _, other in chosen):
            chosen.append((lat, t))
            if len(chosen) == _OUTLIERS:
                break
    return chosen


def _nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 × 10^k) that cuts ``[0, top]`` into about ``ticks``."""
    raw = max(top, 1e-9) / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _time_axis(span: float, x: Any) -> list[str]:
    """Ticks and title of the time axis (seconds since the start of the load)."""
    # Ticks at round multiples, each labelled with its own value: span / 10 ticks rounded
    # to whole seconds put the label "2" at 2.4 s and skipped 3 (a 12 s run).
    step = _nice_step(span, ticks=10)
    digits = max(0, -math.floor(math.log10(step)))
    count = int(span / step + 1e-9)
    parts = [
        f'<text class="tick" x="{x(step * i):.1f}" y="{_H - 18:.1f}">{step * i:.{digits}f}</text>'
        for i in range(count + 1)
    ]
    parts.append(
        f'<text class="tick" x="{_LEFT + (_W - _LEFT - _RIGHT) / 2:.1f}" y="{_H - 3:.1f}">'
        "time since the start of the load (s)</text>"
    )
    return parts


def _y_title(text: str) -> str:
    mid = _TOP + (_H - _TOP - _BOTTOM) / 2
    return f'<text class="tick" transform="translate(12 {mid:.1f}) rotate(-90)">{_e(text)}</text>'


def _faults(summary: dict[str, Any], x: Any, span: float) -> list[str]:
    parts = []
    plot_h = _H - _TOP - _BOTTOM
    for fault in summary.get("faults", []):
        start = float(fault["start"])
        end = span if fault["end"] is None else float(fault["end"])
        colour = _FAULT_COLOURS.get(fault["kind"], "#999")
        parts.append(
            f'<rect x="{x(start):.1f}" y="{_TOP:.1f}" width="{max(1.0, x(end) - x(start)):.1f}" '
            f'height="{plot_h:.1f}" fill="{colour}" opacity=".13"/>'
            f'<text x="{x(start) + 3:.1f}" y="{_TOP - 6:.1f}">{_e(fault["kind"])} '
            f"{_e(fault['target'])}</text>"
        )
    return parts


def _availability_plot(summary: dict[str, Any]) -> str:
    """Acknowledged ops per second, one bar per second, against the offered rate."""
    per_second: list[int] = summary.get("acked_per_second") or []
    rate = float(summary.get("rate") or 1.0)
    span = float(len(per_second) or 1)
    top = max([rate, *per_second]) * 1.1
    plot_w = _W - _LEFT - _RIGHT
    plot_h = _H - _TOP - _BOTTOM

    def x(t: float) -> float:
        return _LEFT + plot_w * t / span

    def y(count: float) -> float:
        return _TOP + plot_h * (1 - count / top)

    parts = [
        f'<svg class="st" xmlns="http://www.w3.org/2000/svg" width="{_W:.0f}" '
        f'height="{_H:.0f}" viewBox="0 0 {_W:.0f} {_H:.0f}">',
        *_faults(summary, x, span),
    ]
    bar_w = max(1.0, plot_w / span - 1)
    for second, count in enumerate(per_second):
        colour = _COLOURS["ok"] if count else _COLOURS["info"]
        height = max(1.0, _TOP + plot_h - y(count)) if count else 2.0
        parts.append(
            f'<rect x="{x(second):.1f}" y="{_TOP + plot_h - height:.1f}" width="{bar_w:.1f}" '
            f'height="{height:.1f}" fill="{colour}"><title>{second}–{second + 1} s: {count} '
            "acknowledged</title></rect>"
        )
    parts.append(
        f'<line class="sep" x1="{_LEFT}" y1="{y(rate):.1f}" x2="{_W - _RIGHT}" '
        f'y2="{y(rate):.1f}" stroke-dasharray="4 3"/>'
        f'<text class="unit" x="{_W - _RIGHT}" y="{y(rate) - 3:.1f}">offered {rate:g}/s</text>'
        f'<line class="axis" x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_W - _RIGHT}" '
        f'y2="{_TOP + plot_h}"/><line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" '
        f'y2="{_TOP + plot_h}"/>'
    )
    step = _nice_step(top)
    for i in range(int(top // step) + 1):
        value = step * i
        parts.append(f'<text class="unit" x="{_LEFT - 4}" y="{y(value) + 3:.1f}">{value:g}</text>')
    parts.extend(_time_axis(span, x))
    parts.append(_y_title("acknowledged ops per second"))
    parts.append("</svg>")
    return "".join(parts)


def _seconds(value: object) -> str:
    return "–" if not isinstance(value, int | float) else f"{value:.2f} s"


def _fault_rows(summary: dict[str, Any]) -> str:
    rows = []
    for f in summary.get("faults", []):
        outage = f.get("outage")
        end = "never healed" if f["end"] is None else _seconds(f["end"])
        recover = "–" if f["end"] is None else _seconds(f.get("recover_s"))
        if f["end"] is not None and f.get("recover_s") is None:
            recover = '<span class="bad">no ack after it</span>'
        rows.append(
            f"<tr><td>{_e(f['kind'])}</td><td>{_e(f['target'])}</td>"
            f'<td class="num">{_seconds(f["start"])}</td><td class="num">{end}</td>'
            f'<td class="num">{_seconds(outage and outage["seconds"])}</td>'
            f'<td class="num">{recover}</td></tr>'
        )
    return "".join(rows) or '<tr><td colspan="6">no faults</td></tr>'


def _lost_html(summary: dict[str, Any]) -> str:
    lost = summary.get("lost") or []
    twice = summary.get("duplicated") or []
    if not lost and not twice:
        return ""
    parts = []
    for title, items, count in (
        ("Acknowledged writes lost", lost, summary.get("lost_writes")),
        ("Writes applied twice", twice, summary.get("duplicated_writes")),
    ):
        if not items:
            continue
        shown = f" (the first {len(items)})" if count and count > len(items) else ""
        rows = "".join(f"<tr><td>{_e(key)}</td><td>{_e(value)}</td></tr>" for key, value in items)
        parts.append(
            f"<h2>{title}: {_e(count)}{shown}</h2>"
            f"<table><thead><tr><th>key</th><th>appended value</th></tr></thead>{rows}</table>"
        )
    return "".join(parts)


def configuration_text(config: ClusterConfig) -> str:
    """The cluster's configuration in one line: what the figures were measured on."""
    return (
        f"{config.protocol} ({config.app}), n = {len(config.replicas)}, "
        f"δ = {config.delta_s:g} s, τ = {config.tau_s:g} s, fsync {config.fsync}"
    )


def _role(status: dict[str, Any]) -> str:
    """A Raft replica's own role and term (``leader, term 4``); primary or backup for
    the protocols that have no terms."""
    role = status.get("role")
    if isinstance(role, str):
        term = status.get("term")
        return role if term is None else f"{role}, term {term}"
    return "primary" if status.get("is_primary") else "backup"


def _replicas_table(replicas: object) -> str:
    """The replicas as the test left them: role (or why not live: halted, not answering,
    dead), commands applied, incarnation, and the timing the protocol assumed broken
    (late messages and timers)."""
    if not isinstance(replicas, dict) or not replicas:
        return ""
    rows = []
    for replica, s in replicas.items():
        if not isinstance(s, dict):
            rows.append(f'<tr><td>{_e(replica)}</td><td colspan="5">not answering</td></tr>')
            continue
        timing = s.get("timing")
        if not isinstance(timing, dict):
            timing = {}
        health = s.get("health", "live")
        cells = [
            _role(s) if health == "live" else health,
            s.get("applied", "–"),
            s.get("incarnation", "–"),
            timing.get("late_messages", "–"),
            timing.get("late_timers", "–"),
        ]
        rows.append(
            f"<tr><td>{_e(replica)}</td>"
            + "".join(f'<td class="num">{_e(c)}</td>' for c in cells)
            + "</tr>"
        )
    return (
        "<h2>Replicas at the end</h2><table><thead><tr><th>replica</th><th>role</th>"
        "<th>applied</th><th>incarnation</th><th>late messages</th><th>late timers</th>"
        f"</tr></thead>{''.join(rows)}</table>"
    )


def render_test_report(
    summary: dict[str, Any],
    timeline: list[tuple[float, float | None, str]],
    *,
    title: str,
    cluster: ClusterConfig | None = None,
) -> str:
    """The page for one test: ``summary`` is ``JepsenResult.to_json()``; ``cluster``
    the configuration it ran on (n, δ, τ, fsync: stated on the page)."""
    ok = summary.get("valid")
    verdict_class = "ok" if ok else "bad"
    ops = summary.get("ops", {})
    latency = summary.get("latency_ms", {})
    availability = summary.get("availability")
    gap = summary.get("longest_gap") or {}
    verdict = f'<span class="{verdict_class}">{_e(summary.get("verdict"))}</span>'
    for reason in summary.get("unknown_reasons", []):
        verdict += f"<br>{_e(reason)}"
    timing = summary.get("timing")
    if timing and (late := timing["late_messages"] + timing["late_timers"]):
        verdict += (
            f'<br><span class="bad">δ exceeded {late:,} {"time" if late == 1 else "times"}'
            f"</span>: {_e(timing_consequence(summary))}"
        )
    rows = [
        ("verdict", verdict),
        ("cluster", "–" if cluster is None else _e(configuration_text(cluster))),
        (
            "ops",
            f"offered {ops.get('offered', 0)}, invoked {ops.get('invoked', 0)}: ok "
            f"{ops.get('ok', 0)}, fail {ops.get('fail', 0)}, info {ops.get('info', 0)}",
        ),
        ("acknowledged writes lost", _e(summary.get("lost_writes"))),
        ("writes applied twice", _e(summary.get("duplicated_writes"))),
        (
            "availability (of offered)",
            "–" if availability is None else f"{availability * 100:.2f} %",
        ),
        (
            "longest stretch with no ack",
            f"{_seconds(gap.get('seconds'))} (from {_seconds(gap.get('start'))} to "
            f"{_seconds(gap.get('end'))})",
        ),
        (
            "latency p50 / p99 / max",
            f"{_ms(latency.get('p50'))} / {_ms(latency.get('p99'))} / {_ms(latency.get('max'))}",
        ),
        (
            "workload",
            f"{summary.get('clients')} client processes at the start, {summary.get('keys')} "
            f"keys (run {_e(summary.get('run_id'))}), offered {summary.get('rate')} ops/s for "
            f"{summary.get('time_s')} s; time-outs: op {_seconds(summary.get('op_timeout_s'))}, "
            f"final reads {_seconds(summary.get('final_read_timeout_s'))}, checker "
            f"{_seconds(summary.get('check_timeout_s'))}",
        ),
        ("history", f"<code>{_e(summary.get('history'))}</code>"),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    witness = summary.get("witness_text")
    witness_html = (
        "" if witness is None else f"<h2>Linearizability witness</h2><pre>{_e(witness)}</pre>"
    )
    body = (
        f"<header><h1>{_e(title)}</h1></header>"
        f'<table class="kv">{table}</table>'
        "<h2>Availability over time</h2>"
        '<p class="note">Acknowledged ops in each second of the load, against the offered '
        "rate (dashed); red: a second with none. Shaded: fault windows.</p>"
        f'<div class="diagram">{_availability_plot(summary)}</div>'
        "<h2>Latency over time</h2>"
        '<p class="note">One dot per op at its call time; blue ok, orange fail, red (along '
        f"the top) unknown outcome; the {_OUTLIERS} slowest labelled. Shaded: fault "
        "windows.</p>"
        f'<div class="diagram">{_plot(summary, timeline)}</div>'
        "<h2>Faults</h2><table><thead><tr><th>kind</th><th>target</th><th>from</th>"
        "<th>to</th><th>longest stretch without an ack</th><th>next ack after the heal</th>"
        f"</tr></thead>{_fault_rows(summary)}</table>"
        f"{_replicas_table(summary.get('replicas'))}{witness_html}{_lost_html(summary)}"
        "<footer>Generated by smrkit test.</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def write_test_report(
    path: Path,
    summary: dict[str, Any],
    timeline: list[tuple[float, float | None, str]],
    *,
    title: str,
    cluster: ClusterConfig | None = None,
) -> int:
    data = render_test_report(summary, timeline, title=title, cluster=cluster).encode("utf-8")
    path.write_bytes(data)
    return len(data)
