"""Seed 000's worlds: built as the post says, and the verdict of each two-server protocol.

The verdicts are pinned from the protocols' own logic, not from a past run:

* pb-crash — in world C each server misses the other's heartbeat at δ, concludes it
  crashed and serves alone: p1 commits c1's C1, p2 commits c2's C2. Safety goes.
* pb-simple — p1 is the primary from the start and serves c1; p2 hears nothing from p1
  for τ + δ, takes over and serves c2. Safety goes.
* ``Unanimous`` (tests/explore/worlds_protocols.py) answers only what every server
  accepted: a silent server blocks it in A and B. Liveness goes.
* ``SHARED_MEMORY`` shares a list between its servers, outside the message-passing
  model: it keeps both properties, and the views show the cheat.
"""

from __future__ import annotations

import pytest
from worlds_protocols import SHARED_MEMORY

from smrkit.explore.protocol_ref import ProtocolRefError, resolve_protocol
from smrkit.explore.worlds import (
    World,
    WorldsError,
    build_worlds,
    compare_views,
    demonstrate,
    run_world,
    split_servers,
    view,
)
from smrkit.protocols.registry import get_protocol, service_protocols


def test_the_worlds_are_the_posts() -> None:
    worlds = build_worlds(("p1",), ("p2",))
    assert worlds["A"].writes == {"c1": "C1"}
    assert worlds["A"].faults == ("general-omission:p2@0",)
    assert worlds["B"].writes == {"c2": "C2"}
    assert worlds["B"].faults == ("general-omission:p1@0",)
    assert worlds["C"].writes == {"c1": "C1", "c2": "C2"}
    assert set(worlds["C"].faults) == {
        "send-omission:c1->p2@0",
        "receive-omission:c1<-p2@0",
        "send-omission:c2->p1@0",
        "receive-omission:c2<-p1@0",
        "send-omission:p2->p1@0",
        "receive-omission:p2<-p1@0",
    }


def test_n_le_2f_splits_the_servers_into_halves_of_at_most_f() -> None:
    assert split_servers(2, 1) == (("p1",), ("p2",))
    assert split_servers(4, 2) == (("p1", "p2"), ("p3", "p4"))
    assert split_servers(3, 2) == (("p1", "p2"), ("p3",))
    for n, f in ((3, 1), (5, 2), (1, 1), (2, 0)):
        with pytest.raises(WorldsError):
            split_servers(n, f)


@pytest.mark.parametrize("name", ["pb-crash", "pb-simple"])
def test_two_server_primary_backup_gives_up_safety(name: str) -> None:
    result = demonstrate(get_protocol(name))
    assert result.views_identical
    assert [c.process for c in result.comparisons] == ["p1", "c1", "p2", "c2"]
    assert all(c.lengths[0] > 0 for c in result.comparisons)
    assert result.runs["A"].outcomes["c1"].value == "C1"
    assert result.runs["B"].outcomes["c2"].value == "C2"
    c = result.runs["C"].outcomes
    assert (c["c1"].value, c["c2"].value) == ("C1", "C2")
    assert result.lost == ["safety"]
    assert result.gives_up == "safety"
    assert result.demonstrates


def test_every_registered_two_server_protocol_loses_one_property() -> None:
    """The theorem, for whatever the registry holds when the test runs."""
    checked = 0
    for name in service_protocols():
        spec = get_protocol(name)
        if spec.replicas_problem(2) is not None or spec.auxiliary(2):
            continue  # chain's two replicas have three master nodes beside them: n = 5
        result = demonstrate(spec)
        assert result.demonstrates, (name, result.findings, result.comparisons)
        checked += 1
    assert checked >= 2


def test_four_servers_and_f_2_split_into_halves() -> None:
    result = demonstrate(get_protocol("pb-crash"), n=4, f=2)
    assert result.halves == (("p1", "p2"), ("p3", "p4"))
    assert [c.process for c in result.comparisons] == ["p1", "p2", "c1", "p3", "p4", "c2"]
    assert [c.worlds for c in result.comparisons] == [("A", "C")] * 3 + [("B", "C")] * 3
    assert result.views_identical
    assert result.gives_up == "safety"


def test_a_user_protocol_that_waits_for_everyone_gives_up_liveness() -> None:
    resolved = resolve_protocol("worlds_protocols:Unanimous")
    assert not resolved.declared
    without_faults = World("none", {"c1": "C1", "c2": "C2"}, (), "no faults")
    run = run_world(
        resolved.spec, without_faults, ("p1", "p2"), delta_s=0.01, tau_s=0.05, horizon_s=1.0
    )
    learned = {c: o.value for c, o in run.outcomes.items()}
    assert learned["c1"] == learned["c2"] in ("C1", "C2")  # it works when nothing fails
    for n, f in ((2, 1), (4, 2)):
        result = demonstrate(resolved.spec, declared=False, n=n, f=f)
        assert result.views_identical
        assert result.lost == ["liveness"]
        assert not result.runs["A"].outcomes["c1"].learned
        assert not result.runs["B"].outcomes["c2"].learned
        assert result.demonstrates


def test_servers_that_share_memory_are_caught_by_their_views() -> None:
    result = demonstrate(SHARED_MEMORY)
    assert result.lost == []
    assert result.gives_up is None
    assert not result.views_identical
    assert not result.demonstrates
    differing = {c.process: c for c in result.comparisons if not c.identical}
    assert set(differing) == {"p2", "c2"}
    in_b, in_c = differing["p2"].entries
    assert in_b is not None and in_c is not None
    assert (in_b[1], in_b[3].result, in_c[3].result) == ("send", "C2", "C1")


def test_views_of_worlds_the_proof_does_not_pair_differ() -> None:
    result = demonstrate(get_protocol("pb-crash"))
    runs = result.runs
    assert not compare_views("c1", runs["A"], runs["B"]).identical
    assert view(runs["A"].trace, "c1") == view(runs["C"].trace, "c1")
    assert all(entry[2] == "p1" for entry in view(runs["C"].trace, "c1") if entry[2])


def test_the_worlds_are_deterministic() -> None:
    spec = get_protocol("pb-simple")
    first, second = demonstrate(spec), demonstrate(spec)
    for name in "ABC":
        assert first.runs[name].trace.trace_hash() == second.runs[name].trace.trace_hash()


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("no-such-protocol", "unknown protocol"),
        ("no_such_module_xyz:Replica", "no module named 'no_such_module_xyz'"),
        ("worlds_protocols:Missing", "has no 'Missing'"),
        ("worlds_protocols:NOT_A_PROTOCOL", "is of type int, not a Replica subclass"),
        ("worlds_protocols:Forward", "not a Replica subclass"),
        ("worlds_protocols:", "bad protocol reference"),
    ],
)
def test_bad_protocol_references_say_what_is_wrong(ref: str, says: str) -> None:
    with pytest.raises(ProtocolRefError, match=says):
        resolve_protocol(ref)


def test_a_replica_class_with_the_wrong_constructor_is_a_worlds_error() -> None:
    resolved = resolve_protocol("worlds_protocols:_SharedBoard")  # (node_id, config, board)
    with pytest.raises(WorldsError, match="must accept \\(node_id, config\\)"):
        demonstrate(resolved.spec)


def test_a_protocol_that_cannot_run_on_n_servers_is_refused() -> None:
    with pytest.raises(WorldsError, match="exactly 2 servers"):
        demonstrate(get_protocol("pb-simple"), n=4, f=2)
