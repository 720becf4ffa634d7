"""``smrkit test``: a Jepsen-style test of a running cluster (:mod:`smrkit.net.jepsen`).

Exit status, as ``check-history``'s: 0 the history is linearizable and no acknowledged
write was lost or applied twice; 1 a violation; 3 unknown (nothing acknowledged, the
checker ran out of time, or a final read never answered); 2 bad usage, or a cluster
that is down or has fewer live replicas than its protocol needs.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import click

from smrkit.cli.cluster_cmd import load
from smrkit.cli.errors import UserError
from smrkit.cli.options import FiniteNumber, output_path, seconds_option
from smrkit.cli.progress import ProgressBar, wanted
from smrkit.net.auth import SecretError
from smrkit.net.jepsen import CHECK_TIMEOUT_S, FINAL_READ_S, OP_TIMEOUT_S, timing_consequence

EXIT_CODES = {"linearizable": 0, "violation": 1, "unknown": 3}
SPARK = " ▁▂▃▄▅▆▇█"
SPARK_WIDTH_MAX = 60
EXAMPLE = (
    "Example: smrkit test --cluster /tmp/c --time 30 --rate 300 "
    "--nemesis kill,partition --html /tmp/c/report.html"
)


def _nemeses(text: str) -> tuple[str, ...]:
    from smrkit.net.jepsen import NEMESES

    kinds = tuple(k.strip() for k in text.split(",") if k.strip() and k.strip() != "none")
    unknown = [k for k in kinds if k not in NEMESES]
    if unknown:
        raise UserError(
            f"unknown nemesis {', '.join(unknown)}", f"use a list of {', '.join(NEMESES)}"
        )
    return kinds


@click.command("test", epilog=EXAMPLE)
@click.option(
    "--cluster",
    "directory",
    type=click.Path(path_type=Path),
    required=True,
    metavar="DIR",
    help="The cluster directory (of 'smrkit cluster init'); the cluster must be up.",
)
@click.option(
    "--time",
    "time_s",
    type=FiniteNumber(1.0, unit="seconds"),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds of load.",
)
@click.option(
    "--rate",
    type=FiniteNumber(1.0, unit="ops/s"),
    default=500.0,
    show_default=True,
    metavar="OPS/S",
    help="Offered load, operations per second, issued on schedule whatever the latency.",
)
@click.option(
    "--nemesis",
    default="kill,partition",
    show_default=True,
    help="Faults, comma-separated: kill, partition, omit ('' or none: no faults).",
)
@click.option(
    "--clients",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    metavar="N",
    help="Client processes at the start; more start when all are busy.",
)
@click.option(
    "--keys",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    metavar="N",
    help="Registers and as many append-only logs (fresh ones each run).",
)
@seconds_option(
    "--op-timeout",
    "op_timeout_s",
    default=OP_TIMEOUT_S,
    help_text="Seconds an operation may go unanswered before its process is retired (info: "
    "it may have taken effect) and a fresh one takes its place; at least a round trip, 2δ.",
)
@seconds_option(
    "--final-read-timeout",
    "final_read_s",
    default=FINAL_READ_S,
    help_text="Seconds, after the load and every fault healed, to get one answered read of "
    "each key (retried); a key never read makes the verdict unknown.",
)
@seconds_option(
    "--check-timeout",
    "check_timeout_s",
    default=CHECK_TIMEOUT_S,
    help_text="Seconds (wall clock) the linearizability checker may take; then the verdict "
    "is unknown, exit 3.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the workload.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar on standard error.")
@click.option(
    "--html",
    "html_path",
    type=output_path(),
    metavar="OUT",
    help="Also write an HTML report: availability and latency over time, faults, witness.",
)
def test(
    directory: Path,
    time_s: float,
    rate: float,
    nemesis: str,
    clients: int,
    keys: int,
    op_timeout_s: float,
    final_read_s: float,
    check_timeout_s: float,
    seed: int,
    as_json: bool,
    quiet: bool,
    html_path: Path | None,
) -> None:
    """Run a workload against a cluster while a nemesis injects faults; check the
    history for linearizability and lost writes.

    The load is open-loop: RATE × TIME operations offered, each issued on schedule;
    availability is the share of them acknowledged. A killed replica is restarted half
    a slot later if the protocol is restartable; a crash-stop one's stays down (at most
    f replicas down at once, counting those already down). Exit 0 linearizable, 1
    violation, 3 unknown, 2 a cluster that cannot serve.
    """
    from smrkit.net.files import open_private, private_dir
    from smrkit.net.jepsen import ClusterUnfitError, JepsenPlan, latency_timeline, run_test

    config = load(directory)
    round_trip = 2 * config.delta_s
    if op_timeout_s < round_trip:
        click.echo(
            f"smrkit test: warning: --op-timeout {op_timeout_s:g} s is shorter than a round "
            f"trip the cluster allows (2δ = {round_trip:g} s): answers may come too late and "
            f"their processes be retired as info; use at least {round_trip:g}",
            err=True,
        )
    plan = JepsenPlan(
        time_s=time_s,
        rate=rate,
        nemesis=_nemeses(nemesis),
        clients=clients,
        keys=keys,
        op_timeout_s=op_timeout_s,
        final_read_s=final_read_s,
        check_timeout_s=check_timeout_s,
        seed=seed,
    )
    out_dir = private_dir(config.base / "tests") / time.strftime("%Y%m%dT%H%M%S")
    try:
        with ProgressBar("load", plan.offered, show=wanted(quiet)) as bar:

            def progress(phase: str, done: float, counts: dict[str, int]) -> None:
                note = f"ok {counts['ok']}  fail {counts['fail']}  info {counts['info']}"
                bar.update(round(done * plan.offered), note=note, description=phase)

            result = asyncio.run(run_test(config, plan, out_dir, progress=progress))
    except ClusterUnfitError as error:
        raise UserError(f"cannot test {config.base}: {error}") from None
    except SecretError as error:
        raise UserError(str(error)) from None
    summary = result.to_json()
    with open_private(out_dir / "result.json") as handle:
        handle.write(json.dumps(summary, indent=2) + "\n")
    if html_path is not None:
        from smrkit.report.cluster_html import write_test_report

        try:
            write_test_report(
                html_path,
                summary,
                latency_timeline(result),
                title=f"smrkit test: {config.protocol}, nemesis {nemesis or 'none'}",
                cluster=config,
            )
        except OSError as error:
            raise UserError(
                f"cannot write {html_path}: {error.strerror}", "pass --html PATH"
            ) from None
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        for line in summary_lines(summary):
            click.echo(line)
        if html_path is not None:
            click.echo(f"report: {html_path}")
    raise SystemExit(EXIT_CODES[summary["verdict"]])


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """What ``smrkit test`` prints for ``JepsenResult.to_json()``."""
    ops = summary["ops"]
    lat = summary["latency_ms"]
    lines = [f"verdict: {summary['verdict']}"]
    lines.extend(f"  unknown: {reason}" for reason in summary["unknown_reasons"])
    timing = summary.get("timing")
    if timing and (late := timing["late_messages"] + timing["late_timers"]):
        lines.append(
            f"δ exceeded {late:,} {'time' if late == 1 else 'times'} "
            f"({timing['late_messages']:,} late messages, "
            f"{timing['late_timers']:,} late timers): {timing_consequence(summary)}"
        )
    availability = summary["availability"]
    shown = "–" if availability is None else f"{availability * 100:.2f} %"
    lines.append(
        f"ops: offered {ops['offered']}, invoked {ops['invoked']}: ok {ops['ok']}, "
        f"fail {ops['fail']}, info {ops['info']}; availability {shown} of offered"
    )
    lines.append(workload_line(summary))
    lines.append(
        f"acknowledged writes lost: {summary['lost_writes']}; applied twice: "
        f"{summary['duplicated_writes']}"
    )
    if lat["p50"] is not None:
        lines.append(
            f"latency: p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms, max {lat['max']:.2f} ms"
        )
    lines.extend(timeline_lines(summary))
    gap = summary["longest_gap"]
    lines.append(
        f"longest stretch with no acknowledged op: {gap['seconds']:.2f} s "
        f"({gap['start']:.2f}–{gap['end']:.2f} s)"
    )
    for fault in summary["faults"]:
        lines.append(fault_line(fault))
    for outage in summary["outages"]:
        lines.append(
            f"outage: {outage['seconds']:.2f} s with no acknowledged op "
            f"({outage['start']:.2f}–{outage['end']:.2f} s)"
        )
    after = ", ".join(f"{r} {info['health']}" for r, info in summary["replicas"].items())
    lines.append(f"replicas after: {after}")
    lines.append(f"history: {summary['history']}")
    return lines


def workload_line(summary: dict[str, Any]) -> str:
    """The load and the limits the run had: what a reader needs to judge its figures."""
    return (
        f"workload: {summary['rate']:g} ops/s for {summary['time_s']:g} s, "
        f"{summary['clients']} clients, {summary['keys']} keys; time-outs: op "
        f"{summary['op_timeout_s']:g} s, final reads {summary['final_read_timeout_s']:g} s, "
        f"checker {summary['check_timeout_s']:g} s"
    )


def fault_line(fault: dict[str, Any]) -> str:
    healed = "restarted" if fault["kind"] == "kill" else "healed"
    end = "not healed" if fault["end"] is None else f"{healed} at {fault['end']:.2f} s"
    text = f"fault: {fault['kind']} {fault['target']} at {fault['start']:.2f} s, {end}"
    outage = fault.get("outage")
    if outage is not None:
        text += f"; longest stretch without an ack {outage['seconds']:.2f} s"
    if fault["end"] is not None:
        recover = fault.get("recover_s")
        text += "; no ack after it" if recover is None else f"; next ack {recover:.2f} s after it"
    return text


def timeline_lines(summary: dict[str, Any]) -> list[str]:
    """Acknowledged ops per second as a sparkline scaled to the offered rate, with the
    fault windows marked under it (k kill, p partition, o omit)."""
    per_second: list[int] = summary["acked_per_second"]
    if not per_second:
        return []
    group = max(1, -(-len(per_second) // SPARK_WIDTH_MAX))
    cells = [per_second[i : i + group] for i in range(0, len(per_second), group)]
    full = summary["rate"] * group
    spark = ""
    for cell in cells:
        share = min(1.0, sum(cell) / full) if full else 0.0
        spark += SPARK[0] if sum(cell) == 0 else SPARK[max(1, round(share * (len(SPARK) - 1)))]
    marks = []
    for i in range(len(cells)):
        lo, hi = i * group, i * group + len(cells[i])
        kinds = [
            f["kind"][0]
            for f in summary["faults"]
            if f["start"] < hi and (f["end"] is None or f["end"] > lo)
        ]
        marks.append(kinds[-1] if kinds else "·")
    unit = "s" if group == 1 else f"{group} s"
    return [
        f"acked per {unit}: |{spark}| (█ = {summary['rate'] * group:g} offered, blank = none)",
        f"faults:{' ' * (len(unit) + 5)}|{''.join(marks)}| (k kill, p partition, o omit)",
    ]
