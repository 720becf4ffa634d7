"""A checked history as one self-contained HTML page (``check-history --html``).

The page answers, top to bottom: what was checked (the source, the model, the initial
state, the ops by outcome), the verdict and how it was reached (per partition: decided or
not, by which search order, in how many steps), and then the picture — Porcupine's
visualization is the model, with more in it:

* one key at a time, a lane per process, a bar per op on a time axis that zooms (the
  buttons, or Ctrl + wheel) and pans (drag, Shift + wheel, or the overview strip), so a
  history of 100,000 ops stays readable; an axis of event order instead of time spreads
  out ops that are close in time;
* the linearization, or the longest linearizable prefix found, in green, each op
  numbered in linearization order, with a dot where it can take effect and a line
  through the dots in order; the ops that cannot follow the prefix in red, the one that
  returned first outlined; ops of unknown outcome fading out to the end;
* a table of the steps — each linked to its bar — with the model state after each one,
  and the stuck ops with the output the model would have given.

Nothing is fetched: the style, the script and the data are inline. All text from the
history is escaped (in the HTML here, and by the script, which sets text, never markup).
"""

from __future__ import annotations

import html
import json

from smrkit import __version__
from smrkit.check.history import History
from smrkit.check.linearizability import LinearizabilityResult
from smrkit.report.document import document
from smrkit.report.history_diagram import diagram_data, script, short

_VERDICT_TEXT = {
    "linearizable": "linearizable",
    "violation": "not linearizable",
    "unknown": "unknown — the search did not finish",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_history_page(
    history: History, result: LinearizabilityResult, *, time_unit: str = "time"
) -> str:
    """The page for ``history`` as checked in ``result``."""
    source = history.source or "history"
    title = f"{source}: {_VERDICT_TEXT[result.verdict]}"
    data = json.dumps(diagram_data(result, time_unit=time_unit), separators=(",", ":"))
    # No "<" at all in the data block: no string in it can end or confuse the script.
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    body = [
        f"<header><h1>{_e(source)}</h1>{_summary(history, result)}</header>",
        _witness(result),
        _diagram(),
        f"<footer>smrkit {_e(__version__)} check-history. Porcupine's visualization "
        "(github.com/anishathalye/porcupine) is the model for this page.</footer>",
        f'<script type="application/json" id="history-data">{data}</script>',
        f"<script>{script()}</script>",
    ]
    return document(title, _CSS, body)


def _summary(history: History, result: LinearizabilityResult) -> str:
    counts = history.counts()
    decided = {
        verdict: sum(1 for part in result.details if part.verdict == verdict)
        for verdict in ("linearizable", "violation", "unknown")
    }
    parts = ", ".join(f"{n} {verdict}" for verdict, n in decided.items() if n)
    rows = [
        ("verdict", f'<span class="verdict v-{result.verdict}">{_e(_VERDICT_TEXT[result.verdict])}'
         "</span>"),
        ("model", f"{_e(history.model)}, every {'key' if len(result.details) > 1 else 'partition'} "
         f"starting from <code>{_e(short(result.initial))}</code>"),
        ("ops", f"{counts['invoked']} invoked: {counts['ok']} ok, {counts['info']} info "
         f"(outcome unknown), {counts['fail']} fail"),
        ("partitions", f"{len(result.details)}{': ' + parts if parts else ''}"),
        ("checked in", f"{result.seconds:.3f} s"),
    ]  # fmt: skip
    if counts["ok"] == 0:
        rows.append(("note", "no op completed ok, so the verdict says nothing about the system"))
    cells = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    return f'<table class="summary">{cells}</table>'


def _witness(result: LinearizabilityResult) -> str:
    if result.witness is None:
        return ""
    return (
        '<section><h2>Why it is not linearizable</h2><pre class="witness">'
        f"{_e(result.witness.render())}</pre></section>"
    )


def _diagram() -> str:
    return """<section id="diagram"><h2>The history</h2>
<div class="controls">
  <label>Partition <select id="partition"></select></label>
  <button id="zoom-in" title="zoom in (or Ctrl + wheel)">+</button>
  <button id="zoom-out" title="zoom out">−</button>
  <button id="pan-left" title="earlier (or drag, or Shift + wheel)">◀</button>
  <button id="pan-right" title="later">▶</button>
  <button id="fit" title="the whole partition">fit</button>
  <button id="go-stuck" title="where the search got stuck">go to the stuck point</button>
  <label>Axis <select id="axis-mode"><option value="time">time</option>
  <option value="order">event order</option></select></label>
</div>
<p id="part-summary" class="muted"></p>
<div class="legend">
  <span><i class="sw r-step"></i>linearized (numbered in order; dots where they take effect)</span>
  <span><i class="sw r-stuck"></i>cannot take effect next</span>
  <span><i class="sw r-blocking"></i>… and returned first</span>
  <span><i class="sw r-open"></i>not reached</span>
  <span><i class="sw s-info"></i>outcome unknown (info)</span>
  <span><i class="sw s-fail"></i>failed / left out</span>
</div>
<svg id="overview" class="overview"></svg>
<div class="frame">
  <div class="names"><div id="lane-names"></div></div>
  <div id="lanes" class="lanes"><svg id="diagram-svg"></svg></div>
</div>
<p id="view-note" class="muted"></p>
<div id="details" class="details"></div>
<h3 id="steps-title"></h3>
<table class="steps"><thead><tr><th>step</th><th>op</th><th>at</th>
<th>state after / why not</th></tr></thead><tbody id="steps-body"></tbody></table>
<div id="tooltip" class="tooltip"></div>
</section>"""


_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2330;
  margin: 0 auto; padding: 16px 22px; max-width: 1500px; }
h1 { font-size: 20px; margin: 4px 0 10px; word-break: break-all; }
h2 { font-size: 17px; margin: 22px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
code, pre, .state { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
table.summary th { text-align: left; padding-right: 14px; color: #555; font-weight: 600; }
.verdict { font-weight: 700; padding: 1px 8px; border-radius: 4px; }
.v-linearizable { background: #d9f2dc; color: #1b5e20; }
.v-violation { background: #fbd9d9; color: #a31515; }
.v-unknown { background: #fff1c7; color: #7a5a00; }
pre.witness { background: #f7f7f9; border: 1px solid #e2e2e8; padding: 10px; overflow-x: auto;
  font-size: 12.5px; white-space: pre; }
.controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-bottom: 6px; }
.controls button { font-size: 13px; padding: 2px 9px; }
.muted { color: #667; font-size: 13px; margin: 4px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12.5px; margin: 4px 0 8px; }
.legend .sw { display: inline-block; width: 22px; height: 11px; margin-right: 5px;
  vertical-align: -1px; border: 1px solid #888; border-radius: 2px; }
.legend .r-step { background: #c9eccd; border-color: #2e7d32; }
.legend .r-stuck { background: #f9cfcf; border-color: #c62828; }
.legend .r-blocking { background: #f9cfcf; border: 3px solid #8e0000; height: 7px; }
.legend .r-open { background: #dce6f4; border-color: #7890b8; }
.legend .s-info { background: #eceef2; border: 1px dashed #9aa0ab; }
.legend .s-fail { background: #fff; border: 1px dashed #b9bdc6; }
.overview { display: block; border: 1px solid #d6d8e0; background: #fafbfd; cursor: pointer;
  margin-left: 96px; }
.overview .density { fill: #9aa7c2; }
.overview .done { fill: #dff3e1; }
.overview .stuck-mark { stroke: #d32f2f; stroke-width: 2; }
.overview .viewport { fill: rgba(40, 90, 200, 0.12); stroke: #2f5fc4; stroke-width: 1.2; }
.frame { display: flex; border: 1px solid #d6d8e0; max-height: min(70vh, 760px);
  margin-top: 4px; }
.names { width: 96px; flex: none; overflow: hidden; border-right: 1px solid #d6d8e0;
  background: #fafbfd; position: relative; }
#lane-names { position: relative; }
.lane-name { position: absolute; left: 4px; right: 4px; height: 22px; line-height: 22px;
  font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.lanes { flex: 1; overflow-y: auto; overflow-x: hidden; cursor: grab; user-select: none; }
.lanes:active { cursor: grabbing; }
#diagram-svg { display: block; }
.stripe { fill: #f6f7fa; }
.grid { stroke: #e3e5ec; }
.tick { font-size: 11px; fill: #556; }
.bar { stroke-width: 1; cursor: pointer; }
.s-ok, .r-open { fill: #dce6f4; stroke: #7890b8; }
.r-step { fill: #c9eccd; stroke: #2e7d32; }
.r-stuck { fill: #f9cfcf; stroke: #c62828; }
.r-blocking { fill: #f9cfcf; stroke: #8e0000; stroke-width: 3; }
.s-info { fill: #eceef2; stroke: #9aa0ab; stroke-dasharray: 4 3; }
.s-info.r-step { fill: #e3f4e5; stroke: #2e7d32; }
.s-fail, .s-left { fill: #ffffff; stroke: #b9bdc6; stroke-dasharray: 2 2; }
.selected { stroke: #111 !important; stroke-width: 2.5 !important; }
.bar-label { font-size: 10.5px; fill: #1d2330; pointer-events: none; }
.stuck-label { fill: #8e0000; font-weight: 600; }
.order { stroke: #2e7d32; stroke-width: 1.1; opacity: 0.7; pointer-events: none; }
.point { fill: #1b5e20; cursor: pointer; }
.details { margin-top: 8px; min-height: 40px; }
.details th { text-align: left; color: #555; padding-right: 12px; vertical-align: top;
  white-space: nowrap; }
.details td { font-family: ui-monospace, Menlo, monospace; font-size: 12.5px;
  word-break: break-all; }
table.steps { border-collapse: collapse; width: 100%; font-size: 12.5px; }
table.steps th, table.steps td { border-bottom: 1px solid #eceef2; padding: 3px 6px;
  text-align: left; vertical-align: top; }
table.steps td.state { word-break: break-all; }
table.steps tr[data-op]:hover { background: #f1f5ff; cursor: pointer; }
tr.stuck-row td { background: #fdeaea; }
.tooltip { position: fixed; display: none; background: #1d2330; color: #fff; font-size: 12px;
  padding: 5px 8px; border-radius: 4px; white-space: pre-wrap; max-width: 560px;
  pointer-events: none; z-index: 10; font-family: ui-monospace, Menlo, monospace; }
footer { margin-top: 26px; color: #889; font-size: 12px; }
@media print { .controls, .overview, .tooltip { display: none; } .frame { height: auto; } }
"""
