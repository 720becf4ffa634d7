"""The replicated service state: execute once, answer retries from the cache, reject
bad ops without changing anything."""

from __future__ import annotations

import random

from smrkit.core import ClientReply, ClientRequest, Command, Op, Out
from smrkit.protocols.service import (
    SESSION_EXPIRED,
    SESSION_OPEN,
    Freshness,
    ReplicatedService,
)


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


def test_sessions_expire_by_the_log_and_a_retry_of_an_expired_one_is_refused() -> None:
    """Two services fed the same commands expire the same sessions (no clock); a retry
    of a forgotten session is refused with 'session expired', never applied again; a
    session's first command (the opening one) still starts a session."""
    services = [ReplicatedService("kv", clients_max=3) for _ in range(2)]
    commands = [Command(f"c{i}", 1, Op(SESSION_OPEN)) for i in range(1, 5)]
    commands.insert(1, Command("c1", 2, Op("append", "log", "[R]")))
    for service in services:
        for command in commands:
            service.execute(command)
    assert services[0]._replies == services[1]._replies
    assert services[0].forgotten == 1 and services[0].app.read("log") == "[R]"
    out = Out(random.Random(0))
    retry = ClientRequest("c1", 2, Op("append", "log", "[R]"))
    assert services[0].freshness("c1", 2) is Freshness.EXPIRED
    assert services[0].admit("c1", retry, out) is None
    ((_, reply),) = out.sends
    assert isinstance(reply, ClientReply) and reply.error is not None
    assert reply.error.startswith(SESSION_EXPIRED)
    assert services[0].app.read("log") == "[R]"
    assert services[0].freshness("c9", 1) is Freshness.NEW


def test_before_any_session_expired_an_unknown_client_is_new() -> None:
    """Only a protocol that lost state sends a later command of a session the service
    never saw; applied as new, the checkers see the loss (as the pinned counterexample
    of the broken pb-crash variant shows)."""
    service = ReplicatedService("kv")
    assert service.freshness("c5", 7) is Freshness.NEW
