"""The replicated service state: execute once, answer retries from the cache, reject
bad ops without changing anything."""

from __future__ import annotations

import random

from smrkit.core import ClientReply, ClientRequest, Command, Op, Out
from smrkit.protocols.service import ReplicatedService


def test_admit_executes_new_requests_once_and_answers_retries_from_the_cache() -> None:
    service = ReplicatedService("kv")
    out = Out(random.Random(0))
    request = ClientRequest("c1", 1, Op("append", "k", "a"))
    assert service.admit("c1", request, out) == (Command("c1", 1, request.op), None)
    assert out.sends == []  # the caller replicates first, then replies
    assert service.admit("c1", request, out) is None  # a retry
    assert out.sends == [("c1", ClientReply("c1", 1, None))]
    assert len(service.log) == 1
    assert service.admit("c1", ClientRequest("c1", 0, Op("get", "k")), out) is None  # stale
    assert len(out.sends) == 1


def test_admit_rejects_an_invalid_op_without_applying_it() -> None:
    service = ReplicatedService("kv")
    out = Out(random.Random(0))
    service.admit("c1", ClientRequest("c1", 1, Op("put", "k", 5)), out)
    bad = ClientRequest("c1", 2, Op("append", "k", "x"))  # append to a non-string
    assert service.admit("c1", bad, out) is None
    ((dst, reply),) = out.sends
    assert dst == "c1" and isinstance(reply, ClientReply) and reply.error
    assert len(service.log) == 1 and service.app.read("k") == 5
