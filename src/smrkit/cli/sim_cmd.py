"""``smrkit sim``: run a protocol in the deterministic simulator and judge the run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from smrkit.check.evaluate import Evaluation, evaluate_run
from smrkit.cli.errors import UserError, file_error
from smrkit.cli.options import (
    finite_seconds,
    output_path,
    seconds_option,
    untrusted_clients_option,
)
from smrkit.cli.progress import ProgressBar, wanted
from smrkit.explore.protocol_ref import ProtocolRefError, ensure_registered
from smrkit.protocols import TIMINGS, ConsensusClaims, protocol_names
from smrkit.report.summary import make_console, print_run, run_json
from smrkit.sim.workload import WorkloadError, parse_mix
from smrkit.sim.world import ConfigError, SimConfig, SimRun, round_trip_s, run_simulation

FAULT_HELP = """\b
Fault specs (--fault, repeatable; times in virtual seconds). Quote a spec with
-> or <- (--fault 'link:p1->p2@0.5'): unquoted, the shell reads > and < as
redirections and passes a spec cut short.
  crash:p1@1.0                        p1 crashes at 1.0
  crash:p1@1.0/2                      p1 crashes in its first step at or after 1.0,
                                      after 2 of that step's messages left
  link:p1-p2@0.5                      the link p1-p2 loses every message from 0.5 on
  link:p1-p2@0.5..0.9                 ... only in the window [0.5, 0.9)
  'link:p1->p2@0.5..0.9'              ... in one direction only
  'send-omission:p2->p3@0.2..0.9'     p2 omits to send to p3 (p2@... : to anyone)
  'receive-omission:p3<-p1@0.2..0.9'  p3 omits to receive from p1 (p3@... : from anyone)
  general-omission:p2@0.2..0.9        p2 omits to send and to receive
  'send-omission:c1->p2@0'            clients can be faulty too
  restart:p1@2.0                      a crashed p1 starts again with what it saved
                                      (restartable protocols; outside the models)
  ...~0.3                             suffix: lose each message with probability 0.3
  crash:p2@r3/p1,p4                   lock-step: p2 crashes in round 3; only p1 and
                                      p4 get its round-3 messages
  byzantine:p3=equivocate             p3 runs adversary code instead of its own, from
                                      the start: silent, crash-like, equivocate,
                                      garbage, replay, or module.path:Class (a
                                      ByzantineNode subclass of yours)

\b
Timing models (--timing): synchronous (seed 001: delays in [delta-min, delta], FIFO),
partial-sync (before --gst, delays up to --delay-cap and reordering; a message sent at
t arrives by min(t + cap, max(t, GST) + delta), within delta after GST), lock-step
(rounds; fault times are rounds, r3), async (no clock: the adversary picks the next
message or timer, --schedule random, oldest, split (keeps ben-or's values split) or
a file of 'start p1' / 'deliver 7' / 'fire p1 "retry"' / 'crash p2' lines; fault
times count steps). A protocol run under a timing it is not built for still runs,
and the run says so.

\b
Exit status: 0 every check holds, 1 a check is violated, 2 bad usage.
"""


@click.command("sim", epilog=FAULT_HELP)
@click.option(
    "--protocol",
    default="pb-crash",
    show_default=True,
    help=f"One of {', '.join(protocol_names())}, or your own as module.path:ClassName.",
)
@click.option(
    "--replicas", type=click.IntRange(min=1), help="Number of servers [default: the protocol's]."
)
@seconds_option("--delta", default=0.01, help_text="δ: the bound on message delay, seconds.")
@seconds_option(
    "--delta-min", default=None, zero_ok=True, help_text="Least message delay [default: δ/10]."
)
@seconds_option("--tau", default=0.05, help_text="τ: the heartbeat period, seconds.")
@click.option("--clients", type=click.IntRange(min=0), default=4, show_default=True)
@click.option(
    "--ops",
    type=click.IntRange(min=0),
    default=2000,
    show_default=True,
    help="Operations issued by all clients together.",
)
@click.option(
    "--app", type=click.Choice(["kv", "register", "counter"]), default="kv", show_default=True
)
@click.option(
    "--keys",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Keys of the kv workload.",
)
@click.option("--mix", help="Op weights, e.g. get=2,put=1,append=1,cas=1.")
@click.option(
    "--fault", "faults", multiple=True, metavar="SPEC", help="A fault (see below); repeatable."
)
@click.option(
    "--timing",
    type=click.Choice(TIMINGS),
    help="The timing model (see below) [default: the protocol's own: synchronous, "
    "lock-step for seed 002's round protocols].",
)
@click.option(
    "--gst",
    type=finite_seconds(zero_ok=True),
    help="partial-sync: the global stabilization time, seconds [default: 0].",
)
@click.option(
    "--delay-cap",
    type=finite_seconds(),
    help="partial-sync: the longest delay before GST, seconds [default: 10 delta].",
)
@click.option(
    "--schedule",
    "schedule",
    default="random",
    show_default=True,
    metavar="random|oldest|split|FILE",
    help="async: who picks the next event — a seeded adversary, oldest first, one that "
    "keeps a consensus protocol's values split (ben-or), or a file.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--inputs",
    metavar="V,V,...",
    help="ben-or, initially-dead, paxos-timeouts: the processes' inputs, p1 first "
    "[default: 0,1,0,1,...].",
)
@click.option(
    "--client-timeout",
    type=finite_seconds(),
    help="Client retry time-out, seconds [default: the protocol's; a warning when it is "
    "shorter than a round trip].",
)
@click.option(
    "--think",
    type=finite_seconds(zero_ok=True),
    default=0.0,
    show_default=True,
    help="Clients pause a random time in [0, THINK] s between ops.",
)
@click.option(
    "--time-limit",
    type=finite_seconds(),
    default=3600.0,
    show_default=True,
    help="Stop the run at this virtual time (seconds; steps under --timing async).",
)
@untrusted_clients_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--quiet",
    is_flag=True,
    help="No progress bar for a long run (there is none when stderr is no terminal).",
)
@click.option(
    "--trace",
    "trace_path",
    type=output_path(),
    help="Write the trace (JSON Lines; gzipped if FILE ends in .gz).",
)
@click.option(
    "--history",
    "history_path",
    type=output_path(),
    help="Write the client history (JSON Lines, for check-history or other tools).",
)
@click.option(
    "--html",
    "html_path",
    type=output_path(),
    help="Write a self-contained HTML report.",
)
def sim(
    protocol: str,
    replicas: int | None,
    delta: float,
    delta_min: float | None,
    tau: float,
    clients: int,
    ops: int,
    app: str,
    keys: int,
    mix: str | None,
    faults: tuple[str, ...],
    timing: str | None,
    gst: float | None,
    delay_cap: float | None,
    schedule: str,
    seed: int,
    inputs: str | None,
    client_timeout: float | None,
    think: float,
    time_limit: float,
    untrusted_clients: bool,
    as_json: bool,
    quiet: bool,
    trace_path: Path | None,
    history_path: Path | None,
    html_path: Path | None,
) -> None:
    """Run a protocol in the simulator, then check Pb1–Pb5, linearizability and log
    agreement, and measure failover, blocking and outages against the protocol's target
    and Table 1's lower bound.

    Example: smrkit sim --protocol pb-crash --replicas 3 --fault crash:p1@1.0 --seed 7
    """
    try:
        resolved = ensure_registered(protocol)
    except ProtocolRefError as error:
        raise UserError(str(error)) from None
    timing = resolved.spec.timings[0] if timing is None else timing
    try:
        weights = None if mix is None else tuple(sorted(parse_mix(mix).items()))
    except WorkloadError as error:
        raise UserError(str(error)) from None
    schedule, script = _schedule(schedule)
    config = SimConfig(
        protocol=protocol,
        replicas=replicas,
        clients=clients,
        ops=ops,
        app=app,
        keys=keys,
        mix=weights,
        delta_s=delta,
        delta_min_s=delta_min,
        tau_s=tau,
        faults=faults,
        seed=seed,
        client_timeout_s=client_timeout,
        think_s=think,
        time_limit_s=time_limit,
        timing=timing,
        gst_s=gst,
        delay_cap_s=delay_cap,
        schedule=schedule,
        script=script,
        clients_trusted=not untrusted_clients,
        inputs=None if inputs is None else _inputs(inputs),
    )
    try:
        warn_short_timeout("smrkit sim", config)
        with ProgressBar(f"sim {protocol}", ops, show=wanted(quiet)) as bar:
            run = run_simulation(
                config, progress=lambda done, now: bar.update(done, note=f"t = {now:.2f} s")
            )
    except ConfigError as error:
        raise UserError(str(error), "see 'smrkit sim --help'") from None
    if isinstance(run.claims, ConsensusClaims):
        if history_path is not None:
            raise UserError(
                f"{protocol} serves no clients, so its run has no history",
                "drop --history (--trace writes the run's records)",
            )
        _agreement_run(run, as_json, trace_path, html_path)
        return
    evaluation = evaluate_run(run)
    trace_hash = run.trace.trace_hash()
    summary = run_json(run, evaluation, trace_hash)
    written = _write_outputs(run, evaluation, summary, trace_path, history_path, html_path)
    _finish(
        summary if as_json else None,
        lambda console: print_run(console, run, evaluation, trace_hash),
        written,
        ok=evaluation.ok,
    )


def _finish(
    summary: dict[str, Any] | None,
    show: Callable[[Console], None],
    written: list[tuple[str, Path]],
    *,
    ok: bool,
) -> None:
    """Print ``summary`` as JSON, or ``show`` the run and what was written; exit 0 if
    every check held, else 1."""
    if summary is not None:
        click.echo(json.dumps(summary))
    else:
        console = make_console()
        show(console)
        for what, path in written:
            console.print(f"{what} written to {path}")
    click.get_current_context().exit(0 if ok else 1)


def _agreement_run(
    run: SimRun, as_json: bool, trace_path: Path | None, html_path: Path | None
) -> None:
    """An agreement protocol's run (seed 002): its specification's checks and rounds."""
    from smrkit.check.agreement_run import evaluate_agreement
    from smrkit.report.agreement import agreement_json, print_agreement_run

    assert isinstance(run.claims, ConsensusClaims)
    evaluation = evaluate_agreement(run.trace, run.claims)
    trace_hash = run.trace.trace_hash()
    summary = agreement_json(run, evaluation, trace_hash)
    written: list[tuple[str, Path]] = []
    try:
        if trace_path is not None:
            run.trace.write(trace_path)
            written.append(("trace", trace_path))
        if html_path is not None:
            from smrkit.report.round_page import write_round_report

            write_round_report(html_path, summary, run.trace)
            written.append(("report", html_path))
    except OSError as error:
        raise UserError(f"cannot write {error.filename}: {error.strerror}") from None
    _finish(
        summary if as_json else None,
        lambda console: print_agreement_run(console, run, evaluation, trace_hash),
        written,
        ok=evaluation.ok,
    )


def _inputs(text: str) -> tuple[int, ...]:
    """``--inputs 0,1,1``: one integer per process."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UserError(
            f"--inputs {text!r} is not a list of integers", "write it as 0,1,1 (p1 first)"
        ) from None


def warn_short_timeout(command: str, config: SimConfig) -> None:
    """A warning on stderr when ``--client-timeout`` is shorter than a fault-free round
    trip (:func:`~smrkit.sim.world.round_trip_s`), naming the least sensible value."""
    chosen = config.client_timeout_s
    least = round_trip_s(config) if chosen is not None else None
    if chosen is None or least is None or chosen >= least:
        return
    click.echo(
        f"{command}: warning: --client-timeout {chosen:g} s is shorter than a round trip "
        f"(2δ + blocking = {least:g} s): clients retry commands still being answered, and "
        f"fault-free runs may break Pb4; use at least {least:g}",
        err=True,
    )


def _schedule(value: str) -> tuple[str, tuple[str, ...]]:
    """``--schedule``: a policy name, or a file whose lines are the schedule."""
    if value in ("random", "oldest", "split"):
        return value, ()
    path = Path(value)
    if not path.is_file():
        raise UserError(
            f"--schedule {value!r} is neither random, oldest, split nor a file",
            "give a schedule file, one event per line ('deliver 7')",
        )
    try:
        return "script", tuple(path.read_text(encoding="utf-8").splitlines())
    except OSError as error:
        raise UserError(f"cannot read the schedule {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise UserError(
            f"cannot read the schedule {path}: not UTF-8 text (byte {error.start})",
            "give a text file, one event per line ('deliver 7')",
        ) from None


def _write_outputs(
    run: SimRun,
    evaluation: Evaluation,
    summary: dict[str, Any],
    trace_path: Path | None,
    history_path: Path | None,
    html_path: Path | None,
) -> list[tuple[str, Path]]:
    def history(path: Path) -> None:
        from smrkit.check.parsers import write_jsonl

        write_jsonl(evaluation.history, path)

    def report(path: Path) -> None:
        from smrkit.report.html import write_report

        write_report(path, summary, run.trace, evaluation.analysis.gaps)

    outputs: list[tuple[str, Path | None, Callable[[Path], None]]] = [
        ("trace", trace_path, run.trace.write),
        ("history", history_path, history),
        ("report", html_path, report),
    ]
    written: list[tuple[str, Path]] = []
    for what, path, write in outputs:
        if path is None:
            continue
        try:
            write(path)
        except OSError as error:
            raise UserError(file_error("write", path, error)) from None
        written.append((what, path))
    return written
