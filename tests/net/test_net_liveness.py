"""Liveness of a real pb-general-omission cluster (issue 8, section 2): a restarted
replica catches up under load in parts that fit the frame limit, and a kill-kill-
restart does not deadlock the election."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests_net_support import running_cluster

from smrkit.net import nemesis
from smrkit.net.admin import status_all
from smrkit.net.client import BlockingClient, Client
from smrkit.net.cluster import down_cluster, restart_replica, up_cluster
from smrkit.net.config import ClusterConfig

DEADLINE_S = 30.0


def _statuses(config: ClusterConfig) -> dict[str, Any]:
    return asyncio.run(status_all(config))


def _until(what: str, check: Callable[[dict[str, Any]], bool], config: ClusterConfig) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check(_statuses(config)):
        assert time.monotonic() < deadline, f"not within {DEADLINE_S} s: {what}"
        time.sleep(0.1)


def test_a_restarted_replica_catches_up_under_load_in_parts(tmp_path: Path) -> None:
    """Frames of at most 32 KiB here, so the 6,000 entries p3 misses (about 500 kB)
    take dozens of parts. p3 is restarted while the load goes on; it catches up, and
    nothing was dropped for being too large (the primary used to answer every update
    of a lagging follower with its whole tail, in frames of up to 137 MB)."""
    limits = {"frame_bytes_max": 32 * 1024, "client_frame_bytes_max": 16 * 1024}
    with running_cluster(tmp_path / "c", protocol="pb-general-omission", limits=limits) as config:

        async def load(count: int, stop: asyncio.Event | None = None) -> int:
            done = 0
            async with Client(config) as client:

                async def worker(w: int) -> None:
                    nonlocal done
                    while done < count and not (stop is not None and stop.is_set()):
                        done += 1
                        await client.put(f"k{w}", f"{done}")

                await asyncio.gather(*(worker(w) for w in range(20)))
            return done

        nemesis.kill(config, "p3")
        asyncio.run(load(6_000))

        async def restart_under_load() -> int:
            stop = asyncio.Event()
            writes = asyncio.ensure_future(load(10**9, stop))
            await asyncio.to_thread(restart_replica, config, "p3")
            await asyncio.sleep(2.0)
            stop.set()
            return await writes

        during = asyncio.run(restart_under_load())
        assert during > 100  # the load went on while p3 came back

        def caught_up(statuses: dict[str, Any]) -> bool:
            applied = {r: s.get("applied") for r, s in statuses.items()}
            return all(s.get("ok") for s in statuses.values()) and len(set(applied.values())) == 1

        _until("p3 has applied what the others have", caught_up, config)
        for replica, status in _statuses(config).items():
            stats = status["stats"]
            assert not stats.get("dropped_oversize") and not stats.get("dropped_unencodable")
            assert status["serving"], replica


def test_kill_kill_restart_elects_a_primary(tmp_path: Path) -> None:
    """Kill p2, kill p1 (the primary), restart p1: p3 had deserted p1 and never voted
    for it again, p1 voted for itself, and no primary came for minutes."""
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        with BlockingClient(config) as client:
            client.put("k", "before")
        nemesis.kill(config, "p2")
        nemesis.kill(config, "p1")
        time.sleep(4 * config.tau_s)  # p3 deserts p1 and finds no quorum
        restart_replica(config, "p1")
        _until(
            "a primary is elected",
            lambda statuses: any(s.get("is_primary") for s in statuses.values()),
            config,
        )
        with BlockingClient(config) as client:
            assert client.get("k") == "before"
            client.put("k", "after")
            assert client.get("k") == "after"


def test_a_primary_halted_by_a_partition_comes_back_from_its_disk(tmp_path: Path) -> None:
    """A partitioned primary halts (it cannot reach a quorum: the translation of an
    omission into a crash). Its process used to end there, so two partitions in a row
    left no quorum. For a restartable protocol the process starts a new incarnation
    from its disk; once healed it follows the new primary, and the next partition of a
    primary still leaves a quorum. Then the whole cluster goes down and up again, and
    every replica recovers from its disk."""
    with running_cluster(tmp_path / "c", protocol="pb-general-omission") as config:
        with BlockingClient(config) as client:
            client.put("k", "before")
        for victim in ("p1", "p2"):
            asyncio.run(nemesis.block(config, nemesis.partition_links(config, [victim])))
            _until(f"{victim} halts", lambda s, v=victim: s[v].get("ok") is not True, config)
            asyncio.run(nemesis.heal(config))
            _until(
                f"{victim} is back as a follower",
                lambda s, v=victim: (
                    bool(s[v].get("ok"))
                    and s[v]["incarnation"] == 2
                    and sum(bool(x.get("is_primary")) for x in s.values()) == 1
                ),
                config,
            )
            with BlockingClient(config) as client:
                client.append("k", f"+{victim}")
        statuses = _statuses(config)
        assert all(s["serving"] for s in statuses.values())
        assert statuses["p1"]["earlier_halts"] and statuses["p2"]["earlier_halts"]
        with BlockingClient(config) as client:
            assert client.get("k") == "before+p1+p2"
        down_cluster(config)
        up_cluster(config)
        assert all(s["recovered"] for s in _statuses(config).values())
        with BlockingClient(config) as client:
            client.append("k", "+up")
            assert client.get("k") == "before+p1+p2+up"
