"""A raft follower cut off and healed on a real cluster, under load: what the heal costs.

``smrkit nemesis partition`` in ``smrkit test`` aims at the leader; this bench aims at a
follower, where PreVote matters. One cluster (``smrkit cluster init --protocol raft``
and ``up`` in a temporary directory); for each of ``--runs`` runs, ``smrkit test
--nemesis none --time T --rate R --json`` runs while this script cuts a follower off
from the other replicas (``smrkit nemesis partition``) ``--cut`` seconds after the test
starts and heals it ``--heal`` seconds after. A follower cut off for several election
time-outs stands for election there again and again; without PreVote its term grows
each time, and once healed its term deposes the working leader — an election nobody
needed, and a stretch without acknowledgements. With PreVote it never raises its term.

Prints one row per run: the leader's term before the cut and at the end, whether the
leader changed, the run's longest stretch without an acknowledged op and where it
started (seconds after the heal, as this script timed it: the test's clock starts a
little after its process), then the medians and one JSON line.

    python bench/raft_follower_partition.py [--runs 3] [--time 20] [--rate 200]
        [--cut 5] [--heal 10]
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

from jepsen_in_a_row import smrkit, start_cluster  # bench/, beside this script


def status(directory: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        smrkit("cluster", "status", directory, "--json").stdout or "{}"
    )
    return found


def leader_of(directory: str, limit_s: float = 30.0) -> tuple[str, int]:
    """The replica that leads once every replica serves, and its term."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        replicas = status(directory)
        leaders = [r for r, s in replicas.items() if s.get("ok") and s.get("role") == "leader"]
        if len(leaders) == 1 and all(s.get("ok") and s.get("serving") for s in replicas.values()):
            return leaders[0], int(replicas[leaders[0]]["term"])
        time.sleep(0.5)
    raise SystemExit("no single leader with every replica serving")


def one_run(directory: str, index: int, args: argparse.Namespace) -> dict[str, Any]:
    leader, term = leader_of(directory)
    follower = next(r for r in sorted(status(directory)) if r != leader)
    test = subprocess.Popen(
        [
            sys.executable, "-m", "smrkit", "test", "--cluster", directory,
            "--time", str(args.time), "--rate", str(args.rate), "--nemesis", "none",
            "--seed", str(index), "--json", "--quiet",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = time.monotonic()
    time.sleep(args.cut)
    smrkit("nemesis", "--cluster", directory, "partition", follower)
    time.sleep(max(0.0, args.heal - (time.monotonic() - started)))
    healed_at = time.monotonic() - started
    smrkit("nemesis", "--cluster", directory, "heal")
    out, _ = test.communicate(timeout=args.time + 300)
    result = json.loads(out)
    end = status(directory)
    new_leader = next((r for r, s in end.items() if s.get("role") == "leader"), None)
    gap = result["longest_gap"]
    return {
        "verdict": result["verdict"],
        "availability": result["availability"],
        "cut_off": follower,
        "leader": leader,
        "term_before": term,
        "leader_after": new_leader,
        "term_after": end.get(new_leader, {}).get("term") if new_leader else None,
        "longest_gap_s": gap["seconds"],
        "gap_start_after_heal_s": gap["start"] - healed_at,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--time", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--cut", type=float, default=5.0)
    parser.add_argument("--heal", type=float, default=10.0)
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="smrkit-follower-cut-") as tmp:
        directory = str(Path(tmp) / "cluster")
        problem = start_cluster(directory, "raft")
        if problem is not None:
            print(problem)
            return 2
        try:
            print(
                f"{args.runs} runs of smrkit test --time {args.time:g} --rate {args.rate:g} "
                f"--nemesis none on one raft cluster of 3; a follower cut off from "
                f"{args.cut:g} to {args.heal:g} s"
            )
            for index in range(1, args.runs + 1):
                run = one_run(directory, index, args)
                runs.append(run)
                print(
                    f"{index:>3}  {run['verdict']:12}  {run['availability'] * 100:6.2f} %  "
                    f"cut off {run['cut_off']}; leader {run['leader']} term "
                    f"{run['term_before']} → {run['leader_after']} term {run['term_after']}; "
                    f"longest stretch without an ack {run['longest_gap_s']:.2f} s, from "
                    f"{run['gap_start_after_heal_s']:+.2f} s after the heal",
                    flush=True,
                )
        finally:
            smrkit("cluster", "down", directory)
    deposed = sum(1 for r in runs if r["term_after"] != r["term_before"])
    gaps = [r["longest_gap_s"] for r in runs]
    print(
        f"leader deposed in {deposed} of {len(runs)} runs; longest stretch without an ack "
        f"median {statistics.median(gaps):.2f} s ({min(gaps):.2f}–{max(gaps):.2f})"
    )
    print(json.dumps({"runs": runs, "deposed": deposed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
