"""The HTML report: one self-contained, well-formed page per judged run."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from smrkit.check.evaluate import evaluate, evaluate_run
from smrkit.core.messages import ClientRequest
from smrkit.core.ops import Op
from smrkit.report.html import render_report, write_report
from smrkit.report.summary import run_json
from smrkit.sim.trace import OpaqueMessage, Trace, read_trace
from smrkit.sim.world import SimConfig, run_simulation

Judged = tuple[dict[str, Any], Trace, list[tuple[float, float]]]

Case = tuple[str, int, tuple[str, ...], int]  # protocol, replicas, faults, ops

CRASH: Case = ("pb-crash", 3, ("crash:p1@1.0",), 1000)
SIMPLE_LINK: Case = ("pb-simple", 2, ("link:p1-p2@0.5..0.9",), 1000)
SEND_OMISSION: Case = ("pb-crash", 3, ("send-omission:p1->p2@0.5..0.9",), 1000)
NO_FAULTS: Case = ("pb-crash", 3, (), 500)
BIG: Case = ("pb-crash", 3, ("crash:p1@1.0",), 20000)

VOID = {"meta", "link", "br", "hr", "img", "input", "wbr", "col", "area", "base", "source"}


@cache
def judged(case: Case) -> Judged:
    protocol, replicas, faults, ops = case
    config = SimConfig(protocol=protocol, replicas=replicas, faults=faults, seed=7, ops=ops)
    run = run_simulation(config)
    big = ops > 2000  # keep the test fast: the page only displays the hash and the verdict
    evaluation = evaluate(
        run.trace,
        run.claims,
        tail_s=run.client_timeout_s,
        linearizability_timeout_s=0.2 if big else None,
    )
    trace_hash = "f" * 64 if big else run.trace.trace_hash()
    return run_json(run, evaluation, trace_hash), run.trace, list(evaluation.analysis.gaps)


@cache
def page(case: Case) -> str:
    summary, trace, gaps = judged(case)
    return render_report(summary, trace, gaps)


class _Balance(HTMLParser):
    """Checks that every non-void element is closed, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: dict[str, int] = {}
        self.ends: dict[str, int] = {}
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts[tag] = self.starts.get(tag, 0) + 1
        self.links.extend(v or "" for k, v in attrs if k in ("src", "href", "xlink:href"))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links.extend(v or "" for k, v in attrs if k in ("src", "href", "xlink:href"))

    def handle_endtag(self, tag: str) -> None:
        self.ends[tag] = self.ends.get(tag, 0) + 1
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _parse(text: str) -> _Balance:
    parser = _Balance()
    parser.feed(text)
    parser.close()
    return parser


ALL_RUNS = [CRASH, SIMPLE_LINK, SEND_OMISSION, NO_FAULTS]


@pytest.mark.parametrize("case", ALL_RUNS, ids=lambda c: f"{c[0]}:{','.join(c[2]) or 'none'}")
def test_page_is_well_formed_and_self_contained(case: Case) -> None:
    text = page(case)
    assert text.startswith("<!DOCTYPE html>")
    parser = _parse(text)
    assert parser.errors == []
    assert parser.stack == []
    for tag in ("svg", "table", "section", "g", "figure"):
        assert parser.starts.get(tag, 0) == parser.ends.get(tag, 0), tag
    assert parser.starts["section"] == 5  # configuration, checks, bounds, latency, diagram
    assert parser.starts["svg"] >= 2  # the shared arrowheads, then one per window
    # Nothing to fetch: no scripts or images from elsewhere, links only to the page itself.
    assert "http://" not in text and "https://" not in text
    assert all(link.startswith("#") for link in parser.links), parser.links
    assert re.search(r"url\((?!#)", text) is None
    assert "@import" not in text


def test_crash_report_shows_configuration_checks_and_failover() -> None:
    summary, _, gaps = judged(CRASH)
    text = page(CRASH)
    for name in summary["checks"]:
        assert f"<code>{name}</code>" in text
    assert "all checks hold" in text and "VIOLATED" not in text
    assert "<code>crash:p1@1.0</code>" in text
    assert summary["trace_hash"] in text
    assert "<th>seed</th><td>7</td>" in text
    assert "Measured against bound" in text and "lower bound (Table 1)" in text
    # The diagram: the crash ends p1's lane, p2 takes over, the gap between is shaded.
    assert gaps, "the crash leaves an interval with no primary"
    start, end = gaps[0]
    assert 'class="noprim"' in text
    assert f"no primary from {start:.6f} to {end:.6f} s" in text
    assert "p1 crashed at 1.000000 s" in text
    assert 'class="lane dead"' in text
    assert "p2 primary from" in text
    assert 'class="m m-update"' in text and 'class="m m-heartbeat"' in text
    assert 'class="drop"' in text and ">crashed</text>" in text  # requests sent to dead p1
    assert 'class="inv"' in text and 'class="cpl cpl-ok"' in text


def test_simple_with_link_failure_shows_drops_and_the_witness() -> None:
    summary, _, _ = judged(SIMPLE_LINK)
    text = page(SIMPLE_LINK)
    assert not summary["checks"]["linearizable"]["ok"]
    assert '<td class="bad">VIOLATED</td>' in text
    assert '<pre class="witness">Not linearizable' in text
    assert "<code>link:p1-p2@0.5..0.9</code>" in text
    assert "link is outside the crash model" in text
    assert re.search(r'<g class="drop">.*?✕</text><text class="cause"[^>]*>link</text>', text)
    assert '<g class="fault">' in text


def test_send_omission_drops_are_marked_and_specs_escaped() -> None:
    text = page(SEND_OMISSION)
    assert "send-omission:p1-&gt;p2@0.5..0.9" in text
    assert "send-omission:p1->p2" not in text
    assert ">send-omission</text>" in text
    assert "dropped" in text and "(send-omission)" in text


def test_a_run_without_faults_shows_its_beginning() -> None:
    summary, trace, gaps = judged(NO_FAULTS)
    text = render_report(summary, trace, gaps, events_max=2000)  # the run does not fit
    assert "The first part of the run" in text
    assert "Window 1: 0.0000–" in text
    assert "Truncated" not in text


def test_a_short_run_without_faults_is_drawn_whole() -> None:
    summary, trace, gaps = judged(("pb-crash", 3, (), 40))
    assert len(trace.events) < 4000  # fits in what a page draws
    text = render_report(summary, trace, gaps)
    assert "The whole run" in text and "The first part" not in text
    assert f"–{trace.end_time:.4f} s — the whole run" in text
    assert "Truncated" not in text and "messages not shown" in text


def test_events_max_narrows_the_windows_and_says_so() -> None:
    summary, trace, gaps = judged(CRASH)
    text = render_report(summary, trace, gaps, events_max=150, title="tiny")
    assert "<title>tiny</title>" in text
    assert "Truncated</strong> to at most 150 drawn events" in text
    left_out = re.search(r"leaving out (\d+) message\(s\)", text)
    assert left_out is not None and int(left_out.group(1)) > 0
    drawn = len(re.findall(r'<line class="m ', text))
    assert 0 < drawn <= 150
    assert "p1 crashed at 1.000000 s" in text  # narrowed around the crash, which stays


def test_a_20000_op_run_stays_small(tmp_path: Path) -> None:
    summary, trace, gaps = judged(BIG)
    assert summary["events"] > 100_000
    target = tmp_path / "report.html"
    size = write_report(target, summary, trace, gaps)
    assert size == target.stat().st_size
    assert size < 3_000_000
    # Even with a hundred intervals with no primary all over the run, the page stays small.
    many = [(0.5 * k, 0.5 * k + 0.01) for k in range(1, int(trace.end_time / 0.5))]
    worst = render_report(summary, trace, many)
    assert len(worst.encode()) < 3_000_000
    assert "more window(s)</strong>" in worst and "Truncated</strong>" in worst
    assert _parse(worst).errors == []


def test_a_trace_read_back_from_disk_keeps_message_types(tmp_path: Path) -> None:
    summary, trace, gaps = judged(NO_FAULTS)
    path = tmp_path / "run.trace"
    trace.write(path)
    text = render_report(summary, read_trace(path), gaps)
    assert "<title>Heartbeat #" in text and "<title>Update #" in text
    assert "OpaqueMessage" not in text
    assert 'class="m m-update"' in text


def test_everything_from_the_run_is_escaped() -> None:
    evil = '<script>alert("x")</script>'
    node = "<b>p1</b>"
    header = {"servers": [node], "clients": ["c&1"], "delta_s": 0.01, "tau_s": 0.05}
    request = ClientRequest("c&1", 1, Op("put", "k<1>", evil))
    events = [
        (0.0, "start", node, None, None, None),
        (0.0, "primary", node, None, None, True),
        (0.0, "fault", None, None, None, ("begin", f"link:{evil}@0")),
        (0.001, "send", "c&1", node, 1, request),
        (0.002, "deliver", node, "c&1", 1, request),
        (0.003, "send", node, "c&1", 2, OpaqueMessage("Od<d>", (("note", evil),))),
        (0.004, "drop", "c&1", node, 2, evil),
        (0.005, "crash", node, None, None, evil),
        (0.005, "primary", node, None, None, False),
        (0.01, "end", None, None, None, None),
    ]
    summary = {
        "protocol": evil,
        "faults": [f"link:{evil}@0"],
        "admissibility": [evil],
        "trace_hash": evil,
        "checks": {evil: {"ok": False, "summary": evil, "witness": None}},
        "measured": {},
        "target": {},
        "bound": {"failure_model": evil},
    }
    text = render_report(summary, Trace(header, events), [(0.005, 0.01)], title=evil)
    assert text.count("<script") == 1  # the diagrams' zoom, nothing from the run
    assert "<b>" not in text and "<d>" not in text and "k<1>" not in text
    assert "&lt;script&gt;" in text and "&lt;b&gt;p1&lt;/b&gt;" in text and "c&amp;1" in text
    parser = _parse(text)
    assert parser.errors == [] and parser.stack == []


def test_a_raft_page_shows_its_own_figures_not_table_1() -> None:
    """Table 1's failover and blocking mean nothing for Raft: its page shows the
    elections and the commit latency the run measured instead."""
    faults = ("crash:p1@0.5",)
    config = SimConfig(protocol="raft", replicas=3, faults=faults, seed=7, ops=200)
    run = run_simulation(config)
    evaluation = evaluate_run(run)
    summary = run_json(run, evaluation, run.trace.trace_hash())
    text = render_report(summary, run.trace, list(evaluation.analysis.gaps))
    assert "<h2>Measured</h2>" in text
    assert "lower bound (Table 1)" not in text
    assert "<th>commit latency</th>" in text and "<th>elections</th>" in text
    assert not _parse(text).errors
