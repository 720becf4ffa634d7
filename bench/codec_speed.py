"""µs per frame of smrkit's wire codec against plain msgpack tuples, same run.

The frames the runtime sends most under load (a batch of 16 each, and a single
heartbeat): a primary's ``Update`` batch to a backup, a load process's request batch,
a reply frame for 16 sessions of one connection. Each is encoded and decoded with
:mod:`smrkit.net.codec` (messages as tagged msgpack arrays, checked on the way in) and,
as the reference, the same data as plain nested tuples with ``msgpack.packb`` /
``unpackb`` (no classes, no checks: the floor a codec over msgpack can reach).
Medians of ``--repeats`` timings of ``--number`` round trips each; one JSON line at
the end with ``us_per_frame`` (encode + decode) for both and their ratio.

To compare with an earlier version of the codec, run this file with that version's
``src`` first on ``PYTHONPATH`` (the figures in issue 13's closing note were taken so).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgpack  # type: ignore[import-untyped]

from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.ops import Command, Op
from smrkit.net.codec import decode, encode
from smrkit.protocols.primary_backup.quorum import Heartbeat, Update


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
    }
    return {name: (frame, plain(frame)) for name, frame in frames.items()}


def _median_us(fn: Callable[[], object], number: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    result: dict[str, Any] = {}
    for name, (frame, plain) in _frames().items():
        body = encode(frame)
        assert decode(body) == frame, name  # the codec round-trips what it times
        plain_body = msgpack.packb(plain, use_bin_type=True)
        figures = {
            "encode_us": _median_us(lambda: encode(frame), args.number, args.repeats),
            "decode_us": _median_us(lambda: decode(body), args.number, args.repeats),
            "plain_encode_us": _median_us(
                lambda: msgpack.packb(plain, use_bin_type=True), args.number, args.repeats
            ),
            "plain_decode_us": _median_us(
                lambda: msgpack.unpackb(plain_body, use_list=False, raw=False),
                args.number,
                args.repeats,
            ),
        }
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
        result[name] = line
        print(f"{name:12} {line}", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
