"""The attacks of issue 8 against live replicas on loopback, each bounded in time and in
count: an 8 MiB junk frame, a captured frame replayed on another connection, a retry
after the client's session was forgotten, a lone client claiming the primary ignored
it, more connections than a replica admits, and half-sent frames."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import time
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest
from tests_net_support import running_cluster

from smrkit.core.messages import ClientReply, ClientRequest
from smrkit.core.ops import Op
from smrkit.net import auth, frames, nemesis
from smrkit.net.admin import admin_call, status_all
from smrkit.net.client import BlockingClient, Client
from smrkit.net.cluster import log_path, replica_pid
from smrkit.net.codec import encode
from smrkit.net.config import ClusterConfig
from smrkit.protocols.service import SESSION_EXPIRED

JUNK_BYTES = 8 * 1024 * 1024
RSS_GROWTH_MAX_KB = 40 * 1024  # decoding one junk frame used to take ~240 MB


def _rss_kb(config: ClusterConfig, replica: str) -> int:
    pid = replica_pid(config, replica)
    assert pid is not None
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def _status(config: ClusterConfig) -> dict[str, Any]:
    return asyncio.run(status_all(config))


class _Handshake:
    """A connection that shakes hands the way :mod:`smrkit.net.frames` does, keeping
    every byte it sends (so that a test can replay them)."""

    def __init__(self, address: tuple[str, int], key: bytes, role: str) -> None:
        self.sock = socket.create_connection(address, timeout=5.0)
        self.sent = b""
        nonce = os.urandom(frames.NONCE_BYTES)
        self._send(frames.pack(key, frames.TO_ACCEPTOR, 0, frames.hello_body(role, nonce, None)))
        answer = self._recv_exactly(frames.ANSWER_BYTES)
        theirs = answer[4 + 1 + auth.MAC_BYTES :]
        self.to_acceptor, self.to_connector = auth.session_keys(
            key, frames.ROLES.index(role), nonce, theirs
        )
        self.counter = 0

    def _send(self, data: bytes) -> None:
        self.sent += data
        self.sock.sendall(data)

    def _recv_exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionResetError("closed")
            data += chunk
        return data

    def send(self, value: object) -> None:
        self._send(frames.pack(self.to_acceptor, frames.TO_ACCEPTOR, self.counter, encode(value)))
        self.counter += 1

    def recv(self) -> Any:
        (length,) = struct.unpack(">I", self._recv_exactly(4))
        return msgpack.unpackb(self._recv_exactly(length)[1 + auth.MAC_BYTES :], raw=False)

    def closed_by_the_replica(self) -> bool:
        self.sock.settimeout(5.0)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


def _raw(address: tuple[str, int], data: bytes) -> None:
    with socket.create_connection(address, timeout=5.0) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # the replica may hang up after the frame's length
        sock.settimeout(5.0)
        try:
            while sock.recv(65536):
                pass
        except (ConnectionResetError, TimeoutError):
            pass


def _tiny_arrays(size: int) -> bytes:
    """The body of the original attack: msgpack of a huge array of empty arrays."""
    count = size - 5
    return b"\xdd" + struct.pack(">I", count) + b"\x90" * count


def test_junk_frames_with_random_macs_are_refused_unread_and_memory_stays_flat(
    tmp_path: Path,
) -> None:
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        address = config.replicas["p1"]
        with BlockingClient(config) as client:
            client.put("k", "before")
        before = _rss_kb(config, "p1")
        # Unauthenticated: 8 MiB of tiny arrays behind a random MAC, as a first frame.
        junk = struct.pack(">IB", JUNK_BYTES + 33, frames.VERSION) + os.urandom(32)
        junk += _tiny_arrays(JUNK_BYTES)
        for _ in range(10):
            _raw(address, junk)
        # Authenticated with the client token, then frames as large as a client may
        # send, with random MACs: read (within the byte budget), never decoded.
        body = _tiny_arrays(config.client_frame_bytes_max - 64)
        for _ in range(10):
            connection = _Handshake(address, config.token(), frames.ROLE_CLIENT)
            frame = struct.pack(">IB", len(body) + 33, frames.VERSION) + os.urandom(32) + body
            connection.sock.sendall(frame)
            assert connection.closed_by_the_replica()
            connection.close()
        after = _rss_kb(config, "p1")
        status = _status(config)["p1"]
        assert after - before < RSS_GROWTH_MAX_KB, (before, after)
        assert status["stats"]["bad_frames_oversize"] >= 10
        assert status["stats"]["bad_frames_bad_mac"] >= 10
        assert status["serving"] and status["is_primary"]
        with BlockingClient(config) as client:
            assert client.get("k") == "before"


def test_a_frame_captured_on_one_connection_is_refused_on_another(tmp_path: Path) -> None:
    """Replaying a captured 'block' after 'heal' re-partitioned the cluster; replaying a
    captured append applied it twice. Each connection now has its own keys."""
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        address = config.replicas["p1"]
        admin = _Handshake(address, config.secret(), frames.ROLE_ADMIN)
        admin.send({"cmd": "block", "links": (("p1", "p2"),)})
        assert admin.recv()["blocked"] == [["p1", "p2"]]
        captured = admin.sent
        admin.close()
        asyncio.run(admin_call(config, "p1", {"cmd": "heal"}))
        # The whole captured stream, hello included, on a new connection ...
        _raw(address, captured)
        # ... and its command frame alone, after a handshake of the replayer's own.
        replayer = _Handshake(address, config.secret(), frames.ROLE_ADMIN)
        replayer.sock.sendall(captured[len(replayer.sent) :])
        assert replayer.closed_by_the_replica()
        status = asyncio.run(admin_call(config, "p1", {"cmd": "status"}))
        assert not status["blocked"]
        assert status["stats"]["bad_frames_bad_mac"] >= 2

        with BlockingClient(config) as client:
            client.put("once", "")
        writer = _Handshake(address, config.token(), frames.ROLE_CLIENT)
        request = ClientRequest("c77", 1, Op("append", "once", "[R]"))
        writer.send(("b", "", time.time(), (request,)))
        reply = writer.recv()[3][0][1][0]  # [tag, client, seq, result, error]
        assert reply[1:] == ["c77", 1, None, None]
        captured = writer.sent
        writer.close()
        _raw(address, captured)
        with BlockingClient(config) as client:
            assert client.get("once") == "[R]"


def test_a_retry_after_the_session_expired_is_refused_not_applied_again(tmp_path: Path) -> None:
    """The service remembers 20 sessions here. A client appends; 30 other sessions come
    and go; its retry of the same append (same id, same sequence number) is refused
    with 'session expired' — it was applied once and stays applied once."""
    limits = {"sessions_max": 20}
    with running_cluster(tmp_path / "c", protocol="pb-general-omission", limits=limits) as config:

        async def scenario() -> tuple[ClientReply, object, object]:
            async with Client(config) as client:
                await client.append("log", "[R]")
                session, seq = client._session_ids[0], 2
                others = [Client(config) for _ in range(30)]
                for other in others:
                    await other.put("k", "x")  # each opens a session of its own
                for other in others:
                    await other.close()
                # The retry the client library would send, as it would send it.
                channel = await client._connection("p1", 2.0)
                retry = ClientRequest(session, seq, Op("append", "log", "[R]"))
                future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
                client._pending[session] = (seq, future)
                client._send(channel, retry)
                reply = await asyncio.wait_for(future, 5.0)
                assert isinstance(reply, ClientReply)
                after = await client.get("log")  # a new session: the old one is gone
                again = await client.append("log", "[S]")
                return reply, after, again

        reply, after, again = asyncio.run(scenario())
        assert reply.error is not None and reply.error.startswith(SESSION_EXPIRED), reply
        assert after == "[R]" and again is None
        with BlockingClient(config) as client:
            assert client.get("log") == "[R][S]"


def test_a_lone_client_cannot_halt_a_replica(tmp_path: Path) -> None:
    """A request with a fresh client id saying its earlier attempt went to the primary
    unanswered (``previous``) made the primary halt ('I omit messages'); two such
    requests took the cluster down. The runtime takes no client's word for it: the
    primary serves such a request, a backup relays it to the primary and passes the
    reply back — the liar is served, one hop longer, and nobody halts."""
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        while _status(config)["p1"]["now"] < config.client_timeout_s() + 4 * config.delta_s:
            time.sleep(0.2)  # the primary has served longer than any client time-out
        answers = {}
        for target in ("p1", "p2", "p3"):
            connection = _Handshake(config.replicas[target], config.token(), frames.ROLE_CLIENT)
            ids = [f"c{900 + 10 * int(target[1]) + i}" for i in range(3)]
            for client in ids:
                request = ClientRequest(client, 1, Op("put", client, "y"), previous="p1")
                connection.send(("b", "", time.time(), (request,)))
            answers[target] = _replies_to(connection, set(ids))
            connection.close()
        time.sleep(4 * config.tau_s)
        statuses = _status(config)
        assert all(s["serving"] and s["halted"] is None for s in statuses.values()), statuses
        assert [r for r, s in statuses.items() if s["is_primary"]] == ["p1"]
        assert {r: s["relayed"] for r, s in statuses.items()} == {
            "p1": {"requests": 0, "replies": 0},
            "p2": {"requests": 3, "replies": 3},
            "p3": {"requests": 3, "replies": 3},
        }
        assert all(len(got) == 3 for got in answers.values()), answers  # served, not halted
        with BlockingClient(config) as client:
            client.put("still", "serving")
            assert client.get("still") == "serving"
            assert client.get("c931") == "y"  # the liar's relayed put took effect, once


def _replies_to(connection: _Handshake, ids: set[str], timeout_s: float = 10.0) -> set[str]:
    """The client ids among ``ids`` that got a reply on ``connection`` within the time."""
    got: set[str] = set()
    deadline = time.monotonic() + timeout_s
    connection.sock.settimeout(timeout_s)
    while got != ids and time.monotonic() < deadline:
        frame = connection.recv()
        if isinstance(frame, list) and len(frame) == 4 and frame[0] == "r":
            got.update(
                str(msg[1])
                for _, msgs in frame[3]
                for msg in msgs
                if isinstance(msg, list) and msg[1] in ids
            )
    return got


def test_a_primary_that_drops_one_clients_traffic_serves_it_through_a_backup(
    tmp_path: Path,
) -> None:
    """The nemesis blocks the links between the primary and one client's session, both
    ways: the primary neither hears it nor answers it. Before the relay, a backup sent
    the client back to the primary with a hint, and it was never served (no client's
    word counts on TCP). Now its first time-out takes it to p2, which relays its
    requests to p1 for the rest of the epoch; nobody halts, p1 stays primary."""
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        with BlockingClient(config, op_timeout_s=30.0) as client:
            client.put("k", "before")  # opens the session, through p1
            (session,) = client._client._session_ids
            links = {nemesis.parse_link(f"p1->{session}", config)}  # smrkit nemesis omit
            links.add(nemesis.parse_link(f"{session}->p1", config))
            assert asyncio.run(nemesis.block(config, links)) == {}
            client.append("k", "+relayed")
            assert client._client.retries == 1  # one time-out at p1, then p2 relays
            for i in range(5):
                client.append("k", f"+{i}")
            assert client.get("k") == "before+relayed+0+1+2+3+4"  # each append once
            assert client._client.dest == "p2"  # it stays with the backup: no more time-outs
            assert client._client.retries == 1
        statuses = _status(config)
        assert all(s["serving"] and s["halted"] is None for s in statuses.values()), statuses
        assert [r for r, s in statuses.items() if s["is_primary"]] == ["p1"]
        assert statuses["p2"]["relayed"] == {"requests": 7, "replies": 7}
        assert statuses["p1"]["stats"]["dropped_by_nemesis"] >= 1
        assert sorted(statuses["p1"]["blocked"]) == sorted(links)
        with pytest.raises(nemesis.NemesisError, match="unknown replica"):
            nemesis.parse_link("c1->c2", config)  # one end must be a replica


def test_too_many_connections_are_refused_and_the_log_stays_small(tmp_path: Path) -> None:
    """Idle connections that never say hello, and more authenticated client connections
    than a replica admits: the extra ones are closed (and counted), the log does not
    grow with them, and once they are gone clients are served again."""
    limits = {"client_connections_max": 40}
    with running_cluster(tmp_path / "c", protocol="pb-general-omission", limits=limits) as config:
        address = config.replicas["p1"]
        held = [_Handshake(address, config.token(), frames.ROLE_CLIENT) for _ in range(40)]
        refused = 0
        for _ in range(60):
            extra = _Handshake(address, config.token(), frames.ROLE_CLIENT)
            refused += extra.closed_by_the_replica()
            extra.close()
        idle = [socket.create_connection(address, timeout=5.0) for _ in range(150)]
        time.sleep(2 * config.connect_timeout_s)  # the idle ones are dropped meanwhile
        stats = _status(config)["p1"]["stats"]
        assert refused == 60 and stats["refused_client_connections"] == 60
        assert stats.get("refused_handshakes", 0) > 0
        for sock in idle:
            sock.close()
        for connection in held:
            connection.close()
        assert log_path(config, "p1").stat().st_size < 64 * 1024
        time.sleep(0.5)
        with BlockingClient(config) as client:
            client.put("after", "the storm")
            assert client.get("after") == "the storm"


def test_half_sent_frames_hold_no_more_than_the_byte_budget(tmp_path: Path) -> None:
    """Issue 8: 100 authenticated connections that each announce an 8 MiB frame and send
    part of it took a replica to 786 MB, and it halted. Now a client frame is at most
    ``client_frame_bytes_max`` and all client frames being read share one byte budget:
    100 half-sent frames of 1 MiB hold at most the budget (here 4 MiB), the replica keeps
    its role, and other clients' requests, small, are served meanwhile (they waited for
    the budget, up to its 10 s read time-out, before)."""
    limits = {"client_buffer_bytes_max": 4 * 1024 * 1024}
    with running_cluster(tmp_path / "c", protocol="pb-general-omission", limits=limits) as config:
        address = config.replicas["p1"]
        with BlockingClient(config) as client:
            client.put("k", "before")
        before = _rss_kb(config, "p1")
        length = config.client_frame_bytes_max - 64
        header = struct.pack(">IB", length + 33, frames.VERSION) + os.urandom(32)
        half = os.urandom(length // 2)
        senders = []
        for _ in range(100):
            connection = _Handshake(address, config.token(), frames.ROLE_CLIENT)
            connection.sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                connection.sock.send(header + half)  # what the socket takes; never the rest
            senders.append(connection)
        time.sleep(1.0)
        with BlockingClient(config) as client:  # small requests do not wait for the budget
            assert client.get("k") == "before"
            client.put("k", "during")
        after = _rss_kb(config, "p1")
        status = _status(config)["p1"]
        for connection in senders:
            connection.close()
        assert after - before < RSS_GROWTH_MAX_KB, (before, after)
        assert status["serving"] and status["is_primary"]
        time.sleep(0.5)
        with BlockingClient(config) as client:
            assert client.get("k") == "during"
            client.put("k", "after")
        assert all(s["serving"] for s in _status(config).values())
