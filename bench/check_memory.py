"""Peak memory of the linearizability checker, per history, beside Porcupine.

Each file is checked by a fresh ``smrkit check-history FILE`` process (and, when
``$SMRKIT_PORCUPINE`` names a harness, by the Porcupine harness on the same file); the
figure is that process's peak resident set size, read from ``wait4`` for that child
alone. The floor — ``smrkit check-history`` on an empty history, the interpreter and the
checker's imports — is printed first, so what a history adds can be read off.

Porcupine gets a kv history as the files of :mod:`porcupine_input` — the keys with
``append`` in its kv model, the others in its int-register model with each value
numbered — since neither of its models alone reads a ``smrkit test`` history (string
registers with ``cas`` beside append logs); the parts' verdicts combine. A row where
the two checkers decide differently, or Porcupine cannot read the file, says
``DISAGREE`` (a time-out, ``unknown``, is no disagreement).

Classes (verdicts known by construction; ``--history FILE`` adds real ones, e.g. the
``history.jsonl`` of a ``smrkit test`` run, with its verdict unchecked):

================  ======================================================================
outage-bursts     300 keys, each a burst of 8 appends answered together after 1.5 s (an
                  outage), a read in the middle and one after: the open-loop shape
outage-info       the same with 2 appends of each burst ``info`` (one took effect)
info-10%          ``bench/check_speed.py``'s class: 20 clients, 5,000 ops, 10 % info
split-brain       ``bench/check_speed.py``'s class (a violation)
================  ======================================================================

    python bench/check_memory.py [--classes …] [--history FILE …] [--timeout 60]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from smrkit.check.events import HistoryFormatError
from smrkit.check.history import History, Operation, Status
from smrkit.check.parsers import load_history, write_jsonl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_speed import GENERATED
from porcupine_input import (
    PORCUPINE_VERDICTS,
    NotExpressibleError,
    combined_verdict,
    write_for_porcupine,
)

EXIT_VERDICTS = {0: "linearizable", 1: "violation", 3: "unknown"}
BURST = 8
GNU_TIME = "/usr/bin/time"


def outage_bursts(seed: int, *, keys: int = 300, info: int = 0) -> History:
    """Per key, BURST appends called 10 ms apart and all answered at once 1.5 s later, in
    a random order; a read called among them sees a random prefix of that order, a read
    after sees all of it. With ``info``, that many appends never answered: the first
    took effect (the final read sees it, last), the others did not."""
    rng = random.Random(seed)
    ops: list[Operation] = []

    def add(f: str, key: str, arg: str | None, out: str | None, call: float, ret: float) -> None:
        status = Status.INFO if ret == math.inf else Status.OK
        ops.append(Operation(len(ops), f"c{len(ops)}", f, key, arg, out, status, call, ret))

    for k in range(keys):
        key, t0 = f"log{k}", 0.1 * k
        values = [f"[{k}.{i}]" for i in range(BURST)]
        order = rng.sample(values, BURST - info)
        for i, value in enumerate(values):
            answered = value in order
            add("append", key, value, None, t0 + 0.01 * i, t0 + 1.5 if answered else math.inf)
        seen = "".join(order[: rng.randrange(BURST - info + 1)])
        add("get", key, None, seen or None, t0 + 0.015, t0 + 1.5)
        took_effect = [v for v in values if v not in order][:1]
        add("get", key, None, "".join(order + took_effect), t0 + 2.0, t0 + 2.1)
    return History(ops=ops, model="kv", initial=None)


CLASSES = {
    "outage-bursts": ("linearizable", outage_bursts),
    "outage-info": ("linearizable", lambda seed: outage_bursts(seed, info=2)),
    "info-10%": (GENERATED["info-10%"][0], GENERATED["info-10%"][2]),
    "split-brain": (GENERATED["split-brain"][0], GENERATED["split-brain"][2]),
}


def peak_of(command: list[str], stdout: Path = Path(os.devnull)) -> tuple[int, float, float]:
    """Run ``command`` with its output to ``stdout``; its exit status, peak RSS in MiB
    and wall seconds.

    The peak is GNU time's (``%M``: ``wait4`` on its child). Not ``wait4`` from here: a
    child forked or vforked from this process starts with this process's peak as its
    high-water mark (Linux carries it across exec), and would report the larger of the
    two; GNU time's own footprint is a few hundred KiB.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss, stdout.open("w") as out:
        started = time.perf_counter()
        done = subprocess.run(
            [GNU_TIME, "-f", "%M", "-o", rss.name, *command],
            stdout=out,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        wall = time.perf_counter() - started
        kib = int(rss.read().strip().splitlines()[-1])
    return done.returncode, kib / 1024, wall


def smrkit_command() -> list[str]:
    script = Path(sys.executable).with_name("smrkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "smrkit"]


def porcupine_peak(
    harness: str, path: Path, timeout_s: float, folder: Path
) -> tuple[str, float, float]:
    """Porcupine's verdict on the history at ``path``, its peak RSS in MiB and wall
    seconds. A kv history goes to the harness as the files of
    :func:`porcupine_input.write_for_porcupine` (one per model of Porcupine's that fits),
    written in ``folder``, and the verdicts combine; the peak is the larger, the wall
    time the sum."""
    try:
        history = load_history(path)
        files = (
            write_for_porcupine(history, folder, f"{path.stem}-porcupine")
            if history.model == "kv"
            else [path]
        )
    except (HistoryFormatError, NotExpressibleError) as error:
        print(f"porcupine: {path.name}: {error}", file=sys.stderr)
        return "error", 0.0, 0.0
    verdicts, peak, wall = [], 0.0, 0.0
    for part in files:
        out = part.with_suffix(".porcupine.json")
        _, part_peak, part_wall = peak_of([harness, "--timeout", str(timeout_s), str(part)], out)
        try:
            verdict = PORCUPINE_VERDICTS[json.loads(out.read_text().splitlines()[-1])["verdict"]]
        except (IndexError, KeyError, ValueError):
            verdict = "error"
        verdicts.append(verdict)
        peak, wall = max(peak, part_peak), wall + part_wall
    return combined_verdict(verdicts), peak, wall


def agrees(ours: str, theirs: str) -> bool:
    """Whether two verdicts on one file agree: equal, or one side gave up (``unknown``,
    a time-out, says nothing). A side that could not read the file (``error``) does not
    agree with anything."""
    if "error" in (ours, theirs) or ours.startswith("exit"):
        return False
    return ours == theirs or "unknown" in (ours, theirs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", default=",".join(CLASSES))
    parser.add_argument("--history", type=Path, action="append", default=[])
    parser.add_argument("--seeds", type=int, default=1, help="files per generated class")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds, each side")
    args = parser.parse_args(argv)
    classes = [name.strip() for name in args.classes.split(",") if name.strip()]
    unknown = [name for name in classes if name not in CLASSES]
    if unknown:
        print(f"unknown class {unknown[0]!r}; classes: {', '.join(CLASSES)}", file=sys.stderr)
        return 2
    missing = [str(path) for path in args.history if not path.is_file()]
    if missing:
        print(f"no history file {missing[0]}", file=sys.stderr)
        return 2
    if not os.access(GNU_TIME, os.X_OK):
        print(f"{GNU_TIME} (GNU time) is needed to measure peak memory", file=sys.stderr)
        return 2
    harness = os.environ.get("SMRKIT_PORCUPINE")
    print(
        f"Porcupine: {harness}, on the same files"
        if harness
        else "Porcupine: not measured ($SMRKIT_PORCUPINE unset); smrkit alone"
    )
    smrkit = smrkit_command()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="smrkit-check-memory-") as tmp:
        folder = Path(tmp)
        empty = folder / "empty.jsonl"
        empty.write_text("")
        _, floor, _ = peak_of([*smrkit, "check-history", str(empty)])
        print(f"floor: smrkit check-history on an empty history peaks at {floor:.1f} MiB")
        files: list[tuple[str, Path, str | None]] = []
        for name in classes:
            expected, make = CLASSES[name]
            for seed in range(1, args.seeds + 1):
                path = folder / f"{name}-seed{seed}.jsonl"
                write_jsonl(make(seed), path)
                files.append((name, path, expected))
        files.extend(("given", path, None) for path in args.history)
        for name, path, expected in files:
            command = [*smrkit, "check-history", str(path), "--timeout", str(args.timeout)]
            code, peak, wall = peak_of(command)
            row: dict[str, object] = {
                "class": name,
                "file": path.name,
                "expected": expected,
                "verdict": EXIT_VERDICTS.get(code, f"exit {code}"),
                "peak_mib": round(peak, 1),
                "wall_s": round(wall, 3),
            }
            line = (
                f"{name:14} {path.name[:40]:40} {row['verdict']:12} peak {peak:8.1f} MiB "
                f"wall {wall:7.3f} s"
            )
            if expected is not None and row["verdict"] != expected:
                line += f"  WRONG (expected {expected})"
            if harness:
                verdict, their_peak, their_wall = porcupine_peak(
                    harness, path, args.timeout, folder
                )
                row.update(porcupine=verdict, porcupine_peak_mib=round(their_peak, 1))
                row["porcupine_wall_s"] = round(their_wall, 3)
                row["porcupine_agrees"] = agrees(row["verdict"], verdict)
                line += (
                    f"  porcupine {verdict:12} peak {their_peak:8.1f} MiB wall {their_wall:7.3f} s"
                )
                if not row["porcupine_agrees"]:
                    line += "  DISAGREE"
            print(line, flush=True)
            rows.append(row)
    wrong = [r for r in rows if r["expected"] is not None and r["verdict"] != r["expected"]]
    summary: dict[str, object] = {
        "floor_mib": round(floor, 1),
        "files": rows,
        "all_verdicts_match": not wrong,
    }
    if harness:
        summary["porcupine_disagrees"] = sum(1 for r in rows if not r["porcupine_agrees"])
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
