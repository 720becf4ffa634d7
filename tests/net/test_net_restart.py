"""A killed replica of a restartable protocol (pb-general-omission, n = 3, f = 1)
restarted: it recovers its state from its disk, catches up, and rejoins — so much that
once another replica is killed, the cluster needs it for every quorum. The history of
the whole run is checked for linearizability and lost acknowledged writes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests_net_support import running_cluster

from smrkit.check.history import History, Status
from smrkit.check.linearizability import check_linearizability
from smrkit.cli.main import main
from smrkit.core.ops import Op
from smrkit.net import nemesis
from smrkit.net.admin import status_all
from smrkit.net.client import Client, OutcomeUnknownError
from smrkit.net.cluster import ClusterError, replica_pid, restart_replica
from smrkit.net.config import ClusterConfig
from smrkit.net.jepsen import _lost_writes, _Recorder, _renumber

DEADLINE_S = 20.0


@pytest.fixture
def omission_cluster(tmp_path: Path) -> Iterator[ClusterConfig]:
    with running_cluster(tmp_path / "cluster", protocol="pb-general-omission") as config:
        yield config


@pytest.fixture
def sqlite_omission_cluster(tmp_path: Path) -> Iterator[ClusterConfig]:
    """The same on SQLite storage (``cluster init --storage sqlite``), still selectable
    beside the default append-only log."""
    with running_cluster(
        tmp_path / "cluster", protocol="pb-general-omission", storage="sqlite"
    ) as config:
        yield config


def _statuses(config: ClusterConfig) -> dict[str, Any]:
    return asyncio.run(status_all(config))


def _wait_until(what: str, predicate: Any) -> dict[str, Any]:
    """Poll the cluster's status until ``predicate(statuses)`` holds (or fail)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        statuses = predicate()
        if statuses is not None:
            return statuses  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def _caught_up(config: ClusterConfig, replicas: list[str]) -> dict[str, Any]:
    """Wait until ``replicas`` all serve and have applied as much as the primary."""

    def check() -> dict[str, Any] | None:
        statuses = _statuses(config)
        live = [statuses[r] for r in replicas]
        if not all(s.get("ok") and s.get("serving") for s in live):
            return None
        primaries = [s for s in live if s["is_primary"]]
        if len(primaries) != 1:
            return None
        if all(s["applied"] == primaries[0]["applied"] for s in live):
            return statuses
        return None

    return _wait_until(f"{', '.join(replicas)} have caught up", check)


def _primary(config: ClusterConfig) -> str:
    statuses = _statuses(config)
    return next(r for r, s in statuses.items() if s.get("ok") and s.get("is_primary"))


class _Writer:
    """Appends unique values and puts through one client, every op recorded."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.recorder = _Recorder(time.monotonic())
        self.count = 0

    async def _batch(self, count: int, final: bool = False) -> None:
        async with Client(self.config, op_timeout_s=DEADLINE_S) as client:
            if final:
                for key in ("log", "k0", "k1", "k2"):
                    await self.recorder.run(client, "final", Op("get", key), DEADLINE_S)
                return
            for _ in range(count):
                self.count += 1
                value = f"[{self.count}]"
                await self.recorder.run(client, "w", Op("append", "log", value), DEADLINE_S)
                key = f"k{self.count % 3}"
                await self.recorder.run(client, "w", Op("put", key, value), DEADLINE_S)

    def write(self, count: int) -> None:
        asyncio.run(self._batch(count))

    def check(self) -> None:
        """Everything written is readable: the history is linearizable, no acknowledged
        append is lost or applied twice, and every op was acknowledged."""
        asyncio.run(self._batch(0, final=True))
        ops = _renumber(sorted(self.recorder.ops, key=lambda op: op.call))
        assert all(op.status is Status.OK for op in ops), [op for op in ops if op.status]
        final = {op.key: op.output for op in ops if op.process == "final" and op.key}
        expected = "".join(f"[{i}]" for i in range(1, self.count + 1))
        assert final["log"] == expected
        lost, duplicated = _lost_writes(ops, final)
        assert lost == [] and duplicated == []
        history = History(ops=ops, model="kv", source="restart test")
        result = check_linearizability(history, 60.0)
        assert result.verdict == "linearizable", result.witness


def _kill_restart_and_lean_on(
    config: ClusterConfig, victim: str, restart: Any, *, then_kill_primary: bool
) -> None:
    """The scenario of both tests: ``victim`` is killed and restarted, then another
    replica (the primary, or a backup) is killed, so that every quorum includes the
    restarted one."""
    writer = _Writer(config)
    writer.write(15)
    before = _caught_up(config, list(config.servers))[victim]["applied"]
    assert before == 31  # 30 commands, and the one that opened the writer's session
    nemesis.kill(config, victim)
    writer.write(10)  # acknowledged by the two others
    restart(victim)
    recovered = _statuses(config)[victim]["recovered"]
    assert recovered is not None and recovered["saved_keys"] > before
    assert recovered["applied"] == before  # what it had committed, read from its disk
    statuses = _caught_up(config, list(config.servers))
    assert statuses[victim]["applied"] == before + 21
    # Another replica goes: the restarted one is now in every quorum.
    primary = _primary(config)
    assert primary != victim  # it came back as a follower
    backup = next(r for r in config.servers if r not in (victim, primary))
    second = primary if then_kill_primary else backup
    nemesis.kill(config, second)
    writer.write(10)
    survivors = [r for r in config.servers if r != second]
    statuses = _caught_up(config, survivors)
    assert all(statuses[r]["applied"] == before + 42 for r in survivors)
    writer.check()


def test_a_killed_backup_restarted_recovers_from_disk_and_rejoins(
    sqlite_omission_cluster: ClusterConfig,
) -> None:
    config = sqlite_omission_cluster
    assert _primary(config) == "p1"
    assert (config.data_path("p2") / "state.sqlite").exists()

    def restart(replica: str) -> None:
        with pytest.raises(ClusterError, match="still running"):
            restart_replica(config, "p1")
        pid = restart_replica(config, replica)
        assert replica_pid(config, replica) == pid

    # p2, a backup, is killed and restarted; then p1, the primary, is killed, and p2
    # must vote in the election and acknowledge every write of the new primary, p3.
    _kill_restart_and_lean_on(config, "p2", restart, then_kill_primary=True)


def test_a_killed_primary_restarted_recovers_from_disk_and_rejoins(
    omission_cluster: ClusterConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    config = omission_cluster
    assert _primary(config) == "p1"
    directory = str(config.base)

    def restart(replica: str) -> None:
        for argv, code_wanted, text in (
            (["restart", "p3"], 2, "p3 is still running"),
            (["restart", replica], 0, f"restarted {replica} (pid "),
        ):
            with pytest.raises(SystemExit) as exit_info:
                main(["nemesis", "--cluster", directory, *argv])
            out, err = capsys.readouterr()
            code = exit_info.value.code
            assert (code if isinstance(code, int) else 0) == code_wanted, err
            assert text in (out if code_wanted == 0 else err)
            assert code_wanted == 0 or err.count("\n") == 1

    # p1, the primary, is killed (p2 takes over) and restarted as a follower; then the
    # backup p3 is killed and every write of p2 needs p1's acknowledgement.
    _kill_restart_and_lean_on(config, "p1", restart, then_kill_primary=False)


def test_kill_9_of_every_replica_under_load_loses_nothing_acknowledged(
    omission_cluster: ClusterConfig,
) -> None:
    """The group commit runs off the event loop, so under load a commit is nearly
    always on its way to the disk while the next steps run. 16 writers append to their
    own keys without pause; every replica is killed (kill -9, a power cut as far as
    each process knows) in the middle of that, and all three are restarted from their
    disks. Every acknowledged append is in the final value of its key, once: a replica
    acknowledges only what its disk holds (were a message let out before its step's
    commit, the acknowledgements of the last batches would outlive their saves)."""
    config = omission_cluster
    writers = 16
    acked: dict[str, list[int]] = {f"w{i}": [] for i in range(writers)}

    async def load(stop: asyncio.Event) -> None:
        async with Client(config, op_timeout_s=1.0) as client:

            async def writer(key: str) -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    try:
                        await client.append(key, f"[{n}]")
                    except OutcomeUnknownError:
                        continue  # it may or may not have taken effect
                    acked[key].append(n)

            await asyncio.gather(*(writer(key) for key in acked))

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(load(stop))
        await asyncio.sleep(1.5)
        commits = (await status_all(config))["p1"]["stats"]["commits"]
        assert commits > 0  # the primary has been committing under the load
        for replica in config.servers:  # one after the other, within milliseconds
            nemesis.kill(config, replica)
        stop.set()
        await task

    asyncio.run(scenario())
    assert sum(map(len, acked.values())) > 100
    for replica in config.servers:
        restart_replica(config, replica)

    async def read() -> dict[str, object]:
        async with Client(config, op_timeout_s=DEADLINE_S) as client:
            return {key: await client.get(key) for key in acked}

    final = asyncio.run(read())
    for key, numbers in acked.items():
        value = final[key]
        assert isinstance(value, str)
        kept = [int(n) for n in value.strip("[]").split("][")] if value else []
        assert len(kept) == len(set(kept)), f"{key}: an append applied twice"
        assert set(numbers) <= set(kept), f"{key}: acknowledged {numbers}, kept {kept}"
    statuses = _statuses(config)
    assert all(statuses[r]["recovered"]["saved_keys"] > 0 for r in config.servers)
