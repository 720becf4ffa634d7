"""Raft's persistent state on a real cluster: a replica killed with SIGKILL right after
it voted, or right after it acknowledged an append, kept its term, its vote and its
log in its SQLite file, and its next incarnation starts from them. PySyncObj's issue
#84 — a vote not persisted, so that a restarted server votes a second time in a term —
is the failure these would catch; the second test also shows what a lost log would
cost: the write would be gone once the replica's vote elects a leader without it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from raft_support import leader_of, saved_state, statuses, until
from tests_net_support import running_cluster

from smrkit.core.ops import Op
from smrkit.net import nemesis
from smrkit.net.client import BlockingClient
from smrkit.net.config import ClusterConfig


def _block(config: ClusterConfig, cut_off: str) -> None:
    """Cut ``cut_off`` from the other replicas (and heal every other link)."""
    asyncio.run(nemesis.block(config, nemesis.partition_links(config, [cut_off])))


def _served_again(config: ClusterConfig, replica: str, pid: int) -> dict[str, object]:
    """Wait until the supervisor's next incarnation of ``replica`` serves; its status."""

    def check(found: dict[str, object]) -> object:
        status = found[replica]
        assert isinstance(status, dict)
        return status if status.get("serving") and status.get("pid") != pid else None

    return until(config, f"{replica} serves again", check)  # type: ignore[no-any-return]


def test_a_vote_survives_a_kill_9_right_after_it_was_cast(tmp_path: Path) -> None:
    with running_cluster(tmp_path / "c", protocol="raft") as config:
        first, term = until(config, "a leader", leader_of(list(config.servers)))
        _block(config, first)  # the other two elect one of them, in a later term
        others = [r for r in config.servers if r != first]
        second, term2 = until(config, "a second leader", leader_of(others))
        assert term2 > term
        voter = next(r for r in others if r != second)  # its vote made the majority
        pid = nemesis.kill(config, voter)
        kept = saved_state(config, voter)
        assert (kept.term, kept.voted_for) == (term2, second)
        status = _served_again(config, voter, pid)
        recovered = status["recovered"]
        assert isinstance(recovered, dict)
        assert (recovered["term"], recovered["voted_for"]) == (term2, second)
        assert recovered["log_last"] == kept.log.last_index > 0
        # No vote was cast again in term2: no other server leads it. (second, alone
        # with the blocked first while the voter restarted, may have stepped down —
        # CheckQuorum — and a later term elected a leader since.)
        now = statuses(config)
        leaders = [(s["term"], r) for r, s in now.items() if s.get("role") == "leader"]
        assert all(t > term2 or r == second for t, r in leaders), (term2, second, leaders)


def test_an_acknowledged_append_survives_a_kill_9_of_the_follower_that_held_it(
    tmp_path: Path,
) -> None:
    with running_cluster(tmp_path / "c", protocol="raft") as config:
        leader, _ = until(config, "a leader", leader_of(list(config.servers)))
        holder, behind = [r for r in config.servers if r != leader]
        _block(config, behind)  # the leader's only majority is itself and the holder
        with BlockingClient(config, op_timeout_s=20.0) as client:
            client.append("log", "[1]")
            pid = nemesis.kill(config, holder)  # right after its acknowledgement
            kept = saved_state(config, holder)
            first, last = kept.log.base_index + 1, kept.log.last_index
            commands = [kept.log.command_at(i) for i in range(first, last + 1)]
            assert any(c is not None and c.op == Op("append", "log", "[1]") for c in commands)
            status = _served_again(config, holder, pid)
            assert isinstance(status["recovered"], dict)
            assert status["recovered"]["log_last"] == kept.log.last_index
            # Now the old leader is cut off and the other two must elect: only the
            # holder has the write, so only it can win (a vote of a holder that had lost
            # its log would elect the one that never saw it, and the write would be gone).
            _block(config, leader)
            others = [holder, behind]
            new_leader, _ = until(config, "a leader of the two", leader_of(others))
            assert new_leader == holder
            assert client.get("log") == "[1]"
        asyncio.run(nemesis.heal(config))
