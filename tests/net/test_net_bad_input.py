"""Hostile bytes against a live replica (hypothesis-driven): random bytes, oversize
frames, bad MACs, truncated frames, garbage after a good hello, a wrong admin secret.
The replica counts each, drops the connection, keeps serving, and loses nothing."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_net_support import running_cluster

from smrkit.net import auth, frames
from smrkit.net.admin import AdminError, admin_call
from smrkit.net.client import BlockingClient
from smrkit.net.config import ClusterConfig


def _send(address: tuple[str, int], data: bytes | Callable[[socket.socket], bytes]) -> None:
    """Send ``data`` (or what ``data(sock)`` says, after a handshake it does itself)."""
    with socket.create_connection(address, timeout=2.0) as sock:
        sock.sendall(data if isinstance(data, bytes) else data(sock))
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2.0)
        try:
            while sock.recv(4096):  # the replica closes its side once it gives up
                pass
        except (ConnectionResetError, TimeoutError):
            pass


def _hello(key: bytes, role: str, node_id: str | None, nonce: bytes = b"n" * 32) -> bytes:
    return frames.pack(key, frames.TO_ACCEPTOR, 0, frames.hello_body(role, nonce, node_id))


def _after_handshake(token: bytes, junk: bytes) -> Callable[[socket.socket], bytes]:
    """A client that shakes hands properly, then sends ``junk`` under a valid MAC."""

    def attack(sock: socket.socket) -> bytes:
        nonce = os.urandom(32)
        sock.sendall(_hello(token, frames.ROLE_CLIENT, None, nonce))
        answer = b""
        while len(answer) < frames.ANSWER_BYTES:
            answer += sock.recv(4096)
        theirs = answer[4 + 1 + 32 :]
        to_acceptor, _ = auth.session_keys(token, 1, nonce, theirs)
        return frames.pack(to_acceptor, frames.TO_ACCEPTOR, 0, junk)

    return attack


def _attacks(
    config: ClusterConfig,
) -> st.SearchStrategy[tuple[str, bytes | Callable[[socket.socket], bytes]]]:
    token = config.token()
    secret = config.secret()
    good_hello = _hello(token, frames.ROLE_CLIENT, None)
    random_bytes = st.binary(min_size=0, max_size=300).map(lambda b: ("random", b))
    oversize = st.integers(frames.HELLO_BYTES_MAX + 1, 2**32 - 1).map(
        lambda n: ("oversize", struct.pack(">I", n) + os.urandom(64))
    )
    bad_mac = st.tuples(st.sampled_from(frames.ROLES), st.binary(min_size=16, max_size=32)).map(
        lambda rk: ("bad_mac", _hello(rk[1], rk[0], "p2"))
    )
    truncated = st.integers(1, len(good_hello) - 1).map(lambda cut: ("truncated", good_hello[:cut]))
    garbage_after_hello = st.binary(min_size=1, max_size=100).map(
        lambda junk: ("malformed", _after_handshake(token, junk))
    )
    replayed = st.just(("bad_mac", good_hello + good_hello))  # not under the connection's keys
    peer_lie = st.just(("malformed", _hello(secret, frames.ROLE_PEER, "p9")))
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
        def attack(case: tuple[str, bytes | Callable[[socket.socket], bytes]]) -> None:
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
