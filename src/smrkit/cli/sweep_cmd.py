"""``smrkit sweep``: run a protocol under many seeds of random admissible fault plans
and judge every run — a search for bugs inside the model, as TigerBeetle's VOPR does.

Thin: it validates the arguments, draws plans with :mod:`smrkit.explore.sweep` and
prints the :class:`~smrkit.explore.sweep.SweepResult` with :mod:`smrkit.report.sweep`.
"""

from __future__ import annotations

import json
import os
import re
import time

import click

from smrkit.cli.errors import UserError
from smrkit.cli.options import finite_seconds, seconds_option, untrusted_clients_option
from smrkit.cli.progress import ProgressBar, wanted
from smrkit.explore.protocol_ref import ProtocolRefError, ensure_registered
from smrkit.explore.sweep import (
    PlanMaker,
    SweepResult,
    Tally,
    failure_free_length,
    random_plans,
    run_sweep,
    with_plan,
)
from smrkit.protocols.claims import PartialSyncClaims, PrimaryBackupClaims
from smrkit.report.summary import make_console
from smrkit.report.sweep import print_sweep, sweep_json
from smrkit.sim.world import ConfigError, SimConfig, run_simulation

SEEDS_MAX = 100_000_000
TIME_LIMIT_S = 60.0
"""A sweep run stops at this virtual time: 300 ops take a second or two, and a protocol
that stopped answering would otherwise have its clients retry for an hour."""

_SEEDS = re.compile(r"^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$")


def parse_seeds(text: str) -> tuple[int, int]:
    """``A..B`` (both included) or a single seed ``A``."""
    match = _SEEDS.match(text)
    if match is None:
        raise UserError(
            f"bad --seeds {text!r}", "write a range of seeds A..B (both included), e.g. 0..999"
        )
    first = int(match[1])
    last = first if match[2] is None else int(match[2])
    if last < first:
        raise UserError(f"bad --seeds {text!r}: {last} is below {first}", f"write {last}..{first}")
    if last - first + 1 > SEEDS_MAX:
        raise UserError(
            f"--seeds {text!r} is {last - first + 1:,} runs",
            f"sweep at most {SEEDS_MAX:,} at a time",
        )
    return first, last


@click.command("sweep")
@click.option(
    "--protocol",
    default="pb-crash",
    show_default=True,
    help="A registered protocol, or your own as module.path:ClassName.",
)
@click.option(
    "--replicas", type=click.IntRange(min=1), help="Number of servers [default: the protocol's]."
)
@click.option(
    "--f",
    "faults_max",
    type=click.IntRange(min=0),
    help="Most faulty components per plan [default: as many as the protocol tolerates].",
)
@click.option(
    "--seeds", "seeds_text", required=True, help="Seeds A..B, both included (e.g. 0..9999)."
)
@click.option(
    "--horizon",
    type=finite_seconds(),
    help="Faults start in [0, HORIZON) s [default: the failure-free run's length].",
)
@click.option(
    "--ops",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Operations per run, by all clients together.",
)
@click.option(
    "--clients", type=click.IntRange(min=1), default=4, show_default=True, help="Clients per run."
)
@seconds_option("--delta", default=0.01, help_text="δ: the bound on message delay, seconds.")
@seconds_option("--tau", default=0.05, help_text="τ: the heartbeat period, seconds.")
@click.option(
    "--time-limit",
    type=finite_seconds(),
    default=TIME_LIMIT_S,
    show_default=True,
    help="Stop each run at this virtual time.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=256),
    help="Processes [default: every core].",
)
@click.option(
    "--examples",
    type=click.IntRange(min=0, max=1000),
    default=5,
    show_default=True,
    help="Failed runs to show, each with its replay command.",
)
@untrusted_clients_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def sweep(
    protocol: str,
    replicas: int | None,
    faults_max: int | None,
    seeds_text: str,
    horizon: float | None,
    ops: int,
    clients: int,
    delta: float,
    tau: float,
    time_limit: float,
    workers: int | None,
    examples: int,
    untrusted_clients: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run a protocol under seeds A..B, each with a random admissible fault plan of its
    failure model; check every run (Pb1–Pb5, linearizability, log agreement) and
    measure failover, blocking and outages against the protocol's targets. Prints the
    first failures with the 'smrkit sim' command that replays each.

    \b
    Example: smrkit sweep --protocol pb-crash --replicas 3 --seeds 0..999
    Exit status: 0 no violation, 1 a run broke a check or a figure its target,
    2 bad usage.
    """
    first, last = parse_seeds(seeds_text)
    try:
        resolved = ensure_registered(protocol)
    except ProtocolRefError as error:
        raise UserError(str(error)) from None
    spec = resolved.spec
    n = spec.replicas_default if replicas is None else replicas
    problem = spec.replicas_problem(n)
    if problem is not None:
        raise UserError(f"{problem} (got --replicas {n})", "give another --replicas")
    f = spec.tolerated(n)
    claims = spec.claims_for(f, delta, tau, clients=clients, clients_trusted=not untrusted_clients)
    if not isinstance(claims, PrimaryBackupClaims):
        raise UserError(
            f"{protocol} claims what {claims.family} protocols claim; a sweep judges the "
            "primary-backup figures (Pb1-Pb5, failover, blocking, outages)",
            "sweep a primary-backup protocol, or run this one with 'smrkit sim'"
            + (
                " (Raft's sweep: python bench/raft_sweep.py)"
                if isinstance(claims, PartialSyncClaims)
                else ""
            ),
        )
    if resolved.declared:
        most = f if faults_max is None else faults_max
        if most > f:
            raise UserError(
                f"--f {most} is more than {protocol} tolerates with {n} servers (f = {f})",
                f"give --f 0..{f}, or more --replicas",
            )
    else:
        most = 0 if faults_max is None else faults_max
        if most > n - 1:
            raise UserError(f"--f {most} with {n} servers", f"give --f 0..{n - 1}")
    base = SimConfig(
        protocol=protocol,
        replicas=n,
        clients=clients,
        ops=ops,
        delta_s=delta,
        tau_s=tau,
        time_limit_s=time_limit,
        seed=first,
        clients_trusted=not untrusted_clients,
    )
    try:
        horizon_s = failure_free_length(base) if horizon is None else horizon
    except ConfigError as error:
        raise UserError(str(error), "see 'smrkit sweep --help'") from None
    except Exception as error:  # the user's protocol failed to build or run
        raise UserError(
            f"{protocol} failed in a failure-free run: {type(error).__name__}: {error}",
            "fix the protocol, or run it with 'smrkit sim' to see where",
        ) from None
    plans = random_plans(base, horizon_s, f=most)
    worker_count = workers or os.cpu_count() or 1
    started = time.perf_counter()
    tally = _sweep_with_progress(
        base,
        range(first, last + 1),
        plans,
        workers=worker_count,
        examples=examples,
        show=wanted(quiet),
    )
    seconds = time.perf_counter() - started
    hashes = {
        o.seed: run_simulation(with_plan(base, o.seed, o.faults)).trace.trace_hash()
        for o in tally.failed[:examples]
    }
    result = SweepResult(
        base=base,
        title=spec.title,
        failure_model=spec.failure_model.value,
        declared=resolved.declared,
        replicas=n,
        f=f,
        faults_max=most,
        first_seed=first,
        last_seed=last,
        horizon_s=horizon_s,
        workers=worker_count,
        targets=claims,
        tally=tally,
        seconds=seconds,
        trace_hashes=hashes,
    )
    if as_json:
        click.echo(json.dumps(sweep_json(result)))
    else:
        print_sweep(make_console(), result, examples=examples)
    click.get_current_context().exit(0 if result.ok else 1)


def _sweep_with_progress(
    base: SimConfig,
    seeds: range,
    plans: PlanMaker,
    *,
    workers: int,
    examples: int,
    show: bool,
) -> Tally:
    """The sweep, with a progress bar on stderr when ``show``."""
    with ProgressBar(f"sweep {base.protocol}", len(seeds), show=show) as bar:

        def advance(tally: Tally) -> None:
            found = tally.violations
            note = f"[red]{found:,} violation{'s' if found != 1 else ''}[/red]" if found else ""
            bar.update(tally.runs, note=note)

        return run_sweep(base, seeds, plans, workers=workers, examples=examples, progress=advance)
