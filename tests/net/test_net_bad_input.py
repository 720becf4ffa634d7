"""Hostile bytes against a live replica (hypothesis-driven): random bytes, oversize
frames, bad MACs, truncated frames, garbage after a good hello, a wrong admin secret.
The replica counts each, drops the connection, keeps serving, and loses nothing."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_net_support import running_cluster

from smrkit.net import frames
from smrkit.net.admin import AdminError, admin_call
from smrkit.net.client import BlockingClient
from smrkit.net.codec import encode
from smrkit.net.config import ClusterConfig


def _send(address: tuple[str, int], data: bytes) -> None:
    with socket.create_connection(address, timeout=2.0) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2.0)
        try:
            while sock.recv(4096):  # the replica closes its side once it gives up
                pass
        except (ConnectionResetError, TimeoutError):
            pass


def _attacks(config: ClusterConfig) -> st.SearchStrategy[tuple[str, bytes]]:
    token = config.token()
    secret = config.secret()
    hello = {"role": "client", "id": None, "v": frames.VERSION}
    good_hello = frames.pack(token, frames.TO_ACCEPTOR, 0, encode(hello))
    random_bytes = st.binary(min_size=0, max_size=300).map(lambda b: ("random", b))
    oversize = st.integers(config.frame_bytes_max + 1, 2**32 - 1).map(
        lambda n: ("oversize", struct.pack(">I", n) + os.urandom(64))
    )
    bad_mac = st.tuples(st.sampled_from(frames.ROLES), st.binary(min_size=16, max_size=32)).map(
        lambda rk: (
            "bad_mac",
            frames.pack(rk[1], frames.TO_ACCEPTOR, 0, encode({"role": rk[0], "id": "p2"})),
        )
    )
    truncated = st.integers(1, len(good_hello) - 1).map(lambda cut: ("truncated", good_hello[:cut]))
    garbage_after_hello = st.binary(min_size=1, max_size=100).map(
        lambda junk: ("malformed", good_hello + frames.pack(token, frames.TO_ACCEPTOR, 1, junk))
    )
    replayed = st.just(("bad_mac", good_hello + good_hello))  # counter 0 twice
    peer_lie = st.just(
        (
            "malformed",
            frames.pack(secret, frames.TO_ACCEPTOR, 0, encode({"role": "peer", "id": "p9"})),
        )
    )
    return st.one_of(
        random_bytes, oversize, bad_mac, truncated, garbage_after_hello, replayed, peer_lie
    )


def test_a_replica_survives_hostile_input(tmp_path: Path) -> None:
    with running_cluster(tmp_path / "c") as config:
        with BlockingClient(config) as client:
            for i in range(20):
                client.append("kept", f"[{i}]")
        address = config.replicas["p1"]
        kinds: set[str] = set()

        @settings(
            max_examples=120,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(_attacks(config))
        def attack(case: tuple[str, bytes]) -> None:
            kinds.add(case[0])
            _send(address, case[1])

        attack()
        with pytest.raises(AdminError):
            asyncio.run(admin_call(config, "p1", {"cmd": "status"}, secret=b"w" * 32))
        status = asyncio.run(admin_call(config, "p1", {"cmd": "status"}))
        stats = status["stats"]
        assert status["serving"] and status["is_primary"]
        for kind in ("oversize", "bad_mac", "malformed", "truncated"):
            assert kind in kinds and stats.get(f"bad_frames_{kind}", 0) > 0, (kind, stats)
        with BlockingClient(config) as client:
            assert client.get("kept") == "".join(f"[{i}]" for i in range(20))
            client.append("kept", "[after]")
            assert client.get("kept") == "".join(f"[{i}]" for i in range(20)) + "[after]"
