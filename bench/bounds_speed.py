"""How long ``smrkit bounds --f 1 --seeds 200`` takes: Table 1 reproduced end to end,
and how many bytes of counterexample traces it writes.

Runs the real command in a subprocess (every core: its sweeps use a process pool), shows
its table, and prints as its last line ``{"seconds": …}`` with the wall time, the
number of cores, the bytes and number of trace files written (gzipped ``.jsonl.gz``;
186 MB of plain traces before runs that were dead for good stopped at a bounded
horizon), and the command's exit status. The target is under 120 s on the 2-core
development machine. Figures, not assertions: the test suite checks the table's content.

    python bench/bounds_speed.py [--f 1] [--seeds 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--f", default="1", help="numbers of failures, e.g. 1,2")
    parser.add_argument("--seeds", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as traces:
        command = [
            sys.executable, "-m", "smrkit", "bounds",
            "--f", args.f, "--seeds", str(args.seeds), "--traces", traces,
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        files = [os.path.join(traces, name) for name in os.listdir(traces)]
        trace_bytes = sum(os.path.getsize(path) for path in files)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "f": args.f,
                "seeds": args.seeds,
                "cores": os.cpu_count(),
                "trace_files": len(files),
                "trace_bytes": trace_bytes,
                "exit": done.returncode,
            }
        )
    )
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
