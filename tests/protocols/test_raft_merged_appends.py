"""The runtime merges a leader's run of AppendEntries to one follower into one message
(:func:`merged_appends`): a follower that takes the merged message must end where it
would after taking the run one by one, and only messages that continue one another
may merge."""

from __future__ import annotations

import random

from smrkit.core.messages import Message
from smrkit.core.node import Out, Replica
from smrkit.core.ops import Command, Op
from smrkit.protocols.raft import RaftNode, build_raft_group
from smrkit.protocols.raft.messages import AppendEntries, AppendReply, RequestVote, merged_appends


def _entry_bytes(msg: AppendEntries) -> int:
    return 10 * len(msg.commands)


def _put(seq: int) -> Command:
    return Command("c1", seq, Op("put", ("k", seq)))


# The leader p1 of term 1 streams its no-op, then one entry per request, its commit
# index growing as the followers answer.
RUN: list[Message] = [
    AppendEntries(1, 0, 0, (1,), (None,), 0),
    AppendEntries(1, 1, 1, (1,), (_put(1),), 1),
    AppendEntries(1, 2, 1, (1,), (_put(2),), 1),
    AppendEntries(1, 3, 1, (), (), 3),  # a heartbeat carrying the commit index
    AppendEntries(1, 3, 1, (1, 1), (_put(3), _put(4)), 3),
]


def _follower() -> tuple[RaftNode, Out]:
    node = build_raft_group(["p1", "p2", "p3"], "kv", delta_s=0.01, tau_s=0.05)[1]
    out = Out(random.Random(0), {})
    node.on_start(out)
    node.on_message("p1", RequestVote(1, 0, 0), out)
    return node, out


def _take(node: RaftNode, out: Out, msgs: list[Message]) -> list[object]:
    replies: list[object] = []
    for msg in msgs:
        out.clear()
        node.on_message("p1", msg, out)
        replies += [m for _, m in out.sends]
    return replies


def _state(node: RaftNode) -> tuple[object, ...]:
    entries = [(node.log.term_at(i), node.log.command_at(i)) for i in range(1, 6)]
    return node.log.last_index, node.commit, node.last_applied, tuple(entries)


def test_a_merged_run_leaves_the_follower_where_the_run_does_and_is_answered_once() -> None:
    stamped = [(float(i), msg) for i, msg in enumerate(RUN)]
    merged = merged_appends(stamped, 1000, _entry_bytes)
    assert merged == [(0.0, AppendEntries(1, 0, 0, (1,) * 5, (None, *map(_put, (1, 2, 3, 4))), 3))]
    one_by_one, out = _follower()
    replies = _take(one_by_one, out, RUN)
    at_once, out = _follower()
    assert _take(at_once, out, [merged[0][1]]) == [AppendReply(1, True, 5, 0, 0)]
    assert _state(at_once) == _state(one_by_one) == (5, 3, 3, _state(one_by_one)[3])
    assert replies[-1] == AppendReply(1, True, 5, 0, 0)


def test_only_messages_that_continue_one_another_merge_and_within_the_size_bound() -> None:
    gap = AppendEntries(1, 5, 1, (1,), (_put(6),), 3)  # entry 5 is missing
    newer = AppendEntries(2, 1, 1, (2,), (_put(7),), 3)  # another term
    other = RequestVote(2, 1, 1)
    for tail in ([gap], [other, RUN[1]], [newer]):
        stamped = [(0.0, RUN[0]), *((1.0, msg) for msg in tail)]
        assert merged_appends(stamped, 1000, _entry_bytes) == stamped
    # At most three entries' worth of bytes: the run leaves as two messages.
    merged = [msg for _, msg in merged_appends([(0.0, m) for m in RUN], 30, _entry_bytes)]
    assert [(m.prev_index, len(m.terms)) for m in merged if isinstance(m, AppendEntries)] == [
        (0, 3),
        (3, 2),
    ]


def test_a_raft_node_coalesces_for_the_runtime_and_other_replicas_do_not() -> None:
    """The runtime asks the node (``Replica.coalesced``), not the protocol's name: a
    Raft server merges its run, any other replica sends what it sent."""
    from smrkit.protocols.registry import ProtocolConfig, get_protocol

    stamped = [(0.1 * i, msg) for i, msg in enumerate(RUN)]
    raft = build_raft_group(["p1", "p2", "p3"], "kv", delta_s=0.01, tau_s=0.05)[0]
    assert len(raft.coalesced(stamped)) == 1
    config = ProtocolConfig(
        servers=("p1", "p2", "p3"), clients=(), app="kv", delta_s=0.01, tau_s=0.05
    )
    other = get_protocol("pb-general-omission").build(config)[0]
    assert isinstance(other, Replica)
    assert other.coalesced(stamped) == stamped
