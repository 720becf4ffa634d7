"""``smrkit flp``: seed 004's FLP proof run on a protocol — Lemma 1's X_0 … X_n, the
ambiguous initial configuration, and Lemma 2's adversary building the run in which no
correct node decides (or the run in which the protocol broke safety instead).

Exit status: 0 the run demonstrates the theorem (no correct node decided in it), 1 the
protocol broke agreement or validity (the run is printed), 2 bad usage, 3 the search
stopped at its bound before it could show either, 4 a randomized protocol escaped: its
coins, drawn from the nodes' generators seeded ``--seed`` where the adversary cannot read
them, made a correct node decide despite the adversary (:mod:`smrkit.explore.flp.coins`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from smrkit.cli.errors import UserError
from smrkit.cli.options import output_path
from smrkit.explore.flp.coins import DECIDED, CoinRun
from smrkit.explore.flp.configuration import ADVERSARIES, BYZANTINE, CRASH, describe
from smrkit.explore.flp.lemma2 import BOUND, FlpResult, Run, build_nondeciding_run
from smrkit.explore.flp.protocols import FlpProtocolError, resolve_binary

EXIT_INCONCLUSIVE = 3
EXIT_ESCAPED = 4

ADVERSARY_TEXT = {
    CRASH: "asynchronous delivery, at most one crash",
    BYZANTINE: "asynchronous delivery, X_i's node p_i two-faced: it runs with either input",
}


@click.command("flp")
@click.option(
    "--protocol", "protocol_name", required=True, help="A binary protocol, or module:Class."
)
@click.option("--replicas", type=int, default=3, show_default=True, help="n, from 2 to 6.")
@click.option(
    "--adversary",
    type=click.Choice(ADVERSARIES),
    default=CRASH,
    show_default=True,
    help="crash: asynchronous delivery and at most one crash; byzantine: one node "
    "two-faced (seed 004's Lemma 1 strategy).",
)
@click.option("--steps", type=int, default=60, show_default=True, help="Length of the run built.")
@click.option(
    "--bound",
    type=int,
    default=20_000,
    show_default=True,
    help="Configurations one valency search visits before it answers 'unknown'.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seeds the generators a randomized protocol's coins are drawn from.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--trace",
    "trace_path",
    type=output_path(),
    help="Save the run (or the violation's) as a trace that 'smrkit replay' re-runs.",
)
@click.option(
    "--html",
    "html_path",
    type=output_path(),
    help="Write the run as a space-time diagram with each configuration's valency.",
)
def flp(
    protocol_name: str,
    replicas: int,
    adversary: str,
    steps: int,
    bound: int,
    seed: int,
    as_json: bool,
    trace_path: Path | None,
    html_path: Path | None,
) -> None:
    """Run seed 004's FLP proof on a protocol: classify X_0 ... X_n, then build the run
    in which no correct node decides.

    A randomized protocol (ben-or) flips coins the adversary cannot read: its searches
    branch on both values of a coin not yet flipped, the run draws each coin from the
    node's generator (--seed), and the adversary re-plans after it.

    \b
    Exit status: 0 the run shows the theorem, 1 the protocol broke safety (the run is
    shown), 2 bad usage, 3 the search hit its bound first, 4 the protocol escaped: a
    correct node decided despite the adversary (randomized protocols).
    """
    if not 2 <= replicas <= 6:
        raise UserError(f"--replicas {replicas} is out of range", "give n from 2 to 6")
    if not 1 <= steps <= 100_000:
        raise UserError(f"--steps {steps} is out of range", "give 1 to 100000 events")
    if not 1 <= bound <= 10_000_000:
        raise UserError(f"--bound {bound} is out of range", "give 1 to 10000000 configurations")
    if not 0 <= seed < 2**63:
        raise UserError(f"--seed {seed} is out of range", "give 0 to 2**63 - 1")
    try:
        protocol = resolve_binary(protocol_name)
    except FlpProtocolError as error:
        raise UserError(str(error)) from None
    began = time.perf_counter()
    last = [began]

    def progress(what: str) -> None:
        now = time.perf_counter()
        if now - began > 1.0 and now - last[0] > 1.0:
            last[0] = now
            print(f"flp: {what}, {now - began:.0f} s", file=sys.stderr)

    result = build_nondeciding_run(
        protocol, replicas, adversary, steps, bound=bound, seed=seed, progress=progress
    )
    summary = result_json(result)
    shown = result.run if result.run is not None else result.violation_run
    if trace_path is not None and shown is not None:
        from smrkit.explore.replay import replay

        trace = replay(shown.setup.model, shown.moves).trace
        try:
            trace.write(trace_path)
        except OSError as error:
            raise UserError(f"cannot write {trace_path}: {error.strerror}") from None
        summary["trace"] = str(trace_path)
    if html_path is not None:
        from smrkit.report.flp import write_flp_page

        try:
            write_flp_page(html_path, summary, shown)
        except OSError as error:
            raise UserError(f"cannot write {html_path}: {error.strerror}") from None
        summary["html"] = str(html_path)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        print_result(result)
        for what in ("trace", "html"):
            if what in summary:
                click.echo(f"{what} written to {summary[what]}")
    click.get_current_context().exit(exit_code(result))


def exit_code(result: FlpResult) -> int:
    if result.violation is not None:
        return 1
    if result.coins is not None and result.coins.escaped:
        return EXIT_ESCAPED
    if result.run is None or result.run.decided or result.run.end == BOUND:
        return EXIT_INCONCLUSIVE
    return 0


def _run_json(run: Run | None) -> dict[str, object] | None:
    if run is None:
        return None
    return {
        "inputs": list(run.setup.inputs),
        "steps": len(run.moves),
        "deliveries": run.deliveries,
        "lemma2_applications": len(run.lemma2_steps),
        "max_message_age": run.max_age,
        "mean_message_age": round(run.mean_age, 3),
        "undelivered_at_end": run.undelivered,
        "max_undelivered_age": run.max_undelivered_age,
        "end": run.end,
        "decided": run.decided,
        "schedule": [describe(m) for m in run.moves],
        "valencies": run.labels,
    }


def result_json(result: FlpResult) -> dict[str, object]:
    walk = result.lemma1
    ambiguous = walk.ambiguous
    ambiguous_json = None
    if ambiguous is not None:
        valency = walk.valencies[ambiguous]
        ambiguous_json = {
            "i": ambiguous,
            "inputs": list(walk.setups[ambiguous].inputs),
            "witnesses": {
                str(v): [describe(walk.setups[ambiguous].to_json(m)) for m in schedule]
                for v, schedule in sorted(valency.witnesses.items())
            },
        }
    return {
        "protocol": result.protocol,
        "replicas": result.replicas,
        "adversary": result.adversary,
        "inputs": [
            {
                "i": i,
                "inputs": list(s.inputs),
                "byzantine": s.byzantine,
                "valency": v.label,
                "text": v.text(),
                "explored": v.explored,
            }
            for i, (s, v) in enumerate(zip(walk.setups, walk.valencies, strict=True))
        ],
        "ambiguous_initial": ambiguous_json,
        "pivot": walk.pivot,
        "run": _run_json(result.run),
        "violation": None
        if result.violation is None
        else {"property": result.violation, "run": _run_json(result.violation_run)},
        "coins": _coins_json(result.coins),
        "configurations": result.explored,
        "seconds": round(result.seconds, 3),
    }


def _coins_json(coins: CoinRun | None) -> dict[str, object] | None:
    """A randomized protocol's run against drawn coins, or ``None``."""
    if coins is None:
        return None
    return {
        "seed": coins.seed,
        "escaped": coins.escaped,
        "first_decision_move": coins.first_decision,
        "rounds": coins.rounds,
        "coins_flipped": coins.coins,
        "plans": coins.plans,
        "plans_foiled": coins.foiled,
        "unplanned_moves": coins.unplanned,
    }


def _bits(inputs: tuple[int, ...]) -> str:
    return "".join(str(v) for v in inputs)


def print_result(result: FlpResult) -> None:
    walk = result.lemma1
    click.echo(
        f"FLP on {result.protocol}, n = {result.replicas}, adversary: {result.adversary} "
        f"({ADVERSARY_TEXT[result.adversary]})"
    )
    click.echo("Lemma 1: the initial configurations X_0 ... X_n (inputs p1..pn)")
    for i, (setup, valency) in enumerate(zip(walk.setups, walk.valencies, strict=True)):
        click.echo(f"  X_{i}  {_bits(setup.inputs)}  {valency.text()}")
    if result.violation is not None:
        click.echo(f"safety broken before FLP applies: {result.violation}")
        _print_run(result.violation_run)
    elif walk.ambiguous is not None:
        i = walk.ambiguous
        click.echo(f"ambiguous initial configuration: X_{i} ({_bits(walk.setups[i].inputs)})")
        for value, schedule in sorted(walk.valencies[i].witnesses.items()):
            setup = walk.setups[i]
            shown = "; ".join(describe(setup.to_json(m)) for m in schedule) or "(nothing)"
            click.echo(f"  decides {value} after: {shown}")
    elif walk.pivot is not None and result.adversary == CRASH:
        i = walk.pivot
        click.echo(
            f"no X_i is ambiguous: X_{i - 1} is {walk.valencies[i - 1].label}, X_{i} is "
            f"{walk.valencies[i].label}; Lemma 1's pivot p{i} crashed from the start:"
        )
    elif result.run is not None:
        inputs = _bits(result.run.setup.inputs)
        click.echo(f"no X_i is ambiguous; from {inputs} a schedule leaves nothing to deliver:")
    if result.violation is None:
        _print_run(result.run)
    if result.coins is not None:
        _print_coins(result.coins)
    click.echo(f"{result.explored} configurations explored in {result.seconds:.2f} s")


def _print_coins(coins: CoinRun) -> None:
    click.echo(
        f"coins drawn from the nodes' generators (seed {coins.seed}), unread by the adversary: "
        f"{coins.coins} flipped; {coins.plans} Lemma 2 plans, {coins.foiled} foiled by a coin, "
        f"{coins.unplanned} moves with no ambiguous plan left"
    )
    if coins.escaped:
        click.echo(
            f"escaped: a correct node decided at move {coins.first_decision} (round "
            f"{coins.rounds}) despite the adversary; randomization escapes FLP (exit 4)"
        )
    else:
        click.echo(
            f"not escaped: no correct node decided in the {len(coins.run.moves)} moves (exit 0)"
        )


def _print_run(run: Run | None) -> None:
    if run is None:
        click.echo("no run built")
        return
    kind = {
        "steps": "the steps asked for",
        "blocked": "nothing left to deliver",
        BOUND: "the search bound",
        "violation": "reaching the violation",
        DECIDED: "a correct node deciding",
    }
    click.echo(
        f"run: {len(run.moves)} steps ({run.deliveries} deliveries, "
        f"{len(run.lemma2_steps)} applications of Lemma 2), ended by {kind[run.end]}"
    )
    click.echo(
        f"  message age when delivered: max {run.max_age}, mean {run.mean_age:.2f} steps; "
        f"undelivered at the end: {run.undelivered} (oldest {run.max_undelivered_age} steps)"
    )
    click.echo(f"  decisions: {', '.join(run.decided) if run.decided else 'none'}")
    shown = min(len(run.moves), 12)
    for number in range(shown):
        click.echo(f"  {number + 1:>4}  {run.labels[number]:<10} {describe(run.moves[number])}")
    if shown < len(run.moves):
        click.echo(f"  ... {len(run.moves) - shown} more (--json lists them all)")
