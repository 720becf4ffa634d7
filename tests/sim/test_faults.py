from __future__ import annotations

import math
import random

import pytest

from smrkit.core import FailureModel, server_ids
from smrkit.sim.faults import (
    Fault,
    FaultPlan,
    FaultSpecError,
    admissibility_problems,
    parse_fault,
    random_plan,
)

SPECS = [
    "crash:p1@1.0",
    "crash:p1@1.0/2",
    "link:p1-p2@0.5",
    "link:p1-p2@0.5..0.9",
    "link:p1->p2@0.5..0.9~0.3",
    "send-omission:p2->p3@0.2..0.9",
    "send-omission:p2@0.2..0.9",
    "receive-omission:p3<-p1@0.2..0.9",
    "receive-omission:p3@0.2..",
    "general-omission:p2@0.2..0.9",
    "send-omission:c1->p2@0",
]


@pytest.mark.parametrize("spec", SPECS)
def test_every_documented_spec_parses_and_round_trips(spec: str) -> None:
    fault = parse_fault(spec)
    assert parse_fault(fault.spec) == fault


def test_spec_meaning() -> None:
    assert parse_fault("crash:p1@1.0/2") == Fault("crash", "p1", start=1.0, after_sends=2)
    link = parse_fault("link:p1-p2@0.5..0.9")
    assert (link.node, link.peer, link.start, link.end, link.directed) == (
        "p1",
        "p2",
        0.5,
        0.9,
        False,
    )
    assert parse_fault("link:p1->p2@0.5").directed
    assert parse_fault("link:p1-p2@0.5").end == math.inf
    assert parse_fault("receive-omission:p3<-p1@0.2..0.9").peer == "p1"
    assert parse_fault("send-omission:p2@0.2..0.9").peer is None
    assert parse_fault("link:p1-p2@0.5~0.25").probability == 0.25


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("crash:p1", "expected KIND:TARGET@TIME"),
        ("crash:p1@soon", "bad time"),
        ("explode:p1@1", "unknown fault kind"),
        ("link:p1@1", "write A-B"),
        ("link:p1-p1@1", "two different nodes"),
        ("crash:p1@1..2", "one time"),
        ("crash:p1@1/2x", "bad cut"),
        ("crash:p1@r1/p1", "to itself"),
        ("link:p1-p2@r1..0.5", "rounds at both ends"),
        ("crash:p1@r1.5", "bad round"),
        ("send-omission:p1->p1@1", "to itself"),
        ("link:p1-p2@0.9..0.5", "ends before"),
        ("link:p1-p2@0.5~1.5", "probability"),
        ("crash:p1@-1", ">= 0"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        parse_fault(spec)


def test_plan_validation_names_the_known_nodes() -> None:
    plan = FaultPlan.parse(["crash:p4@1"])
    with pytest.raises(FaultSpecError, match=r"servers p1\.\.p3, clients c1\.\.c2"):
        plan.validate(["p1", "p2", "p3", "c1", "c2"])


def test_admissibility_per_model() -> None:
    crash_two = FaultPlan.parse(["crash:p1@1", "crash:p2@2"])
    assert admissibility_problems(crash_two, FailureModel.CRASH, 2) == []
    assert "more than f = 1" in admissibility_problems(crash_two, FailureModel.CRASH, 1)[0]
    link = FaultPlan.parse(["link:p1-p2@1", "crash:p3@2"])
    assert admissibility_problems(link, FailureModel.CRASH_LINK, 2) == []
    assert admissibility_problems(link, FailureModel.CRASH_LINK, 1)
    assert any("outside" in p for p in admissibility_problems(link, FailureModel.CRASH, 2))
    same_server = FaultPlan.parse(["send-omission:p2->p1@1..2", "send-omission:p2->p3@3..4"])
    assert admissibility_problems(same_server, FailureModel.SEND_OMISSION, 1) == []
    assert admissibility_problems(same_server, FailureModel.RECEIVE_OMISSION, 1)
    general = FaultPlan.parse(["general-omission:p1@1..2", "receive-omission:p2@1"])
    assert admissibility_problems(general, FailureModel.GENERAL_OMISSION, 2) == []
    client = FaultPlan.parse(["send-omission:c1->p2@0"])
    assert any(
        "correct clients" in p
        for p in admissibility_problems(client, FailureModel.GENERAL_OMISSION, 1)
    )
    towards_a_client = FaultPlan.parse(["send-omission:p1->c1@0", "receive-omission:p1<-c2@0"])
    assert admissibility_problems(towards_a_client, FailureModel.GENERAL_OMISSION, 1) == []


@pytest.mark.parametrize("model", list(FailureModel))
def test_random_plans_are_admissible_and_deterministic(model: FailureModel) -> None:
    servers = server_ids(5)
    for seed in range(50):
        plan = random_plan(model, 2, servers, 1.0, random.Random(seed))
        assert admissibility_problems(plan, model, 2) == [], plan.specs
        assert FaultPlan.parse(plan.specs) == plan
        again = random_plan(model, 2, servers, 1.0, random.Random(seed))
        assert again == plan


def test_a_restart_is_a_point_in_time_and_outside_every_model() -> None:
    fault = parse_fault("restart:p1@2.0")
    assert (fault.kind, fault.node, fault.start) == ("restart", "p1", 2.0)
    assert parse_fault(fault.spec) == fault
    for bad in ("restart:p1@1.0..2.0", "restart:p1@1.0~0.5", "restart:p1-p2@1.0"):
        with pytest.raises(FaultSpecError):
            parse_fault(bad)
    plan = FaultPlan.parse(["crash:p1@1.0", "restart:p1@2.0"])
    assert plan.faulty_servers() == ["p1"]
    problems = admissibility_problems(plan, FailureModel.GENERAL_OMISSION, 1)
    assert problems == ["restart:p1@2.0: in seed 001's models a crashed server stays down"]
