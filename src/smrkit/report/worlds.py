"""Seed 000's worlds as JSON and as text.

The JSON object is a contract (scripts read it): ``views_identical``, ``gives_up``
(``"safety"``, ``"liveness"`` or ``null`` when neither was lost), ``lost`` (every property
lost, safety first), ``demonstrates``, ``worlds`` (per world: its story, faults, writes,
what each client learned, and its trace hash), ``views`` (per compared process: the two
worlds, the view lengths, and where they first differ: an index from 0 and the two entries)
and ``findings``.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from smrkit.explore.worlds import Outcome, ViewComparison, ViewEntry, WorldsResult
from smrkit.sim.trace import encode


def _entry_json(entry: ViewEntry | None) -> Any:
    if entry is None:
        return None
    t, what, peer, data = entry
    return {"t": t, "what": what, "peer": peer, "data": encode(data)}


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {"status": outcome.status, "value": encode(outcome.value)}


def _comparison_json(comparison: ViewComparison) -> dict[str, Any]:
    return {
        "process": comparison.process,
        "worlds": list(comparison.worlds),
        "identical": comparison.identical,
        "entries": list(comparison.lengths),
        "first_difference": comparison.first_difference,
        "differing_entries": [_entry_json(e) for e in comparison.entries]
        if not comparison.identical
        else None,
    }


def worlds_json(result: WorldsResult) -> dict[str, Any]:
    spec = result.protocol
    return {
        "protocol": spec.name,
        "title": spec.title,
        "claims": _claim(result),
        "replicas": result.n,
        "f": result.f,
        "halves": [list(half) for half in result.halves],
        "delta_s": result.delta_s,
        "delta_min_s": result.delta_s,
        "tau_s": result.tau_s,
        "horizon_s": result.horizon_s,
        "views_identical": result.views_identical,
        "gives_up": result.gives_up,
        "lost": list(result.lost),
        "demonstrates": result.demonstrates,
        "findings": list(result.findings),
        "worlds": {
            name: {
                "story": run.world.story,
                "faults": list(run.world.faults),
                "writes": dict(run.world.writes),
                "learned": {c: _outcome_json(o) for c, o in run.outcomes.items()},
                "events": len(run.trace.events),
                "trace_hash": run.trace.trace_hash(),
            }
            for name, run in result.runs.items()
        },
        "views": [_comparison_json(c) for c in result.comparisons],
    }


def _claim(result: WorldsResult) -> str | None:
    if not result.declared:
        return None
    spec = result.protocol
    return (
        f"tolerates f = {spec.tolerated(result.n)} {spec.failure_model.value} failures "
        f"with n = {result.n}"
    )


def _learned(outcome: Outcome, wants: bool) -> str:
    if outcome.learned:
        return repr(outcome.value)
    if outcome.status == "fail":
        return "refused"
    return "nothing" if wants else "—"


def _entry_text(entry: ViewEntry | None) -> str:
    if entry is None:
        return "(nothing: the view ended)"
    t, what, peer, data = entry
    where = {"receive": f" from {peer}", "send": f" to {peer}"}.get(what, "")
    return f"t={t:.4f} {what}{where}: {data}"


def _ordinal(comparison: ViewComparison) -> int:
    """The first differing entry counted from 1, for people (the JSON index counts from 0)."""
    assert comparison.first_difference is not None
    return comparison.first_difference + 1


def verdict_text(result: WorldsResult) -> str:
    """One paragraph: what was lost, and whether that demonstrates the theorem."""
    name = result.protocol.name
    if result.demonstrates:
        kept = "liveness" if result.gives_up == "safety" else "safety"
        return (
            f"{name} gives up {result.gives_up} (and keeps {kept}): the views the proof "
            "calls indistinguishable are identical, so the run demonstrates the theorem."
        )
    if not result.views_identical:
        return (
            f"the views of {name} differ where the proof says they cannot, so this run does "
            "not demonstrate the theorem: the protocol sees something the model excludes "
            "(shared state, a clock that differs between worlds, ...), or the worlds are wrong."
        )
    return (
        f"{name} kept both safety and liveness with identical views, which contradicts the "
        "theorem: the worlds were not built as the proof says, or the horizon is too short."
    )


def print_worlds(console: Console, result: WorldsResult) -> None:
    spec = result.protocol
    first, second = (", ".join(half) for half in result.halves)
    claim = _claim(result)
    console.print(
        f"[bold]{spec.name}[/bold] — {spec.title}"
        + (f"\nclaims: {claim}" if claim else "")
        + f"\nseed 000's worlds: n = {result.n} servers ({first} | {second}), "
        f"the adversary's f = {result.f}, clients c1 and c2 on a write-once register;\n"
        f"every message takes δ = {result.delta_s} s, τ = {result.tau_s} s, "
        f"horizon {result.horizon_s} s"
    )
    worlds = Table(title="Worlds", title_justify="left", show_edge=False)
    worlds.add_column("world")
    worlds.add_column("story", overflow="fold")
    worlds.add_column("c1 learns")
    worlds.add_column("c2 learns")
    for name, run in result.runs.items():
        writes = run.world.writes
        worlds.add_row(
            name,
            run.world.story,
            *(_learned(run.outcomes[c], c in writes) for c in ("c1", "c2")),
        )
    console.print(worlds)
    for name, run in result.runs.items():
        console.print(f"faults {name}: {' '.join(run.world.faults)}")
    views = Table(title="Views (received and done)", title_justify="left")
    views.show_edge = False
    views.add_column("process")
    views.add_column("worlds")
    views.add_column("entries", justify="right")
    views.add_column("identical")
    for comparison in result.comparisons:
        left, right = comparison.worlds
        views.add_row(
            comparison.process,
            f"{left} vs {right}",
            " / ".join(str(n) for n in sorted(set(comparison.lengths))),
            "[green]yes[/green]"
            if comparison.identical
            else f"[red]no[/red], from entry {_ordinal(comparison)}",
        )
    console.print(views)
    for comparison in result.comparisons:
        if not comparison.identical:
            left, right = comparison.worlds
            a, b = comparison.entries
            console.print(
                f"{comparison.process} first differs at entry {_ordinal(comparison)}:"
                f"\n  {left}: {_entry_text(a)}\n  {right}: {_entry_text(b)}",
                markup=False,
            )
    for finding in result.findings:
        console.print(f"lost: {finding}", markup=False)
    if not result.findings:
        console.print(
            "lost: nothing — the writers of A and B learned a committed value, "
            "and no two clients learned different ones"
        )
    colour = "green" if result.demonstrates else "red"
    console.print(f"[{colour}]{verdict_text(result)}[/{colour}]")
