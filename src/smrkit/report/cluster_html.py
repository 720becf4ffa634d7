"""The HTML report of ``smrkit test`` (a Jepsen-style test of a real cluster).

One self-contained page, in the style of :mod:`smrkit.report.html` (inline CSS and SVG,
no scripts): the verdict and the figures, then latency over time — one dot per op at
its call time, height its latency on a log scale, ops of unknown outcome as marks
along the top — with the fault windows shaded and labelled, then the fault schedule.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from smrkit.net.config import ClusterConfig
from smrkit.report.html import _CSS

_W = 1000.0
_H = 320.0
_LEFT = 56.0
_RIGHT = 16.0
_TOP = 26.0
_BOTTOM = 34.0
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
    ticks = 10
    for i in range(ticks + 1):
        t = span * i / ticks
        parts.append(f'<text class="tick" x="{x(t):.1f}" y="{_H - 14:.1f}">{t:.0f} s</text>')
    parts.append("</svg>")
    return "".join(parts)


def configuration_text(config: ClusterConfig) -> str:
    """The cluster's configuration in one line: what the figures were measured on."""
    return (
        f"{config.protocol} ({config.app}), n = {len(config.replicas)}, "
        f"δ = {config.delta_s:g} s, τ = {config.tau_s:g} s, fsync {config.fsync}"
    )


def _replicas_table(replicas: object) -> str:
    """The replicas as the test left them: role, commands applied, incarnation, and the
    timing the protocol assumed broken (late messages and timers)."""
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
        cells = [
            "primary" if s.get("is_primary") else "backup",
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
    rows = [
        ("verdict", f'<span class="{verdict_class}">{_e(summary.get("verdict"))}</span>'),
        ("cluster", "–" if cluster is None else _e(configuration_text(cluster))),
        (
            "ops",
            f"{ops.get('total', 0)} (ok {ops.get('ok', 0)}, fail {ops.get('fail', 0)}, "
            f"info {ops.get('info', 0)})",
        ),
        ("acknowledged writes lost", _e(summary.get("lost_writes"))),
        ("writes applied twice", _e(summary.get("duplicated_writes"))),
        ("availability", "–" if availability is None else f"{availability * 100:.2f} %"),
        ("latency p50 / p99", f"{_ms(latency.get('p50'))} / {_ms(latency.get('p99'))}"),
        (
            "workload",
            f"{summary.get('clients')} clients, {summary.get('keys')} keys, offered "
            f"{summary.get('rate')} ops/s for {summary.get('time_s')} s",
        ),
        ("history", f"<code>{_e(summary.get('history'))}</code>"),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    faults = (
        "".join(
            f"<tr><td>{_e(f['kind'])}</td><td>{_e(f['target'])}</td>"
            f'<td class="num">{f["start"]:.2f} s</td><td class="num">'
            f"{'never healed' if f['end'] is None else format(f['end'], '.2f') + ' s'}</td></tr>"
            for f in summary.get("faults", [])
        )
        or '<tr><td colspan="4">no faults</td></tr>'
    )
    witness = summary.get("witness")
    witness_html = (
        "" if witness is None else f"<h2>Linearizability witness</h2><pre>{_e(witness)}</pre>"
    )
    body = (
        f"<header><h1>{_e(title)}</h1></header>"
        f'<table class="kv">{table}</table>'
        "<h2>Latency over time</h2>"
        '<p class="note">One dot per op at its call time; blue ok, orange fail, red (along '
        "the top) unknown outcome. Shaded: fault windows.</p>"
        f'<div class="diagram">{_plot(summary, timeline)}</div>'
        "<h2>Faults</h2><table><thead><tr><th>kind</th><th>target</th><th>from</th>"
        f"<th>to</th></tr></thead>{faults}</table>"
        f"{_replicas_table(summary.get('replicas'))}{witness_html}"
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
