"""``smrkit test`` several times in a row on one cluster: issue 9's "Done when".

One cluster (``smrkit cluster init --protocol P --replicas 3`` and ``up`` in a temporary
directory), then ``--runs`` runs of ``smrkit test --time T --rate R --nemesis N --json``
on it, one after the other, then ``cluster status --json`` and ``cluster down``. Each
run must be linearizable with no acknowledged write lost or applied twice, and have at
least ``--min-availability`` of its *offered* operations acknowledged. Prints one row
per run (verdict, offered/ok/info, availability, lost, twice, longest stretch without
an acknowledged op, each fault's outage and the next ack after its heal), the replicas
at the end, per kind of fault the medians of both over every run, one JSON line with
everything, and exits 1 if any run misses a target (2 if the cluster does not start).
Before each run it waits (up to ``--wait`` s, and says how long) until every replica
serves: a replica may be between a halt and its restart when the previous run ends,
and ``smrkit test`` refuses a cluster with fewer live replicas than it needs.

    python bench/jepsen_in_a_row.py [--runs 5] [--time 30] [--rate 300]
        [--nemesis kill,partition] [--protocol raft] [--delta S] [--tau S]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def smrkit(*argv: str, timeout_s: float = 900.0) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "smrkit", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)


def start_cluster(directory: str, protocol: str, *timing: str) -> str | None:
    """``cluster init`` and ``up`` in ``directory``; why not, or ``None`` once it serves."""
    init = smrkit("cluster", "init", "--protocol", protocol, *timing, "--dir", directory)
    up = smrkit("cluster", "up", directory)
    if init.returncode != 0 or up.returncode != 0:
        return f"cluster did not start: {init.stderr.strip()} {up.stderr.strip()}"
    return None


def wait_until_all_serve(directory: str, limit_s: float) -> float:
    """Seconds waited until every replica serves (a replica may be between a halt and
    its restart when a run ends); gives up after ``limit_s``."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        status = json.loads(smrkit("cluster", "status", directory, "--json").stdout or "{}")
        if status and all(s.get("ok") and s.get("serving") for s in status.values()):
            break
        time.sleep(1.0)
    return time.monotonic() - started


def misses(run: dict[str, Any], min_availability: float) -> list[str]:
    """The targets a run missed (empty: it met them all)."""
    found = []
    if run.get("verdict") != "linearizable":
        found.append(f"verdict {run.get('verdict')}")
    if run.get("lost_writes") != 0:
        found.append(f"lost {run.get('lost_writes')}")
    if run.get("duplicated_writes") != 0:
        found.append(f"twice {run.get('duplicated_writes')}")
    availability = run.get("availability")
    if availability is None or availability < min_availability:
        found.append(f"availability below {min_availability * 100:.0f} %")
    return found


def row(index: int, run: dict[str, Any], missed: list[str]) -> str:
    if "error" in run:
        return f"{index:>3}  exit {run.get('exit')}: {run['error']}"
    ops = run["ops"]
    gap = run["longest_gap"]
    faults = ", ".join(
        f"{f['kind']} {f['target'].split()[0]} {f['outage']['seconds']:.1f} s"
        if f.get("outage")
        else f"{f['kind']} {f['target'].split()[0]} –"
        for f in run["faults"]
    )
    heals = ", ".join(
        "–" if f.get("recover_s") is None else f"{f['recover_s']:.2f} s" for f in run["faults"]
    )
    return (
        f"{index:>3}  {run['verdict']:12}  {ops['offered']:>7}  {ops['ok']:>6}  {ops['info']:>5}"
        f"  {run['availability'] * 100:>6.2f} %  {run['lost_writes']:>4}  "
        f"{run['duplicated_writes']:>5}  {gap['seconds']:>6.2f} s  "
        f"{'ok' if not missed else 'MISSED: ' + '; '.join(missed)}  [{faults}]; "
        f"next ack after each heal [{heals}]; waited "
        f"{run['waited_s']:.0f} s for every replica to serve"
    )


def fault_figures(runs: list[dict[str, Any]]) -> list[str]:
    """Per kind of fault, over every run: the longest stretch without an ack during the
    fault, and the time from its heal to the next ack — median, min and max."""
    lines = []
    faults = [f for run in runs for f in run.get("faults", ())]
    for kind in sorted({f["kind"] for f in faults}):
        of_kind = [f for f in faults if f["kind"] == kind]
        outages = sorted(f["outage"]["seconds"] if f.get("outage") else 0.0 for f in of_kind)
        heals = sorted(f["recover_s"] for f in of_kind if f.get("recover_s") is not None)
        said = [f"{kind}: {len(of_kind)} faults; longest stretch without an ack {_spread(outages)}"]
        said.append(f"next ack after the heal {_spread(heals)} ({len(heals)} heals)")
        lines.append(", ".join(said))
    return lines


def _spread(values: list[float]) -> str:
    if not values:
        return "–"
    return f"median {statistics.median(values):.2f} s ({values[0]:.2f}–{values[-1]:.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="pb-general-omission")
    parser.add_argument("--nemesis", default="kill,partition")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--time", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--min-availability", type=float, default=0.80)
    parser.add_argument("--delta", help="δ for cluster init, seconds (default: its own)")
    parser.add_argument("--tau", help="τ for cluster init, seconds (default: its own)")
    parser.add_argument(
        "--wait", type=float, default=90.0, help="seconds to wait for every replica to serve"
    )
    args = parser.parse_args(argv)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="smrkit-in-a-row-") as tmp:
        directory = str(Path(tmp) / "cluster")
        timing = [
            *(("--delta", args.delta) if args.delta else ()),
            *(("--tau", args.tau) if args.tau else ()),
        ]
        problem = start_cluster(directory, args.protocol, *timing)
        if problem is not None:
            print(problem)
            return 2
        try:
            print(
                f"{args.runs} runs of smrkit test --time {args.time:g} --rate {args.rate:g} "
                f"--nemesis {args.nemesis} on one {args.protocol} cluster of 3"
                + (f" ({' '.join(timing)})" if timing else "")
            )
            print(
                "run  verdict        offered      ok   info  availab.  lost  twice  "
                "no-ack max  targets  [each fault's longest stretch without an ack]"
            )
            for index in range(1, args.runs + 1):
                waited = wait_until_all_serve(directory, args.wait)
                test = smrkit(
                    "test", "--cluster", directory, "--time", str(args.time),
                    "--rate", str(args.rate), "--nemesis", args.nemesis,
                    "--seed", str(index), "--json", "--quiet",
                )  # fmt: skip
                try:
                    run: dict[str, Any] = json.loads(test.stdout)
                except json.JSONDecodeError:
                    lines = test.stderr.strip().splitlines()
                    run = {"error": lines[-1] if lines else "no output"}
                run["exit"] = test.returncode
                run["waited_s"] = waited
                missed = ["no result"] if "error" in run else misses(run, args.min_availability)
                run["missed"] = missed
                runs.append(run)
                print(row(index, run, missed), flush=True)
            status = json.loads(smrkit("cluster", "status", directory, "--json").stdout or "{}")
        finally:
            smrkit("cluster", "down", directory)
    print(
        "replicas at the end: "
        + ", ".join(
            f"{r} {s.get('role') or ('primary' if s.get('is_primary') else 'backup')}"
            if s.get("ok") and s.get("serving")
            else f"{r} {'halted' if s.get('ok') else 'dead'}"
            for r, s in status.items()
        )
    )
    for line in fault_figures(runs):
        print(line)
    failed = sum(1 for run in runs if run["missed"])
    print(f"{len(runs) - failed} of {len(runs)} runs met every target")
    slim = [{k: v for k, v in run.items() if k not in ("final", "witness")} for run in runs]
    print(json.dumps({"runs": slim, "met": len(runs) - failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
