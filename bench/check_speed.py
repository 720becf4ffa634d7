"""How fast the linearizability checker decides the shared test histories.

Runs :func:`smrkit.check.linearizability.check_linearizability` on every file listed in
the ``verdicts.json`` of each folder of the test data (default ``../shared/testdata``
next to the repository), prints one row per file, then, as its last line, one JSON
object with the totals. Figures, not assertions: the test suite checks the verdicts.

    python bench/check_speed.py [--testdata DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from smrkit.check.linearizability import check_linearizability
from smrkit.check.parsers import load_history

_BESIDE = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"
DEFAULT_TESTDATA = _BESIDE if _BESIDE.is_dir() else Path("/work/shared/testdata")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA)
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the best counts")
    args = parser.parse_args(argv)
    root: Path = args.testdata
    folders = sorted(p.parent for p in root.glob("*/verdicts.json"))
    if not folders:
        print(f"no */verdicts.json under {root}", file=sys.stderr)
        return 2

    print(f"checker time per file: best of {args.repeat} runs (parsing not included)")
    print(f"{'file':<28} {'ops':>5}  {'verdict':<13} {'expected':<13} {'seconds':>8}")
    total = 0.0
    worst: dict[str, float] = {}
    all_match = True
    for folder in folders:
        verdicts = json.loads((folder / "verdicts.json").read_text())
        for name, linearizable in sorted(verdicts.items()):
            history = load_history(folder / name)
            best = float("inf")
            verdict = ""
            for _ in range(max(1, args.repeat)):
                started = time.perf_counter()
                result = check_linearizability(history)
                best = min(best, time.perf_counter() - started)
                verdict = result.verdict
            expected = "linearizable" if linearizable else "violation"
            all_match &= verdict == expected
            total += best
            worst[folder.name] = max(worst.get(folder.name, 0.0), best)
            label = f"{folder.name}/{name}"
            mark = "" if verdict == expected else "  MISMATCH"
            print(f"{label:<28} {result.ops:>5}  {verdict:<13} {expected:<13} {best:>8.4f}{mark}")

    summary = {
        "total_s": round(total, 4),
        "max_file_s": round(max(worst.values()), 4),
        "max_etcd_s": round(worst.get("jepsen-etcd", 0.0), 4),
        "max_kv_s": round(worst.get("kv", 0.0), 4),
        "all_verdicts_match": all_match,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
