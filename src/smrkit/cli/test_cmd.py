"""``smrkit test``: a Jepsen-style test of a running cluster (:mod:`smrkit.net.jepsen`).

Exit status: 0 the history is linearizable and no acknowledged write was lost or
applied twice; 1 otherwise (or the checker ran out of time); 2 bad usage.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import click

from smrkit.cli.cluster_cmd import load
from smrkit.cli.errors import UserError
from smrkit.cli.options import FiniteNumber, output_path
from smrkit.net.auth import SecretError


def _nemeses(text: str) -> tuple[str, ...]:
    from smrkit.net.jepsen import NEMESES

    kinds = tuple(k.strip() for k in text.split(",") if k.strip() and k.strip() != "none")
    unknown = [k for k in kinds if k not in NEMESES]
    if unknown:
        raise UserError(
            f"unknown nemesis {', '.join(unknown)}", f"use a list of {', '.join(NEMESES)}"
        )
    return kinds


@click.command("test")
@click.option("--cluster", "directory", type=click.Path(path_type=Path), required=True)
@click.option(
    "--time", "time_s", type=FiniteNumber(1.0, unit="seconds"), default=30.0, show_default=True
)
@click.option("--rate", type=FiniteNumber(1.0, unit="ops/s"), default=500.0, show_default=True)
@click.option("--nemesis", default="kill,partition", show_default=True, help="kill,partition,omit")
@click.option("--clients", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--keys", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--html", "html_path", type=output_path())
def test(
    directory: Path,
    time_s: float,
    rate: float,
    nemesis: str,
    clients: int,
    keys: int,
    seed: int,
    as_json: bool,
    html_path: Path | None,
) -> None:
    """Run a workload against the cluster while a nemesis injects faults; check the
    history for linearizability and lost writes. A killed replica is restarted after
    half a slot if the protocol is restartable; a crash-stop one's stays down."""
    from smrkit.net.files import open_private, private_dir
    from smrkit.net.jepsen import JepsenPlan, latency_timeline, run_test

    config = load(directory)
    plan = JepsenPlan(
        time_s=time_s, rate=rate, nemesis=_nemeses(nemesis), clients=clients, keys=keys, seed=seed
    )
    out_dir = private_dir(config.base / "tests") / time.strftime("%Y%m%dT%H%M%S")
    try:
        result = asyncio.run(run_test(config, plan, out_dir))
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
        ops = summary["ops"]
        lat = summary["latency_ms"]
        click.echo(f"verdict: {summary['verdict']}")
        click.echo(
            f"ops: {ops['total']} (ok {ops['ok']}, fail {ops['fail']}, info {ops['info']}); "
            f"availability {summary['availability'] * 100:.2f} %"
            if summary["availability"] is not None
            else f"ops: {ops['total']}"
        )
        click.echo(
            f"acknowledged writes lost: {summary['lost_writes']}; applied twice: "
            f"{summary['duplicated_writes']}"
        )
        if lat["p50"] is not None:
            click.echo(f"latency: p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms")
        for fault in summary["faults"]:
            healed = "restarted" if fault["kind"] == "kill" else "healed"
            end = "not healed" if fault["end"] is None else f"{healed} at {fault['end']:.2f} s"
            click.echo(f"fault: {fault['kind']} {fault['target']} at {fault['start']:.2f} s, {end}")
        click.echo(f"history: {summary['history']}")
        if html_path is not None:
            click.echo(f"report: {html_path}")
    if not summary["valid"]:
        raise SystemExit(1)
