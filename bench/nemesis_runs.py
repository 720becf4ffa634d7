"""Jepsen-style runs of a real cluster under a nemesis, several in a row, each on a
fresh cluster: does every one end with a primary serving?

For each nemesis (``--nemesis kill,partition``) and each seed 1…``--runs``: ``smrkit
cluster init`` (3 replicas, ``--protocol``, default pb-general-omission) and ``up`` in
a temporary directory, ``smrkit test --time T --nemesis N --seed S --json``, then
``smrkit cluster status --json`` and ``smrkit kv get k0`` — the end state: which
replica is primary, and whether a client is served — and ``cluster down``. Prints a
line per run (verdict, ops, availability of the offered ops as ``smrkit test``
prints it, lost and duplicated writes, the primary at the end, the read) and, last,
one JSON line with every run. Figures, not assertions; the runs take about ``T + 15`` s each.

    python bench/nemesis_runs.py [--runs 5] [--time 30] [--nemesis kill,partition]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def smrkit(*argv: str, timeout_s: float = 300.0) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "smrkit", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)


def one_run(protocol: str, nemesis: str, seed: int, time_s: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smrkit-nemesis-") as tmp:
        directory = str(Path(tmp) / "cluster")
        smrkit("cluster", "init", "--protocol", protocol, "--replicas", "3", "--dir", directory)
        up = smrkit("cluster", "up", directory)
        if up.returncode != 0:
            return {"nemesis": nemesis, "seed": seed, "error": up.stderr.strip()}
        try:
            test = smrkit(
                "test", "--cluster", directory, "--time", str(time_s),
                "--nemesis", nemesis, "--seed", str(seed), "--json",
                timeout_s=time_s + 600,
            )  # fmt: skip
            summary = json.loads(test.stdout) if test.stdout.strip() else {}
            status = json.loads(smrkit("cluster", "status", directory, "--json").stdout)
            read = smrkit("kv", "--cluster", directory, "get", "k0", timeout_s=60)
        finally:
            smrkit("cluster", "down", directory)
    primaries = [r for r, s in status.items() if s.get("ok") and s.get("is_primary")]
    serving = [r for r, s in status.items() if s.get("ok") and s.get("serving")]
    return {
        "nemesis": nemesis,
        "seed": seed,
        "exit": test.returncode,
        "verdict": summary.get("verdict"),
        "ops": summary.get("ops"),
        "availability": summary.get("availability"),
        "lost_writes": summary.get("lost_writes"),
        "duplicated_writes": summary.get("duplicated_writes"),
        "faults": summary.get("faults"),
        "primary_at_end": primaries,
        "serving_at_end": serving,
        "read_at_end": read.returncode == 0,
        "read_error": read.stderr.strip() or None,
    }


def line(run: dict[str, Any]) -> str:
    if "error" in run:
        return f"{run['nemesis']:9} seed {run['seed']}: cluster up failed: {run['error']}"
    ops = run["ops"] or {}
    availability = run["availability"]
    shown = "—" if availability is None else f"{availability * 100:.2f} %"
    read = "ok" if run["read_at_end"] else "FAILED"
    return (
        f"{run['nemesis']:9} seed {run['seed']}: {run['verdict']}, ops offered "
        f"{ops.get('offered')} (ok {ops.get('ok')}, fail {ops.get('fail')}, "
        f"info {ops.get('info')}), availability {shown} of offered, "
        f"lost {run['lost_writes']}, twice {run['duplicated_writes']}; "
        f"at the end primary {','.join(run['primary_at_end']) or 'NONE'}, "
        f"serving {','.join(run['serving_at_end'])}, kv get {read}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="pb-general-omission")
    parser.add_argument("--nemesis", default="kill,partition")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--time", type=float, default=30.0)
    args = parser.parse_args(argv)
    runs = []
    for nemesis in args.nemesis.split(","):
        for seed in range(1, args.runs + 1):
            run = one_run(args.protocol, nemesis, seed, args.time)
            runs.append(run)
            print(line(run), flush=True)
    ended_with_primary = sum(1 for r in runs if r.get("primary_at_end") and r.get("read_at_end"))
    print(json.dumps({"runs": runs, "ended_with_a_primary": ended_with_primary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
