"""A model-checking result as JSON and as text, in Stateright's terms.

The JSON object is a contract: ``model`` (with its ``parameters``), ``search`` (``bfs`` or
``dfs``), ``symmetry``, ``states``, ``unique``, ``max_depth``, ``sec``, ``states_per_s``,
``complete``, ``stopped_by``, ``horizon_s`` (``null`` unless the model has one),
``properties`` (each ``name``, ``expectation``, ``verdict``, ``path_length`` and
``path``: the moves of its counterexample or example, or ``null``; a model that tells
its paths adds ``story``: a counterexample in the protocol's words) and ``references``
(a figure someone else pinned for this model and search, and whether ``unique``
``matches`` it).
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from smrkit.explore.byzantine_models import BYZANTINE_MODELS
from smrkit.explore.crash_models import CRASH_MODELS
from smrkit.explore.models import Model
from smrkit.explore.replay import path_to_json
from smrkit.explore.search import SearchResult
from smrkit.explore.space import Space
from smrkit.sim.trace import Trace

PATH_SHOWN = 40


def explore_json(
    model: Model, space: Space, result: SearchResult, *, bfs: bool, symmetry: bool
) -> dict[str, Any]:
    properties = []
    for prop in result.properties:
        found = result.discoveries.get(prop.name)
        path = None if found is None else path_to_json(space, found.path)
        entry: dict[str, Any] = {
            "name": prop.name,
            "expectation": prop.expectation,
            "verdict": result.verdict(prop),
            "path_length": None if found is None else len(found.path),
            "path": path,
        }
        if (
            model.narrate is not None
            and path is not None
            and found is not None
            and found.is_failure
        ):
            entry["story"] = model.narrate(model, path)
        properties.append(entry)
    search = "bfs" if bfs else "dfs"
    references = [
        {"source": ref.source, "unique": ref.unique, "matches": ref.unique == result.unique}
        for ref in model.references
        if ref.search == search and ref.symmetry == symmetry
    ]
    horizon = model.space.horizon_s
    return {
        "model": model.name,
        "parameters": model.parameters,
        "timing": model.space.timing,
        "search": search,
        "symmetry": symmetry,
        "states": result.states,
        "unique": result.unique,
        "max_depth": result.max_depth,
        "sec": round(result.sec, 3),
        "states_per_s": round(result.states_per_s),
        "complete": result.complete,
        "stopped_by": result.stopped_by,
        "horizon_s": None if horizon == float("inf") else horizon,
        "properties": properties,
        "references": references,
    }


def describe_move(move: dict[str, Any]) -> str:
    """One move of a path in a line: ``c1 → p1  Put(request_id=3, value='A')``."""
    kind = move["kind"]
    tail = ""
    crash = move.get("sends_before_crash")
    delays = move.get("delays")
    notes = []
    if crash is not None:
        actor = move["dst"] if kind == "deliver" else move.get("node", "")
        notes.append(f"{actor} crashes after sending {crash}")
    if delays:
        notes.append("its messages take " + ", ".join(f"{d:g}" for d in delays) + " s")
    if notes:
        tail = "\n         " + "; ".join(notes)
    if kind == "deliver":
        return f"{move['src']} → {move['dst']}  {_message(move['msg'])}{tail}"
    if kind == "fire":
        return f"{move['node']} fires {move['timer']!r}{tail}"
    if kind == "next":
        event = move.get("event")
        if event == "deliver":
            return f"{move['src']} → {move['node']}  {_message(move['msg'])}{tail}"
        if event == "fire":
            return f"{move['node']} fires {move['timer']!r}{tail}"
        return f"{move['node']} starts{tail}"
    if kind == "act":
        return f"{move['node']} (Byzantine) takes its move {json.dumps(move['move'])}{tail}"
    if kind == "round":
        crashes = "; ".join(
            f"{node} crashes, only {', '.join(to) or 'nobody'} "
            f"{'get' if len(to) > 1 else 'gets'} its messages"
            for node, to in move.get("crashes", [])
        )
        return f"round {move['round']}" + (f"  ({crashes})" if crashes else "")
    return f"{kind} {move.get('node', '')}"


def _parameter(name: str, value: Any) -> str:
    if name == "ops" and isinstance(value, list):
        return "; ".join(" ".join(str(part) for part in op if part is not None) for op in value)
    if name == "bounds" and isinstance(value, list | tuple):
        return "+".join(str(bound) for bound in value)
    return str(value)


def _message(encoded: Any) -> str:
    """A message as its type and fields, nested values the same way."""
    if isinstance(encoded, dict) and "type" in encoded:
        fields = ", ".join(f"{k}={_message(v)}" for k, v in encoded.items() if k != "type")
        return f"{encoded['type']}({fields})"
    if isinstance(encoded, list):
        return "(" + ", ".join(_message(item) for item in encoded) + ")"
    return repr(encoded)


def print_explore(console: Console, data: dict[str, Any]) -> None:
    parameters = ", ".join(
        f"{k}={_parameter(k, v)}" for k, v in data["parameters"].items() if k != "model"
    )
    console.print(
        f"model {data['model']}, {data['timing']} timing, "
        f"{data['search'].upper()}{', symmetry' if data['symmetry'] else ''}"
    )
    console.print(f"  {parameters}")
    console.print(
        f"states={data['states']:,} unique={data['unique']:,} max_depth={data['max_depth']} "
        f"sec={data['sec']:.2f} states_per_s={data['states_per_s']:,}"
    )
    if data["stopped_by"] is not None:
        console.print(f"search stopped early: {data['stopped_by']}")
    if data["horizon_s"] is not None:
        horizon = data["horizon_s"]
        # lock-step rounds last 1 s of virtual time each: the horizon is a round there
        at = f"round {horizon:g}" if data["timing"] == "lock-step" else f"{horizon:g} s"
        console.print(f"every path explored up to the horizon, {at}")
    width = max([18, *(len(prop["name"]) for prop in data["properties"])])
    for prop in data["properties"]:
        length = prop["path_length"]
        suffix = "" if length is None else f" (path of {length} moves)"
        console.print(
            f"  {prop['expectation']:<10} {prop['name']:<{width}} {prop['verdict']}{suffix}"
        )
    for prop in data["properties"]:
        if prop["path"] is None or prop["expectation"] == "sometimes":
            continue  # examples: their length above; their moves with --json or --trace
        console.print(f"counterexample to {prop['name']!r}:")
        if "story" in prop:
            for line in prop["story"]:
                console.print(f"  {line}", highlight=False)
            continue
        for number, move in enumerate(prop["path"][:PATH_SHOWN], start=1):
            console.print(f"  {number:>3}. {describe_move(move)}")
        if len(prop["path"]) > PATH_SHOWN:
            console.print(f"  … {len(prop['path']) - PATH_SHOWN} more moves")
    for ref in data["references"]:
        verdict = "same" if ref["matches"] else "DIFFERENT"
        console.print(f"{ref['source']}: unique={ref['unique']:,} — {verdict}")


def is_fault_move(move: dict[str, Any]) -> bool:
    """Whether a path's move crashes a node: a crash between steps, one during a step
    after some of its sends, or a lock-step round's crashes."""
    return (
        move["kind"] == "crash"
        or move.get("sends_before_crash") is not None
        or bool(move.get("crashes"))
    )


def path_section_html(data: dict[str, Any], name: str) -> str:
    """The search's figures and the drawn path, move by move, for the HTML page: the
    moves that crash a node in red, the move that breaks an invariant (or reaches an
    example) marked last."""
    from html import escape

    prop = next(p for p in data["properties"] if p["name"] == name)
    moves = prop["path"] or []
    found = "example of" if prop["expectation"] == "sometimes" else "counterexample to"
    shortest = " (a shortest one: the search was breadth first)" if data["search"] == "bfs" else ""
    figures = (
        f"{data['search'].upper()}{', symmetry' if data['symmetry'] else ''}: "
        f"states={data['states']:,} unique={data['unique']:,} max_depth={data['max_depth']} "
        f"sec={data['sec']:.2f}; {'complete' if data['complete'] else 'stopped early'}"
    )
    verdicts = "".join(
        f"<li>{escape(p['expectation'])} <code>{escape(p['name'])}</code>: "
        f"{escape(str(p['verdict']))}</li>"
        for p in data["properties"]
    )
    items = []
    for number, move in enumerate(moves, start=1):
        classes = []
        if is_fault_move(move):
            classes.append("fault")
        if number == len(moves):
            classes.append("last")
        cls = f' class="{" ".join(classes)}"' if classes else ""
        items.append(f"<li{cls}>{escape(describe_move(move))}</li>")
    return (
        f'<section id="path">\n<h2>The path: {found} <code>{escape(name)}</code></h2>\n'
        f"<p>{len(moves)} moves{shortest}. The search: {escape(figures)}.</p>\n"
        f"<ul>{verdicts}</ul>\n"
        f'<ol class="path">{"".join(items)}</ol>\n'
        '<p class="note">The trace (<code>--trace</code>) holds this path; '
        "<code>smrkit replay</code> re-runs it and checks its hash.</p>\n</section>"
    )


ROUND_MODELS = (*CRASH_MODELS, *BYZANTINE_MODELS)
"""The lock-step models, whose paths are drawn in rounds (:func:`round_path_page`)."""


def round_path_page(
    model: Model,
    name: str,
    expectation: str,
    moves: list[dict[str, Any]],
    trace: Trace,
    search: str = "",
) -> str:
    """The page of a path of a lock-step model — a crash model
    (:mod:`smrkit.explore.crash_models`) or a Byzantine one
    (:mod:`smrkit.explore.byzantine_models`): the kernel's run of it (``trace``), judged
    by seed 002's checkers with the rounds the kernel recorded, the moves, and the run as
    a round diagram — who sent what to whom in each round, the faulty processes, the
    decisions. Not the space-time diagram of a primary-backup run: these protocols have
    no primary, no clients and no δ. ``search``: how the path was found."""
    from smrkit.report.round_page import round_page

    parameters = model.parameters
    found = "example of" if expectation == "sometimes" else "counterexample to"
    byzantine = [str(p) for p in parameters.get("byzantine", [])]
    if model.name in BYZANTINE_MODELS:
        processes = (
            f"n = {parameters['servers']}, built for f = {parameters['f']}; Byzantine: "
            f"{', '.join(byzantine)} (every behaviour of its adversary)"
        )
        facts = [("model", model.name), ("processes", processes)]
        if "inputs" in parameters:
            facts.append(("inputs", ", ".join(map(str, parameters["inputs"]))))
    else:
        facts = [
            ("model", model.name),
            ("processes", f"n = {parameters['servers']}, f = {parameters['f']} crashes at most"),
            ("decides after", f"round R = {parameters['rounds']}"),
        ]
    facts += [*([("search", search)] if search else []), ("trace", trace.trace_hash()[:16])]
    checks = _judge_rounds(model, trace, byzantine)
    byzantine = byzantine if model.name in BYZANTINE_MODELS else []
    notes = [f"{k}. {describe_move(move)}" for k, move in enumerate(moves, start=1)]
    notes.append(
        "The checks above judge the kernel's run of this path (smrkit replay re-runs its "
        "trace); the search judged the same run from its final state."
    )
    return round_page(
        f"smrkit explore — {model.name}, {found} {name}",
        facts,
        checks,
        trace.events,
        trace.servers,
        byzantine,
        notes=notes,
        notes_title=f"The path: {found} {name}, {len(moves)} moves",
    )


def _judge_rounds(model: Model, trace: Trace, byzantine: list[str]) -> dict[str, dict[str, Any]]:
    """seed 002's checks of the run: a crash model's own judge, or, for a Byzantine
    model, the protocol's claims (what ``smrkit sim`` judges its runs by), the Byzantine
    processes not bound."""
    if model.name not in BYZANTINE_MODELS:
        from smrkit.explore.crash_models import judge_run

        judged = judge_run(model.parameters, trace.events, trace.servers)
        return {check: verdict.to_json() for check, verdict in judged.items()}
    from smrkit.check.agreement_run import evaluate_records
    from smrkit.protocols.claims import ConsensusClaims
    from smrkit.protocols.registry import get_protocol

    claims = get_protocol(model.name).claims(int(model.parameters["f"]), 0.0, 0.0)
    assert isinstance(claims, ConsensusClaims)
    evaluation = evaluate_records(trace.events, trace.servers, claims, byzantine=tuple(byzantine))
    return {check: verdict.to_json() for check, verdict in evaluation.checks.items()}
