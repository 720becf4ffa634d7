"""The page of ``smrkit flp --html``: Lemma 1's table of X_0 … X_n and the run drawn as a
space-time diagram — one column per node, time flowing down, one row per move of the
adversary, an arrow from each message's send to its delivery — with each configuration's
valency in the margin, the C_i reached by Lemma 2 marked, and every decision (there is
none in a run that shows the theorem)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from smrkit.explore.flp.configuration import describe
from smrkit.explore.flp.lemma2 import Run
from smrkit.report.document import document
from smrkit.sim.kernel import Crash, Deliver, Fire, Start

COLORS = {
    "ambiguous": "#d99a00",
    "0-valent": "#2f6fb3",
    "1-valent": "#b33a2f",
    "violation": "#8b008b",
    "no decision": "#666666",
    "unknown": "#999999",
}

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 16px; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
pre { background: #f6f6f6; padding: 8px; }
table.figures th { background: #f6f6f6; font-weight: 600; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; }
"""

ROW = 22
COLUMN = 150
MARGIN = 190


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def diagram(run: Run) -> str:
    """The run as an SVG space-time diagram."""
    ids = list(run.setup.ids)
    x = {node: MARGIN + 40 + COLUMN * k for k, node in enumerate(ids)}
    height = ROW * (len(run.moves) + 3)
    width = MARGIN + 80 + COLUMN * len(ids)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="system-ui, sans-serif" font-size="11">',
        '<defs><marker id="head" markerWidth="8" markerHeight="8" refX="7" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#444"/></marker></defs>',
    ]
    for node in ids:
        name = f"{node} (two-faced)" if node == run.setup.byzantine else node
        parts.append(
            f'<text x="{x[node]}" y="14" text-anchor="middle" font-weight="bold">{name}</text>'
            f'<line x1="{x[node]}" y1="20" x2="{x[node]}" y2="{height - 8}" stroke="#bbb"/>'
        )
    lemma2 = set(run.lemma2_steps)
    decided = {k: (node, value) for k, node, value in run.decided_at}
    for k, (event, label) in enumerate(zip(run.events, run.labels, strict=True)):
        y = ROW * (k + 2)
        color = COLORS.get(label, "#999999")
        mark = f" C{run.lemma2_steps.index(k) + 1}" if k in lemma2 else ""
        parts.append(
            f'<rect x="4" y="{y - 11}" width="12" height="12" fill="{color}"/>'
            f'<text x="22" y="{y}">{k + 1:>3} {_esc(label)}{_esc(mark)}</text>'
            f"<title>{_esc(describe(run.moves[k]))}</title>"
        )
        if isinstance(event, Deliver):
            sent = ROW * (int(event.sent_at) + 1)
            parts.append(
                f'<line x1="{x[event.src]}" y1="{sent}" x2="{x[event.dst]}" y2="{y - 4}" '
                f'stroke="{color}" stroke-width="1.3" marker-end="url(#head)">'
                f"<title>{_esc(describe(run.moves[k]))}, age {run.ages[k]}</title></line>"
            )
            parts.append(
                f'<text x="{x[event.dst] + 6}" y="{y}">{_esc(type(event.msg).__name__)}</text>'
            )
        elif isinstance(event, Fire):
            parts.append(
                f'<circle cx="{x[event.node]}" cy="{y - 4}" r="5" fill="none" stroke="{color}"/>'
                f'<text x="{x[event.node] + 8}" y="{y}">fire {_esc(event.timer)}</text>'
            )
        elif isinstance(event, Start):
            parts.append(
                f'<rect x="{x[event.node] - 5}" y="{y - 9}" width="10" height="10" '
                f'fill="{color}"/><text x="{x[event.node] + 8}" y="{y}">start</text>'
            )
        elif isinstance(event, Crash):
            node = event.fault.node
            parts.append(
                f'<text x="{x[node]}" y="{y}" text-anchor="middle" font-size="16" '
                f'fill="#c00">✕</text><text x="{x[node] + 10}" y="{y}">crash</text>'
            )
        if k in decided:
            node, value = decided[k]
            parts.append(
                f'<text x="{x[node] - 8}" y="{y}" text-anchor="end" font-weight="bold" '
                f'fill="#c00">decides {value}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def flp_page(summary: dict[str, Any], run: Run | None) -> str:
    rows = "".join(
        f"<tr><td>X_{item['i']}</td><td>{''.join(str(v) for v in item['inputs'])}</td>"
        f"<td>{_esc(item['byzantine'] or '—')}</td>"
        f"<td>{_esc(item['text'])}</td><td>{item['explored']}</td></tr>"
        for item in summary["inputs"]
    )
    violation = summary["violation"]
    shown = summary["run"] if violation is None else violation["run"]
    head = (
        f"safety broken: {violation['property']}"
        if violation is not None
        else "no correct node decides"
        if shown is not None and not shown["decided"]
        else "the theorem is not shown"
    )
    legend = "".join(
        f'<span><i style="background:{color}"></i>{_esc(label)}</span>'
        for label, color in COLORS.items()
    )
    body = [
        f"<h1>FLP on {_esc(summary['protocol'])}, n = {summary['replicas']}: {_esc(head)}</h1>",
        f"<p>adversary: {_esc(summary['adversary'])}; {summary['configurations']} "
        f"configurations explored in {summary['seconds']} s</p>",
        "<h2>Lemma 1</h2>",
        "<table><tr><th></th><th>inputs</th><th>two-faced</th><th>valency</th><th>explored</th>"
        f"</tr>{rows}</table>",
    ]
    if shown is not None and run is not None:
        decided = ", ".join(shown["decided"]) or "none"
        figures = [
            ("moves", shown["steps"]),
            ("deliveries", shown["deliveries"]),
            ("applications of Lemma 2", shown["lemma2_applications"]),
            ("oldest message when delivered (moves)", shown["max_message_age"]),
            ("mean message age when delivered (moves)", shown["mean_message_age"]),
            ("undelivered at the end", shown["undelivered_at_end"]),
            ("how the run ends", shown["end"]),
            ("nodes that decided", decided),
        ]
        table = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in figures)
        body += [
            "<h2>The run</h2>",
            f'<table class="figures">{table}</table>',
            f'<p class="legend">{legend}</p>',
            diagram(run),
        ]
    return document(f"smrkit flp {summary['protocol']}", CSS, body)


def write_flp_page(path: Path, summary: dict[str, Any], run: Run | None) -> None:
    path.write_text(flp_page(summary, run), encoding="utf-8")
