"""Table 1 as smrkit measured it: a text table and a self-contained HTML page.

Each row puts the paper's lower bounds beside what smrkit's protocol for that failure
model achieved (its promise, and the worst case measured over the sweep), and says what
happened with one server fewer than the bound.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.1f}"


def _triple(row: dict[str, Any], figure: str) -> str:
    lower, target, worst = (row[f"{figure}_s_{part}"] for part in ("lower", "target", "max"))
    return f"{_ms(lower)} / {_ms(target)} / {_ms(worst)}"


def _below(row: dict[str, Any]) -> str:
    below = row["below_bound"]
    if below is None:
        return "—"
    if below["violation"] is None:
        return f"{below['replicas']}: none found"
    return f"{below['replicas']}: {below['violation']}"


def _counterexample(row: dict[str, Any]) -> str | None:
    below = row["below_bound"]
    if below is None:
        return None
    head = f"{row['model']}, f={row['f']}, n={below['replicas']}: "
    if below["violation"] is None:
        return head + (below["note"] or "no counterexample found")
    replay = "" if below["trace"] is None else f" — smrkit replay {below['trace']}"
    return f"{head}{below['violation']} broken by {' '.join(below['faults'])}{replay}"


def _status(row: dict[str, Any]) -> str:
    below = row["below_bound"]
    found = below is None or below["violation"] is not None
    if row["within_targets"] and found:
        return "ok"
    problems = []
    if row["runs_failed"]:
        problems.append(f"{row['runs_failed']} runs failed")
    elif not row["within_targets"]:
        problems.append("over target")
    if not found:
        problems.append("no counterexample")
    return ", ".join(problems)


HEADER = (
    ("model", "<"),
    ("f", ">"),
    ("protocol", "<"),
    ("n", ">"),
    ("≥", ">"),
    ("blocking ≥", ">"),
    ("target", ">"),
    ("max", ">"),
    ("failover ≥", ">"),
    ("target", ">"),
    ("max", ">"),
    ("runs ok", ">"),
    ("n − 1", "<"),
    ("", "<"),
)


def table_lines(rows: Sequence[dict[str, Any]], *, delta_s: float, tau_s: float) -> list[str]:
    """Table 1 as plain text lines (fixed columns: they survive pipes and READMEs)."""
    cells: list[tuple[str, ...]] = []
    for row in rows:
        runs = row["seeds"] + row["aimed_plans"]
        cells.append(
            (
                row["model"]
                + (" †" if row["assumes_d_below_gamma"] else "")
                + ("" if row["known_tight"] else " *"),
                str(row["f"]),
                row["protocol"],
                str(row["replicas"]),
                str(row["replicas_min"]),
                _ms(row["blocking_s_lower"]),
                _ms(row["blocking_s_target"]),
                _ms(row["blocking_s_max"]),
                _ms(row["failover_s_lower"]),
                _ms(row["failover_s_target"]),
                _ms(row["failover_s_max"]),
                f"{runs - row['runs_failed']}/{runs}",
                _below(row),
                _status(row),
            )
        )
    names = tuple(name for name, _ in HEADER)
    widths = [max(len(r[i]) for r in [names, *cells]) for i in range(len(HEADER))]

    def line(values: Sequence[str]) -> str:
        parts = [f"{v:{align}{w}}" for v, (_, align), w in zip(values, HEADER, widths, strict=True)]
        return "  ".join(parts).rstrip()

    lines = [
        f"Table 1 of seed 001, reproduced: δ = {delta_s * 1000:g} ms, τ = {tau_s * 1000:g} ms, "
        "times in ms (bound ≥, our target, max measured)",
        line(names),
        "  ".join("─" * w for w in widths),
        *(line(c) for c in cells),
        "† assumes D < Γ; * bound not known to be tight; runs ok: random + aimed fault plans "
        "with every check green;",
        "n − 1: what broke with one server fewer than the bound (replicas: property)",
    ]
    examples = [example for example in map(_counterexample, rows) if example is not None]
    if examples:
        lines.append("Counterexamples with one server fewer than the bound:")
        lines.extend(f"  {example}" for example in examples)
    return lines


def _majority_html(rows: Sequence[dict[str, Any]]) -> str:
    """The majority rows (:mod:`smrkit.explore.majority_bounds`): what n = 2f breaks."""
    e = html.escape
    head = (
        "<tr><th>protocol</th><th>n</th><th>f</th><th>faults</th><th>n &gt; 2f</th>"
        "<th>sides (commits after the faults)</th><th>status</th></tr>"
    )
    body = []
    for row in rows:
        sides = "<br>".join(
            f"{e('+'.join(side['servers']))}: {side['commits']}"
            + ("" if side["ok"] else f" (expected {e(side['expected'])})")
            for side in row["sides"]
        )
        ok = bool(row["ok"])
        cells = [
            e(row["protocol"]),
            str(row["n"]),
            str(row["f"]),
            f"{e(row['fault'])} (leader {e(row['leader_hit'] or '?')})",
            "holds" if row["bound_holds"] else "broken",
            sides,
            f'<span class="{"ok" if ok else "bad"}">'
            f"{'ok' if ok else 'CONTRADICTS THE BOUND'}</span>",
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        "<h2>Majority replication (seed 003: n &gt; 2f), measured</h2>\n<p>f faults hit "
        "the servers at once, the leader among them; a side commits if and only if it "
        "holds more than n/2 servers. Commits: entries committed there after the faults "
        "settled.</p>\n"
        f'<table class="majority">\n{head}\n' + "\n".join(body) + "\n</table>\n"
    )


def render_html(
    rows: Sequence[dict[str, Any]],
    *,
    delta_s: float,
    tau_s: float,
    majority: Sequence[dict[str, Any]] = (),
) -> str:
    """The page of ``smrkit bounds``: Table 1 reproduced (``rows``), then the majority
    rows, each left out when there are none."""
    e = html.escape
    head = (
        "<tr><th>model</th><th>f</th><th>protocol</th><th>n</th><th>n bound</th>"
        "<th>blocking bound</th><th>target</th><th>max</th><th>failover bound</th>"
        "<th>target</th><th>max</th><th>runs ok</th><th>one server fewer</th><th>trace</th>"
        "<th>status</th></tr>"
    )
    body = []
    for row in rows:
        runs = row["seeds"] + row["aimed_plans"]
        below = row["below_bound"] or {}
        trace = below.get("trace")
        status = _status(row)
        cells = [
            e(row["model"]),
            str(row["f"]),
            e(row["protocol"]),
            str(row["replicas"]),
            f"≥ {row['replicas_min']}",
            _ms(row["blocking_s_lower"]),
            _ms(row["blocking_s_target"]),
            _ms(row["blocking_s_max"]),
            _ms(row["failover_s_lower"]),
            _ms(row["failover_s_target"]),
            _ms(row["failover_s_max"]),
            f"{runs - row['runs_failed']}/{runs}",
            e(_below(row)),
            "" if trace is None else f"<code>{e(trace)}</code>",
            f'<span class="{"ok" if status == "ok" else "bad"}">{e(status)}</span>',
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>smrkit bounds</title>\n<style>"
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:right}td:nth-child(1),td:nth-child(3),td:nth-child(13){text-align:left}"
        ".ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}"
        ".majority td{text-align:left}"
        "</style>\n</head>\n<body>\n"
        + (
            f"<h1>Table 1 of seed 001, reproduced</h1>\n<p>δ = {delta_s * 1000:g} ms, "
            f"τ = {tau_s * 1000:g} ms; times in milliseconds. Each counterexample trace "
            "replays with <code>smrkit replay TRACE --html FILE</code>.</p>\n"
            f"<table>\n{head}\n" + "\n".join(body) + "\n</table>\n"
            if rows
            else ""
        )
        + (_majority_html(majority) if majority else "")
        + "</body>\n</html>\n"
    )
