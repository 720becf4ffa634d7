"""The TCP runtime applies a step's effects with the kernel's one applier: saves are
written first and synced before any message of the step is released, messages keep
their order, timers join the node's queue in the one order of ``sim/order.py`` (one
loop timer wakes it for the earliest), a halt stops the node. In-process, no
sockets: the replica's storage is a recorder."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from smrkit.core.messages import ClientRequest
from smrkit.core.ops import Op
from smrkit.net.cluster import init_cluster
from smrkit.net.log_storage import LogStorage
from smrkit.net.replica import ReplicaServer


class RecordingStorage:
    def __init__(self, journal: list[tuple[str, object]]) -> None:
        self.journal = journal

    def load(self) -> dict[str, object]:
        return {}

    def write(self, saves: Iterable[tuple[str, object]]) -> None:
        self.journal.append(("write", tuple(key for key, _ in saves)))

    def sync(self) -> None:
        self.journal.append(("sync", None))

    def close(self) -> None:
        pass


def test_a_replica_step_saves_then_releases_its_messages_in_order(tmp_path: Path) -> None:
    config = init_cluster(tmp_path / "cluster", protocol="pb-general-omission", replicas=3)
    journal: list[tuple[str, object]] = []

    async def main() -> None:
        server = ReplicaServer(
            config, "p1", start_at=time.time(), storage=RecordingStorage(journal)
        )
        for peer, link in server._peers.items():
            link.push = lambda msgs, peer=peer: journal.append(("push", peer))  # type: ignore[method-assign]
        server._step(server.node.on_start)
        assert journal == [("write", ("length",))]  # the save, written at once
        held = [dst for _, dst, _, _ in server._held]
        assert held == ["p2", "p3"]  # round 0's heartbeats, in the order sent, held
        # round 0's lease check (2δ) before round 1 (τ), and one loop timer armed for it
        assert server._timers.pending() == [("lease", 0), "round"]
        assert server._wakeup is not None and server._wakeup_at == 2 * config.delta_s
        await server._release()
        # durable before anything left, then the messages in the order of the step
        assert journal == [("write", ("length",)), ("sync", None), ("push", "p2"), ("push", "p3")]
        server._step(server.node.on_timer, ("lease", 0))  # no acknowledgements: it halts
        assert server.halted is not None and "acknowledgements" in server.halted
        assert server._wakeup is not None
        server._wakeup.cancel()

    asyncio.run(main())


class BlockingStorage(RecordingStorage):
    """A disk whose commit takes as long as the test says: each ``sync`` (on the
    runtime's worker thread) releases ``entered`` once and waits for one ``go``."""

    def __init__(self, journal: list[tuple[str, object]]) -> None:
        super().__init__(journal)
        self.entered = threading.Semaphore(0)
        self.go = threading.Semaphore(0)

    def sync(self) -> None:
        self.entered.release()
        assert self.go.acquire(timeout=10.0)
        self.journal.append(("sync", None))

    async def wait_entered(self) -> bool:
        return await asyncio.to_thread(self.entered.acquire, timeout=10.0)


def test_steps_taken_while_a_commit_is_on_its_way_wait_for_the_next_commit(
    tmp_path: Path,
) -> None:
    """Group commit off the event loop: while the commit of one step's saves runs (in
    a worker thread), the node takes the next step; that step's messages leave only
    after a second commit has made its own saves durable — never with the first."""
    config = init_cluster(tmp_path / "cluster", protocol="pb-general-omission", replicas=3)
    journal: list[tuple[str, object]] = []
    storage = BlockingStorage(journal)

    async def main() -> None:
        server = ReplicaServer(config, "p1", start_at=time.time(), storage=storage)
        for peer, link in server._peers.items():
            link.push = lambda msgs, peer=peer: journal.append(("push", peer))  # type: ignore[method-assign]
        server._step(server.node.on_start)  # saves "length", sends round 0's heartbeats
        server._flush_soon()
        assert await storage.wait_entered()  # the commit runs
        request = ClientRequest("c1", 1, Op("put", "k", "v"))
        server._step(server.node.on_message, "c1", request)  # the next step, meanwhile
        assert [kind for kind, _ in journal] == ["write", "write"]  # nothing left yet
        server._flush_soon()  # a commit is under way: this starts nothing
        storage.go.release()
        assert await storage.wait_entered()  # the second commit
        # the first step's messages left after the first commit, not the second step's
        assert journal[2:] == [("sync", None), ("push", "p2"), ("push", "p3")]
        storage.go.release()
        await server._release()
        assert journal[5:] == [("sync", None), ("push", "p2"), ("push", "p3")]
        assert server.stats["commits"] == 2
        if server._wakeup is not None:
            server._wakeup.cancel()

    asyncio.run(main())


def test_a_message_leaves_once_its_own_writes_are_durable_not_behind_later_ones(
    tmp_path: Path,
) -> None:
    """Each held message waits for the writes of its step and the steps before it, no
    more: while the commit of write 1 is on its way, a step that saves nothing (a
    leader's answers) and then one that writes (write 2) are taken; when write 1 is
    durable the first step's message leaves at once, in order after write 1's step's,
    and only the second's waits for the commit of write 2."""
    config = init_cluster(tmp_path / "cluster", protocol="pb-general-omission", replicas=3)
    journal: list[tuple[str, object]] = []
    storage = BlockingStorage(journal)

    def msg(seq: int) -> ClientRequest:
        return ClientRequest("c1", seq, Op("get", "k"))

    async def main() -> None:
        server = ReplicaServer(config, "p1", start_at=time.time(), storage=storage)
        for peer, link in server._peers.items():
            link.push = lambda msgs, peer=peer: journal.append(  # type: ignore[method-assign]
                ("push", (peer, *(m.seq for _, m in msgs)))
            )
        sink = server._sink
        sink.persist("p1", [("a", 1)])  # write 1
        sink.send("p1", "p2", msg(1))
        server._flush_soon()
        assert await storage.wait_entered()  # the commit of write 1 runs
        sink.send("p1", "p2", msg(2))  # a step that saves nothing: it needs write 1
        sink.persist("p1", [("b", 2)])  # write 2
        sink.send("p1", "p2", msg(3))
        sink.send("p1", "p3", msg(4))
        server._flush_soon()  # a commit is under way: nothing leaves, nothing starts
        assert [kind for kind, _ in journal] == ["write", "write"]
        storage.go.release()
        assert await storage.wait_entered()  # write 1 durable; the commit of write 2 runs
        assert journal[2:] == [("sync", None), ("push", ("p2", 1, 2))]
        storage.go.release()
        await server._release()
        assert journal[4:] == [("sync", None), ("push", ("p2", 3)), ("push", ("p3", 4))]
        assert server._durable == server._written == 2 and not server._held

    asyncio.run(main())


def test_relayed_requests_wait_with_the_clients_and_never_pause_a_peer(tmp_path: Path) -> None:
    """A backup's relayed requests join the clients' queue; when it is full they are
    dropped and counted (the client retries), and the peer's reader goes on at once."""
    import dataclasses

    from smrkit.core.messages import ClientRequest, RelayedRequest
    from smrkit.core.ops import Op

    config = init_cluster(tmp_path / "cluster", protocol="pb-general-omission", replicas=3)
    config = dataclasses.replace(config, inbox_max=2)

    async def main() -> None:
        server = ReplicaServer(config, "p1", start_at=time.time(), storage=RecordingStorage([]))
        for i in range(3):
            relayed = RelayedRequest(ClientRequest(f"c{i + 1}", 1, Op("get", "k"), previous="p1"))
            await asyncio.wait_for(server._deliver("p2", relayed), 1.0)  # never waits
        assert len(server._requests) == 2 and server.stats["relayed_dropped"] == 1
        assert server._room.is_set()  # the clients' readers are not paused by relays

    asyncio.run(main())


def test_a_replica_restarted_on_a_torn_log_says_so_in_its_status(tmp_path: Path) -> None:
    """The replica's default storage is the append-only log; a torn last record (a
    write cut by a crash) is cut off when the replica opens it, and counted."""
    config = init_cluster(tmp_path / "cluster", protocol="raft", replicas=3)
    data = config.data_path("p1")
    data.mkdir(parents=True)
    store = LogStorage(data / "state.log", "batch")
    store.write([("term", (3, "p2")), ("last", 0)])
    store.close()
    with open(data / "state.log", "r+b") as handle:
        handle.seek(store._file_bytes)
        handle.write(b"\x00\x00\x01")
    server = ReplicaServer(config, "p1", start_at=time.time())
    try:
        assert server.status()["storage"] == {
            "engine": "LogStorage",
            "compactions": 0,
            "torn_bytes": 3,
        }
        assert server.saved_keys == 2
    finally:
        server.storage.close()
