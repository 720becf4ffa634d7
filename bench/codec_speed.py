"""µs per frame of smrkit's wire codec against plain msgpack tuples, same run.

The frames the runtime sends most under load (a batch of 16 each, and a single
heartbeat): a primary's ``Update`` batch to a backup, a load process's request batch,
a reply frame for 16 sessions of one connection; and raft's (a batch of 64, as at 64
closed-loop clients): a leader's merged ``AppendEntries`` of 64 entries, a follower's
``AppendReply``, the 64 requests and replies, and one log entry as ``_persist`` saves
it. Each is encoded and decoded with
:mod:`smrkit.net.codec` (messages as tagged msgpack arrays, checked on the way in) and,
as the reference, the same data as plain nested tuples with ``msgpack.packb`` /
``unpackb`` (no classes, no checks: the floor a codec over msgpack can reach).
Medians of ``--repeats`` timings of ``--number`` round trips each; one JSON line at
the end with ``us_per_frame`` (encode + decode) for both and their ratio.

``--against FILE`` times another version of ``codec.py`` too (say the one before a
change: ``git show REV:src/smrkit/net/codec.py > /tmp/old_codec.py``), loaded beside
this one; the timings of the three take turns, repeat by repeat, so that a noisy
machine slows them alike.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import msgpack  # type: ignore[import-untyped]

from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.ops import Command, Op
from smrkit.net.codec import decode, encode
from smrkit.protocols.primary_backup.quorum import Heartbeat, Update
from smrkit.protocols.raft.messages import AppendEntries, AppendReply


def _frames() -> dict[str, tuple[Any, Any]]:
    """Each frame as the runtime sends it, and as plain tuples."""
    t = time.time()
    ops = [Op("put", f"k{i}", i * 7) for i in range(16)]
    updates = tuple(
        Update(3, 1000 + i, Command(f"c{9000 + i}", 5, op), 990) for i, op in enumerate(ops)
    )
    requests = tuple(ClientRequest(f"c{9000 + i}", 5, op) for i, op in enumerate(ops))
    replies = tuple((f"c{9000 + i}", (ClientReply(f"c{9000 + i}", 5, None),)) for i in range(16))
    beat = Heartbeat(120, 3, True, 1016, 1010)
    commands = tuple(Command(f"c{9000 + i}", 5, Op("put", f"k{i}", i * 7)) for i in range(64))
    appends = AppendEntries(3, 1000, 3, (3,) * 64, commands, 990)
    requests_64 = tuple(ClientRequest(c.client, c.seq, c.op) for c in commands)
    replies_64 = tuple((c.client, (ClientReply(c.client, c.seq, None),)) for c in commands)

    def plain(value: Any) -> Any:
        if isinstance(value, Message | Op | Command):
            return (type(value).__name__, *(plain(getattr(value, f)) for f in value.__slots__))
        if isinstance(value, tuple):
            return tuple(plain(v) for v in value)
        return value

    frames = {
        "updates_16": ("b", "p1", t, updates),
        "requests_16": ("b", "", t, requests),
        "replies_16": ("r", "p1", t, replies),
        "heartbeat_1": ("b", "p1", t, (beat,)),
        "raft_appends_64": ("b", "p1", t, (appends,)),
        "raft_append_reply_1": ("b", "p2", t, (AppendReply(3, True, 1064, 0, 0),)),
        "raft_requests_64": ("b", "", t, requests_64),
        "raft_replies_64": ("r", "p1", t, replies_64),
        "raft_entry_save": (3, commands[0]),
    }
    return {name: (frame, plain(frame)) for name, frame in frames.items()}


def _median_us(fns: dict[str, Callable[[], object]], number: int, repeats: int) -> dict[str, float]:
    """Median µs per call of each function, their timings taking turns."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - start) / number * 1e6)
    return {name: statistics.median(values) for name, values in times.items()}


def _load_codec(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("smrkit_codec_against", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--against", type=Path, default=None)
    args = parser.parse_args()
    other = None if args.against is None else _load_codec(args.against)
    result: dict[str, Any] = {}
    for name, (frame, plain) in _frames().items():
        body = encode(frame)
        assert decode(body) == frame, name  # the codec round-trips what it times
        plain_body = msgpack.packb(plain, use_bin_type=True)
        fns: dict[str, Callable[[], object]] = {
            "encode_us": functools.partial(encode, frame),
            "decode_us": functools.partial(decode, body),
            "plain_encode_us": functools.partial(msgpack.packb, plain, use_bin_type=True),
            "plain_decode_us": functools.partial(
                msgpack.unpackb, plain_body, use_list=False, raw=False
            ),
        }
        if other is not None:
            other_body = other.encode(frame)
            assert other.decode(other_body) == frame, name
            fns["against_encode_us"] = functools.partial(other.encode, frame)
            fns["against_decode_us"] = functools.partial(other.decode, other_body)
        figures = _median_us(fns, args.number, args.repeats)
        smrkit = figures["encode_us"] + figures["decode_us"]
        floor = figures["plain_encode_us"] + figures["plain_decode_us"]
        line = {k: round(v, 2) for k, v in figures.items()}
        line |= {
            "us_per_frame": round(smrkit, 2),
            "plain_us_per_frame": round(floor, 2),
            "ratio_to_plain": round(smrkit / floor, 2),
            "bytes": len(body),
            "plain_bytes": len(plain_body),
        }
        if other is not None:
            against = figures["against_encode_us"] + figures["against_decode_us"]
            line |= {
                "against_us_per_frame": round(against, 2),
                "against_ratio_to_plain": round(against / floor, 2),
                "against_bytes": len(other_body),
            }
        result[name] = line
        print(f"{name:12} {line}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
