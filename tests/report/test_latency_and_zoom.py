"""The sim report's latency plot (axis titles, the slowest commands labelled, commands
never answered counted) and its diagrams (the whole window in view, the fault's place
known to the zoom) — issue 9, §5."""

from __future__ import annotations

import re

from smrkit.check.evaluate import evaluate_run
from smrkit.report.html import render_report
from smrkit.report.latency_plot import commands, latency_section
from smrkit.report.summary import run_json
from smrkit.sim.world import SimConfig, run_simulation


def _page(config: SimConfig) -> str:
    run = run_simulation(config)
    evaluation = evaluate_run(run)
    summary = run_json(run, evaluation, run.trace.trace_hash())
    return render_report(summary, run.trace, evaluation.analysis.gaps)


CRASH = SimConfig(protocol="pb-crash", replicas=3, faults=("crash:p1@0.5",), ops=400, seed=7)


def test_the_latency_plot_has_axis_titles_and_labels_the_slowest() -> None:
    run = run_simulation(CRASH)
    found = commands(run.trace)
    assert len(found) == 400 and all(c.latency is not None for c in found)
    slowest = max(c.latency or 0.0 for c in found)
    section = latency_section(run.trace, [], [("crash:p1@0.5", 0.5, None)])
    assert "time of the call (virtual seconds)" in section and "latency (ms)" in section
    label = f"{slowest * 1000:.1f} ms"
    assert re.search(rf'<text class="outlier"[^>]*>{re.escape(label)}</text>', section)
    assert "400 answered, 0 never answered" in section
    # The crash sits in the plot as a dashed line, where the slow answers are.
    assert '<line class="fault-edge"' in section and "crash:p1@0.5" in section


def test_commands_never_answered_are_counted_and_drawn() -> None:
    """The plot says bad: a service that is gone leaves commands with no reply."""
    dead = SimConfig(protocol="pb-crash", replicas=1, faults=("crash:p1@0.3",), ops=200)
    run = run_simulation(dead)
    found = commands(run.trace)
    unanswered = sum(1 for c in found if c.latency is None)
    assert unanswered >= 1
    section = latency_section(run.trace, [], [])
    assert f"{unanswered} never answered" in section
    assert section.count('<g class="noreply">') == unanswered


def test_the_diagram_fits_its_column_and_knows_where_the_fault_is() -> None:
    text = _page(CRASH)
    assert ".diagram svg.st { max-width: 100%; height: auto;" in text  # nothing cut off
    anchors = [float(a) for a in re.findall(r'data-anchor="([0-9.]+)"', text)]
    assert anchors and all(0.0 < a < 1.0 for a in anchors)
    # The window is drawn around the crash: its time axis holds the crash instant, and
    # the anchor is where the crash is drawn.
    window = re.search(r"Window 1: ([0-9.]+)–([0-9.]+) s", text)
    assert window is not None and float(window[1]) < 0.5 < float(window[2])
    assert text.count("<script>") == 1 and 'button("fault"' in text
