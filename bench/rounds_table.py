"""Seed 002's f + 1 round bound, measured: ``smrkit rounds`` for n = 3…5 and f = 1…3.

For each n and f (f < n), runs the real command twice in a subprocess — floodset made to
decide after R = f rounds (one too few: a dangerous chain breaks it) and after R = f + 1
(the bound: the whole space of crash patterns is explored) — and prints one table row
per run: rounds, crash patterns explored, states, violation found or not, the search's
seconds (``seconds`` of its ``--json``) and its exit status. Then, for floodset-early
(``--early``), the distribution of decision rounds over every crash pattern: how many
patterns end with f' crashes and the last correct decision in round d, against the
claim min(f' + 2, f + 1). Figures, not assertions; the tests pin small cases.

    python bench/rounds_table.py [--protocol floodset] [--early]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def rounds_row(protocol: str, n: int, f: int, r: int) -> dict[str, object]:
    command = [
        sys.executable, "-m", "smrkit", "rounds", "--protocol", protocol,
        "--replicas", str(n), "--f", str(f), "--rounds", str(r), "--json",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    result: dict[str, object] = json.loads(done.stdout)
    result["exit"] = done.returncode
    return result


def table(protocol: str) -> None:
    print(f"smrkit rounds --protocol {protocol} --replicas N --f F --rounds R --json")
    print("| n | f | R | patterns explored | states | violation | seconds | exit |")
    print("|---|---|---|---:|---:|---|---:|---:|")
    for n in (3, 4, 5):
        for f in (1, 2, 3):
            if f >= n:
                print(f"| {n} | {f} | — | — | — | — (f < n needed) | — | — |")
                continue
            for r in (f, f + 1):
                row = rounds_row(protocol, n, f, r)
                violation = row["violation"]
                why = " (n = f + 1)" if violation is None and r <= f and n < f + 2 else ""
                found = (
                    f"none: whole space{why}"
                    if violation is None and row["exhausted"]
                    else "none: stopped by a bound"
                    if violation is None
                    else f"{violation['property']} ({violation['found_by']})"  # type: ignore[index]
                )
                print(
                    f"| {n} | {f} | {r} | {row['patterns_explored']:,} | {row['states']:,} "
                    f"| {found} | {row['seconds']:.2f} | {row['exit']} |"
                )
                sys.stdout.flush()


def early() -> None:
    from smrkit.explore.rounds import RoundsSearch, decision_rounds
    from smrkit.protocols.agreement import EarlyFloodSet

    print("\nfloodset-early: decision rounds over every crash pattern (R = f + 1)")
    print("| n | f | f' | patterns | last correct decision: round → patterns | claim | seconds |")
    print("|---|---|---|---:|---|---:|---:|")
    for n in (3, 4, 5):
        for f in (1, 2, 3):
            if f >= n:
                continue
            started = time.perf_counter()
            found = decision_rounds(
                RoundsSearch("floodset-early", EarlyFloodSet, replicas=n, f=f, rounds=f + 1)
            )
            seconds = time.perf_counter() - started
            for crashes in sorted({c for c, _ in found}):
                spread = {d: k for (c, d), k in found.items() if c == crashes}
                text = ", ".join(f"{d} → {k:,}" for d, k in sorted(spread.items(), key=str))
                claim = min(crashes + 2, f + 1)
                print(
                    f"| {n} | {f} | {crashes} | {sum(spread.values()):,} | {text} | ≤ {claim} "
                    f"| {seconds:.2f} |"
                )
            sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="floodset")
    parser.add_argument("--early", action="store_true", help="only the early-stopping table")
    args = parser.parse_args(argv)
    if not args.early:
        table(args.protocol)
    early()
    return 0


if __name__ == "__main__":
    sys.exit(main())
