"""The hexagon construction (:mod:`smrkit.explore.hexagon`) as JSON and as text.

The JSON object is a contract: ``protocol``, ``replicas``, ``f``, ``applies`` (false when
n > 3f), ``groups``, ``views_identical``, ``broken`` (each property lost, as
``"agreement in C"``), ``demonstrates``, ``ring`` (rounds and each copy's decision) and
``scenarios`` (per scenario: the correct processes and their proposals, the Byzantine ones
and the ring copy each plays towards each correct process, the decisions, the checks, and
the view comparisons: process, ring copy, entries, and where they first differ).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from smrkit.explore.hexagon import POSITIONS, HexagonResult, Scenario, ViewComparison, ViewEntry
from smrkit.sim.trace import encode


def _entry_json(entry: ViewEntry | None) -> Any:
    return None if entry is None else [encode(item) for item in entry]


def _comparison_json(c: ViewComparison) -> dict[str, Any]:
    return {
        "process": c.process,
        "ring_copy": c.ring_copy,
        "entries": c.entries,
        "identical": c.identical,
        "first_difference": c.first_difference,
        "ring_entry": _entry_json(c.ring_entry),
        "scenario_entry": _entry_json(c.scenario_entry),
    }


def _scenario_json(s: Scenario) -> dict[str, Any]:
    return {
        "name": s.plan.name,
        "needs": s.plan.property,
        "correct": list(s.correct),
        "proposals": {p: encode(v) for p, v in s.proposals.items()},
        "byzantine": list(s.byzantine),
        "plays": s.stands_for,
        "decisions": {p: encode(v) for p, v in s.decisions().items()},
        "checks": {name: check.to_json() for name, check in s.checks.items()},
        "views_identical": s.views_identical,
        "views": [_comparison_json(c) for c in s.comparisons],
    }


def hexagon_json(result: HexagonResult) -> dict[str, Any]:
    ring = result.ring
    return {
        "protocol": result.protocol,
        "replicas": result.n,
        "f": result.f,
        "applies": result.applies,
        "groups": None if result.groups is None else [list(g) for g in result.groups],
        "views_identical": result.views_identical,
        "broken": result.broken,
        "demonstrates": result.demonstrates,
        "ring": None
        if ring is None
        else {
            "rounds": ring.rounds,
            "decisions": {k: encode(v) for k, v in ring.decisions().items()},
        },
        "scenarios": [_scenario_json(s) for s in result.scenarios],
    }


def verdict_text(result: HexagonResult) -> str:
    name = result.protocol
    if not result.applies:
        return (
            f"n = {result.n} > 3f = {3 * result.f}: no three groups of at most f processes "
            "cover the processes, so the construction does not apply (and no property need "
            "break; run 'smrkit explore --model eig' to see one hold)."
        )
    if not result.views_identical:
        return (
            f"the views of {name}'s correct processes differ from their ring copies', so "
            "this run does not demonstrate the theorem: the protocol sees something the "
            "construction cannot imitate (a signature it checks, randomness of its own)."
        )
    if result.broken:
        return (
            f"the views the proof calls identical are, and {name} loses "
            f"{', '.join(result.broken)}: the run demonstrates the theorem (no Byzantine "
            "agreement with n <= 3f without signatures)."
        )
    return (
        f"{name} kept validity, agreement, termination and integrity in all three "
        "scenarios with identical views, which contradicts the theorem: the construction "
        "is wrong."
    )


def _values(values: dict[str, Any]) -> str:
    return ", ".join(f"{p} {v}" for p, v in values.items()) or "—"


def print_hexagon(console: Console, result: HexagonResult) -> None:
    groups = " | ".join(", ".join(g) for g in result.groups) if result.groups is not None else None
    console.print(
        f"[bold]hexagon[/bold] — {result.protocol}, n = {result.n}, f = {result.f}"
        + (f"; groups {groups}" if groups else "")
    )
    ring = result.ring
    if ring is not None:
        console.print(
            f"ring of six copies ({', '.join(POSITIONS[:3])} propose 0; "
            f"{', '.join(POSITIONS[3:])} propose 1), {ring.rounds} rounds\nring decisions: "
            + _values(ring.decisions()),
            markup=False,
        )
        table = Table(title="Scenarios", title_justify="left", show_edge=False)
        for column in ("scenario", "correct: proposes", "Byzantine: plays", "decisions", "views"):
            table.add_column(column, overflow="fold")
        table.add_column("lost")
        for s in result.scenarios:
            plays = "; ".join(
                f"{b}: " + ", ".join(f"{copy}→{q}" for q, copy in towards.items())
                for b, towards in s.stands_for.items()
            )
            same = sum(c.identical for c in s.comparisons)
            lost = [name for name, check in s.checks.items() if not check.ok]
            table.add_row(
                s.plan.name,
                ", ".join(f"{p}: {v}" for p, v in s.proposals.items()),
                plays,
                _values(s.decisions()),
                f"identical ({same}/{len(s.comparisons)})"
                if s.views_identical
                else f"[red]differ ({len(s.comparisons) - same}/{len(s.comparisons)})[/red]",
                ", ".join(lost) or "nothing",
            )
        console.print(table)
        for s in result.scenarios:
            for c in s.comparisons:
                if not c.identical:
                    console.print(
                        f"{s.plan.name}: {c.process} first differs from {c.ring_copy} at entry "
                        f"{(c.first_difference or 0) + 1}:\n  ring:     {c.ring_entry}"
                        f"\n  scenario: {c.scenario_entry}",
                        markup=False,
                    )
            for name, check in s.checks.items():
                if not check.ok:
                    console.print(f"{s.plan.name} {name}: {check.detail}", markup=False)
    console.print(f"views_identical: {str(result.views_identical).lower()}")
    console.print(f"broken: {', '.join(result.broken) or 'nothing'}", markup=False)
    colour = "green" if result.demonstrates else "red"
    console.print(f"[{colour}]{verdict_text(result)}[/{colour}]")
