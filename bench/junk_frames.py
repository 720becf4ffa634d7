"""How a live replica takes junk frames: time to refusal and memory.

A 3-replica pb-general-omission cluster on loopback; ``--count`` times each:

* *unauthenticated*: a connection whose first frame claims 8 MiB of msgpack tiny arrays
  behind a random MAC (the attack that used to stall a replica 1.4–7 s and grow it by
  ~240 MB): from the moment the last byte is handed to the kernel (or the replica hangs
  up first) to the replica closing the connection;
* *authenticated*: a client that completes the handshake with the token, then sends a
  frame as large as a client may (``client_frame_bytes_max``) with a random MAC: the
  replica reads it and drops it on the MAC, never decoding it.

Prints the median and the largest time to refusal in ms, and the replica's resident
memory (VmRSS) before and after, then one JSON line. Figures, not assertions.

    python bench/junk_frames.py [--count 50]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

from smrkit.net import auth, frames
from smrkit.net.cluster import down_cluster, init_cluster, replica_pid, up_cluster
from smrkit.net.config import ClusterConfig

JUNK_BYTES = 8 * 1024 * 1024


def rss_kb(config: ClusterConfig) -> int:
    pid = replica_pid(config, "p1")
    assert pid is not None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def tiny_arrays(size: int) -> bytes:
    return b"\xdd" + struct.pack(">I", size - 5) + b"\x90" * (size - 5)


def refused_after(sock: socket.socket, data: bytes) -> float:
    """Seconds from sending ``data`` to the replica closing the connection."""
    started = time.perf_counter()
    try:
        sock.sendall(data)
        started = time.perf_counter()
        while sock.recv(65536):
            pass
    except (BrokenPipeError, ConnectionResetError):
        pass
    return time.perf_counter() - started


def handshake(address: tuple[str, int], token: bytes) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(address, timeout=10.0)
    nonce = os.urandom(frames.NONCE_BYTES)
    hello = frames.hello_body(frames.ROLE_CLIENT, nonce, None)
    sock.sendall(frames.pack(token, frames.TO_ACCEPTOR, 0, hello))
    answer = b""
    while len(answer) < frames.ANSWER_BYTES:
        answer += sock.recv(frames.ANSWER_BYTES - len(answer))
    theirs = answer[4 + 1 + auth.MAC_BYTES :]
    to_acceptor, _ = auth.session_keys(token, 1, nonce, theirs)
    return sock, to_acceptor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        config = init_cluster(Path(tmp) / "c", protocol="pb-general-omission", replicas=3)
        up_cluster(config)
        try:
            address = config.replicas["p1"]
            before = rss_kb(config)
            junk = struct.pack(">IB", JUNK_BYTES + 33, frames.VERSION) + os.urandom(32)
            junk += tiny_arrays(JUNK_BYTES)
            unauthenticated = []
            for _ in range(args.count):
                with socket.create_connection(address, timeout=10.0) as sock:
                    unauthenticated.append(refused_after(sock, junk))
            body = tiny_arrays(config.client_frame_bytes_max - 64)
            authenticated = []
            for _ in range(args.count):
                sock, _ = handshake(address, config.token())
                with sock:
                    frame = struct.pack(">IB", len(body) + 33, frames.VERSION)
                    authenticated.append(refused_after(sock, frame + os.urandom(32) + body))
            after = rss_kb(config)
        finally:
            down_cluster(config)
    result = {
        "count": args.count,
        "unauthenticated_8MiB_ms_median": round(statistics.median(unauthenticated) * 1000, 3),
        "unauthenticated_8MiB_ms_max": round(max(unauthenticated) * 1000, 3),
        "authenticated_frame_bytes": len(body),
        "authenticated_ms_median": round(statistics.median(authenticated) * 1000, 3),
        "authenticated_ms_max": round(max(authenticated) * 1000, 3),
        "rss_kb_before": before,
        "rss_kb_after": after,
    }
    print(
        f"8 MiB junk first frame, refused after: median {result['unauthenticated_8MiB_ms_median']}"
        f" ms, max {result['unauthenticated_8MiB_ms_max']} ms ({args.count} frames)"
    )
    print(
        f"{len(body)}-byte frame with a random MAC after a handshake, refused after: median "
        f"{result['authenticated_ms_median']} ms, max {result['authenticated_ms_max']} ms"
    )
    print(f"replica RSS: {before} kB before, {after} kB after")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
