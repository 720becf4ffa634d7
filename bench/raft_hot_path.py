"""CPU µs per operation of raft's replication hot path, in one process, no sockets.

What a 3-server raft cluster's replicas compute per client command under closed-loop
load, without the runtime around it (sockets, SQLite, asyncio: ``bench/closed_loop.py``
measures those too): a batch of ``--batch`` requests, one per client, is decoded from
a client frame and taken by the leader one step at a time; the AppendEntries of the
batch are coalesced per follower (:meth:`RaftNode.coalesced`, as the runtime does),
encoded as a peer frame and decoded by each follower, which takes them; the followers'
AppendReplies go back the same way; the leader commits, applies and answers, and the
answers are encoded as one reply frame. Every save is encoded as the storage encodes
it. The phases are timed separately:

* ``leader_us`` — the leader's steps (requests and replies) and its coalescing;
* ``follower_us`` — one follower's steps (both followers' time, halved);
* ``codec_us`` — every encode and decode: frames both ways and the saves of all three.

Each ``--rounds`` rounds of ``--batch`` operations is one timing; medians of
``--repeats`` timings, in µs per operation, one JSON line. A run in which the leader
answered fewer commands than it was sent stops with an error instead of a figure:
a fast path that loses commands must not look fast. Deterministic: the same commands
every run, no clock in the protocol's decisions (``out.now`` stays 0).

Comparing two versions of the code: run it with ``PYTHONPATH=<other clone>/src`` in
turns with this clone's (``.venv`` installs the package editable).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Sequence
from typing import Any

from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.node import Out, Timer
from smrkit.core.ops import Op
from smrkit.net.codec import decode, encode
from smrkit.protocols.raft import RaftNode, build_raft_group
from smrkit.protocols.raft.node import ELECTION
from smrkit.sim.kernel.effects import apply_effects

SERVERS = ("p1", "p2", "p3")


class _Sink:
    """Collects a step's sends and encodes its saves, as the runtime's storage does."""

    def __init__(self) -> None:
        self.sends: list[tuple[str, Message]] = []
        self.saves: list[tuple[str, object]] = []

    def persist(self, node: str, saves: Sequence[tuple[str, object]]) -> None:
        self.saves.extend(saves)

    def send(self, src: str, dst: str, msg: Message) -> None:
        self.sends.append((dst, msg))

    def set_timer(self, node: str, timer: Timer, at: float | None) -> None:
        pass

    def stop(self, node: str, kind: str, reason: str) -> None:
        raise AssertionError(f"{node} stopped: {reason}")


class _Cluster:
    def __init__(self) -> None:
        self.nodes = {n.id: n for n in build_raft_group(SERVERS, "kv", delta_s=0.01, tau_s=0.05)}
        self.outs = {name: Out(random.Random(i)) for i, name in enumerate(SERVERS)}
        self.sinks = {name: _Sink() for name in SERVERS}
        for name, node in self.nodes.items():
            self._step(name, node.on_start)
        self._step("p1", self.nodes["p1"].on_timer, ELECTION)
        self.pump()
        assert self.nodes["p1"].is_primary, "p1 did not become the leader"

    def _step(self, name: str, handler: Any, *args: Any) -> None:
        handler(*args, self.outs[name])
        apply_effects(name, self.outs[name], self.sinks[name])

    def pump(self) -> None:
        """Deliver every message between servers until none is left (no codec)."""
        while any(self.sinks[name].sends for name in SERVERS):
            for name in SERVERS:
                sends, self.sinks[name].sends = self.sinks[name].sends, []
                for dst, msg in sends:
                    if dst in self.nodes:
                        self._step(dst, self.nodes[dst].on_message, name, msg)


def _round(cluster: _Cluster, request_frame: bytes, timers: dict[str, float]) -> int:
    """One batch: returns how many client replies the leader sent."""
    leader, sinks, nodes = cluster.nodes["p1"], cluster.sinks, cluster.nodes

    def timed(phase: str, fn: Any, *args: Any) -> Any:
        start = time.perf_counter()
        result = fn(*args)
        timers[phase] += time.perf_counter() - start
        return result

    def encode_saves(name: str) -> None:
        saves, sinks[name].saves = sinks[name].saves, []
        timed("codec", lambda: [encode(value) for _, value in saves])

    def take(name: str, src: str, msgs: Sequence[Message], phase: str) -> None:
        node: RaftNode = nodes[name]
        timed(phase, lambda: [cluster._step(name, node.on_message, src, m) for m in msgs])

    frame = timed("codec", decode, request_frame)
    take("p1", "c", frame[3], "leader")
    encode_saves("p1")
    by_dst: dict[str, list[tuple[float, Message]]] = {}
    for dst, msg in sinks["p1"].sends:
        by_dst.setdefault(dst, []).append((0.0, msg))
    sinks["p1"].sends = []
    for follower in ("p2", "p3"):
        merged = timed("leader", leader.coalesced, by_dst.pop(follower))
        body = timed("codec", encode, ("b", "p1", 0.0, tuple(m for _, m in merged)))
        take(follower, "p1", timed("codec", decode, body)[3], "follower")
        encode_saves(follower)
        sends, sinks[follower].sends = sinks[follower].sends, []
        body = timed("codec", encode, ("b", follower, 0.0, tuple(m for _, m in sends)))
        take("p1", follower, timed("codec", decode, body)[3], "leader")
        encode_saves("p1")
    replies = [(dst, (msg,)) for dst, msg in sinks["p1"].sends if isinstance(msg, ClientReply)]
    sinks["p1"].sends = []
    timed("codec", encode, ("r", "p1", 0.0, tuple(replies)))
    return len(replies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    cluster = _Cluster()
    seq = 1
    figures: dict[str, list[float]] = {"leader": [], "follower": [], "codec": [], "total": []}
    for _ in range(args.repeats):
        timers = {"leader": 0.0, "follower": 0.0, "codec": 0.0}
        for _ in range(args.rounds):
            seq += 1
            requests = tuple(
                ClientRequest(f"c{i}", seq, Op("put", f"k{i}", seq)) for i in range(args.batch)
            )
            answered = _round(cluster, encode(("b", "", 0.0, requests)), timers)
            if answered != args.batch:
                raise SystemExit(f"the leader answered {answered} of {args.batch} commands")
        ops = args.rounds * args.batch
        for phase in ("leader", "codec"):
            figures[phase].append(timers[phase] / ops * 1e6)
        figures["follower"].append(timers["follower"] / 2 / ops * 1e6)
        figures["total"].append(sum(timers.values()) / ops * 1e6)
    result = {f"{phase}_us": round(statistics.median(v), 2) for phase, v in figures.items()}
    print(json.dumps({"batch": args.batch, "rounds": args.rounds, **result}))


if __name__ == "__main__":
    main()
