from __future__ import annotations

import random

import pytest

from smrkit.core import (
    ClientRequest,
    FailureModel,
    Op,
    Out,
    client_ids,
    freeze,
    is_client,
    is_server,
    lower_bounds,
    rank,
    server_ids,
    thaw,
)


def test_ids() -> None:
    assert server_ids(3) == ("p1", "p2", "p3")
    assert client_ids(2) == ("c1", "c2")
    assert is_server("p12") and not is_server("c1") and not is_server("p0x")
    assert is_client("c3") and not is_client("p3")
    assert rank("p10") == 10
    with pytest.raises(ValueError):
        rank("c1")
    with pytest.raises(ValueError):
        server_ids(0)


def test_values_freeze_and_thaw() -> None:
    assert freeze([1, [2, "a"], None]) == (1, (2, "a"), None)
    assert thaw((1, (2, "a"))) == [1, [2, "a"]]
    with pytest.raises(TypeError):
        freeze({"a": 1})


def test_messages_are_frozen_and_hashable() -> None:
    request = ClientRequest("c1", 1, Op("put", "x", "v"))
    assert request == ClientRequest("c1", 1, Op("put", "x", "v"))
    assert hash(request) == hash(ClientRequest("c1", 1, Op("put", "x", "v")))
    with pytest.raises(AttributeError):
        request.seq = 2  # type: ignore[misc]
    assert str(Op("cas", "k", (1, 2))) == "cas k (1, 2)"


def test_out_collects_effects_in_order() -> None:
    out = Out(random.Random(1))
    out.now = 2.0
    out.send("p2", ClientRequest("c1", 1, Op("get", "x")))
    out.send_all(["p3", "p1"], ClientRequest("c1", 2, Op("get", "x")))
    out.set_timer("t", 0.5)
    out.set_timer("t", 0.25)  # replaces
    out.set_timer_at("u", 3.0)
    out.cancel_timer("v")
    out.save("k", 1)
    out.halt("lost my disk")
    assert [dst for dst, _ in out.sends] == ["p2", "p3", "p1"]
    assert out.timers == {"t": 2.25, "u": 3.0, "v": None}
    assert out.saves == [("k", 1)]
    assert out.halt_reason == "lost my disk"
    with pytest.raises(ValueError):
        out.set_timer("x", -1)
    with pytest.raises(ValueError):
        out.set_timer_at("x", 1.0)
    out.clear()
    assert not out.sends and not out.timers and not out.saves


def test_table_one() -> None:
    delta = 0.01
    crash = lower_bounds(FailureModel.CRASH, 2, delta)
    assert (crash.replicas_min, crash.blocking_s, crash.failover_s) == (3, 0.0, 2 * delta)
    link = lower_bounds(FailureModel.CRASH_LINK, 1, delta)
    assert (link.replicas_min, link.blocking_s, link.failover_s) == (3, 0.0, 2 * delta)
    assert link.assumes_d_below_gamma
    receive = lower_bounds(FailureModel.RECEIVE_OMISSION, 2, delta)
    assert (receive.replicas_min, receive.blocking_s, receive.failover_s) == (
        4,
        2 * delta,
        4 * delta,
    )
    assert not receive.known_tight
    send = lower_bounds(FailureModel.SEND_OMISSION, 1, delta)
    assert (send.replicas_min, send.blocking_s, send.failover_s) == (2, delta, 2 * delta)
    general = lower_bounds(FailureModel.GENERAL_OMISSION, 3, delta)
    assert (general.replicas_min, general.blocking_s, general.failover_s) == (
        7,
        2 * delta,
        6 * delta,
    )
    nothing = lower_bounds(FailureModel.CRASH_LINK, 0, delta)
    assert (nothing.replicas_min, nothing.blocking_s, nothing.failover_s) == (1, 0.0, 0.0)
    with pytest.raises(ValueError):
        lower_bounds(FailureModel.CRASH, -1, delta)
