"""The HTML report of an agreement run (``smrkit sim --html`` on a seed 002 protocol,
``smrkit rounds --html``, an explored path of a lock-step model): the verdicts, then the
round diagram (:mod:`smrkit.report.round_diagram`) — or, for a run outside lock-step
(``ben-or`` under ``async``, ``paxos-timeouts`` under ``partial-sync``, a round protocol
run under another timing), whose rounds are the protocol's own and not the timing's,
the decisions and the space-time diagram (:func:`smrkit.report.html.space_time_section`)
instead of a grid whose every message would sit in one "start" column."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from smrkit.check.agreement_run import first_decisions
from smrkit.report.document import document
from smrkit.report.html import space_time_section
from smrkit.report.round_diagram import CSS as DIAGRAM_CSS
from smrkit.report.round_diagram import grid, render
from smrkit.sim.kernel.records import Record
from smrkit.sim.trace import Trace


def round_page(
    title: str,
    facts: Sequence[tuple[str, str]],
    checks: dict[str, dict[str, Any]],
    records: Sequence[Record],
    processes: Sequence[str],
    byzantine: Sequence[str] = (),
    notes: Sequence[str] = (),
    notes_title: str = "",
    diagram: tuple[str, str] | None = None,
    steps: bool = False,
) -> str:
    """A page: ``facts`` (label, text), the checks' verdicts, ``notes`` (paragraphs of
    plain text) and the round diagram of ``records`` — or, given ``diagram`` (its CSS
    and HTML: a run outside lock-step, which has no rounds to draw), the processes'
    decisions (``steps``: timed in steps) and that diagram."""
    body = [f"<h1>{html.escape(title)}</h1>", '<table class="summary">']
    body += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts]
    body.append("</table>")
    if checks:
        body.append('<h2>Checks</h2><table class="summary">')
        for name, check in checks.items():
            cls = "v-ok" if check["ok"] else "v-bad"
            word = "ok" if check["ok"] else "VIOLATED"
            detail = check.get("detail", check.get("summary", ""))
            body.append(
                f'<tr><th>{html.escape(name)}</th><td><span class="verdict {cls}">{word}</span> '
                f"{html.escape(str(detail))}</td></tr>"
            )
        body.append("</table>")
    if notes_title:
        body.append(f"<h2>{html.escape(notes_title)}</h2>")
    body += [f'<p class="note">{html.escape(note)}</p>' for note in notes]
    if diagram is not None:
        css, section = diagram
        body += [_decisions(records, processes, byzantine, steps), section]
        return document(title, css + _CSS, body)
    body.append("<h2>Rounds</h2>")
    flagged = {
        p for check in checks.values() if not check["ok"] for p in check.get("processes", [])
    }
    body.append(render(grid(records, processes, byzantine), flagged))
    return document(title, _CSS + DIAGRAM_CSS, body)


def _decisions(
    records: Sequence[Record], processes: Sequence[str], byzantine: Sequence[str], steps: bool
) -> str:
    """Each process's first decision, for a page whose diagram does not draw them: when,
    in steps (``async``, which has no clock) or virtual seconds."""

    def when(t: float) -> str:
        return f"step {t:g}" if steps else f"{t:.4f} s"

    first = first_decisions(records)
    rows = []
    for p in processes:
        tag = ' <span class="byz">Byzantine</span>' if p in byzantine else ""
        record = first.get(p)
        decided = "—" if record is None else f"{record.data!r} at {when(record.t)}"
        rows.append(f"<tr><th>{html.escape(p)}{tag}</th><td>{html.escape(decided)}</td></tr>")
    return '<h2>Decisions</h2><table class="summary">' + "".join(rows) + "</table>"


def write_round_report(path: Path, summary: dict[str, Any], trace: Trace) -> None:
    """``smrkit sim --html`` for an agreement run: ``summary`` is its JSON."""
    facts = [
        ("protocol", str(summary["protocol"])),
        ("processes", f"n = {summary['replicas']}, f = {summary['f']}"),
        ("faults", ", ".join(summary["faults"]) or "none"),
        ("decided by round", str(summary["decided_round_max"])),
        ("trace", str(summary["trace_hash"])[:16]),
    ]
    lock_step = trace.header.get("timing") == "lock-step"
    if not lock_step:
        facts[3] = ("timing", f"{trace.header.get('timing')}: no lock-step rounds")
    page = round_page(
        f"smrkit sim — {summary['protocol']}",
        facts,
        summary["checks"],
        trace.events,
        trace.servers,
        sorted(trace.byzantine),
        diagram=None if lock_step else space_time_section(trace),
        steps=trace.header.get("timing") == "async",
    )
    path.write_text(page, encoding="utf-8")


_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330;
  margin: 0 auto; padding: 16px 22px; max-width: 1500px; }
h1 { font-size: 20px; margin: 4px 0 10px; }
h2 { font-size: 17px; margin: 22px 0 8px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
table.summary th { text-align: left; padding-right: 14px; color: #555; font-weight: 600;
  vertical-align: top; }
.verdict { font-weight: 700; padding: 1px 8px; border-radius: 4px; }
.v-ok { background: #d9f2dc; color: #1b5e20; }
.v-bad { background: #fbd9d9; color: #a31515; }
.note { margin: 6px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12.5px; margin: 4px 0 8px; }
.legend .sw { display: inline-block; width: 22px; height: 11px; margin-right: 5px;
  vertical-align: -1px; border: 1px solid #888; border-radius: 2px; }
"""
