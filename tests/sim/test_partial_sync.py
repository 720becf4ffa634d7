"""The ``partial-sync`` timing model, on a real protocol and a real run.

The model's promise (Dwork, Lynch and Stockmeyer's partial synchrony with a GST, as
``PartialSyncNetwork`` implements it): a message sent at time t arrives at some time in
``[t + δmin, min(t + cap, max(t, GST) + δ)]`` — before GST the adversary (seeded) delays
and reorders messages by up to the cap, and whatever was sent before GST has arrived by
GST + δ; from GST on every message takes between δmin and δ. Clocks stay synchronized.

The protocol is a rotating-coordinator Paxos (``kernel_protocols.RotatingPaxos``): safe
under any timing, live after GST. Its claims — n = 2f + 1, every correct process decided
by GST + δ + round + 4δ — are judged by ``smrkit.check.claims``, which must also be able
to say "bad".
"""

from __future__ import annotations

import random

import pytest
from kernel_protocols import rotating

from smrkit.check.claims import judge_claims
from smrkit.protocols import PartialSyncClaims
from smrkit.sim import trace as tr
from smrkit.sim.choosers import EarliestFirst, RandomOrder
from smrkit.sim.faults import FaultPlan
from smrkit.sim.network import AsyncNetwork, PartialSyncNetwork
from smrkit.sim.simulator import Simulator

DELTA, DELTA_MIN, ROUND, CAP, GST = 0.01, 0.001, 0.05, 1.0, 1.0
LIVE_WITHIN = DELTA + ROUND + 4 * DELTA
CLAIMS = PartialSyncClaims(replicas_min=3, live_within_s=LIVE_WITHIN)
SEEDS = range(20)


def _run(seed: int, *, gst: float = GST, values: tuple[int, ...] = (3, 1, 2)) -> Simulator:
    network = PartialSyncNetwork(DELTA, DELTA_MIN, gst, CAP, random.Random(f"{seed}/net"))
    sim = Simulator(
        rotating(values, ROUND),
        seed=seed,
        network=network,
        plan=FaultPlan(),
        header={"servers": [f"p{i + 1}" for i in range(len(values))], "clients": []},
        time_limit_s=gst + 5.0,
        chooser=EarliestFirst(),
    )
    sim.run()
    return sim


@pytest.mark.parametrize("seed", SEEDS)
def test_rotating_paxos_decides_after_gst_and_in_time_in_every_seed(seed: int) -> None:
    sim = _run(seed)
    decided = [(r.t, r.node, r.data) for r in sim.trace.events if r.kind == tr.DECIDED]
    assert sorted(node for _, node, _ in decided) == ["p1", "p2", "p3"]
    assert all(GST < t <= GST + LIVE_WITHIN for t, _, _ in decided), decided
    assert len({value for _, _, value in decided}) == 1
    verdicts = judge_claims(sim.trace, CLAIMS, replicas=3, gst_s=GST)
    assert {name: v.ok for name, v in verdicts.items()} == {
        "replicas": True,
        "agreement": True,
        "live_after_gst": True,
    }


def test_every_message_keeps_the_models_promise() -> None:
    """Sends and deliveries of real runs: before GST delays reach far beyond δ and
    messages overtake one another on a link, yet each arrives by min(t + cap, GST + δ);
    after GST each takes [δmin, δ]."""
    longest_before = 0.0
    overtaken = 0
    for seed in range(5):
        events = _run(seed).trace.events
        sent = {r.num: (r.t, r.node, r.other) for r in events if r.kind == tr.SEND}
        last_sent_on_link: dict[tuple[str, str], float] = {}
        for record in events:
            if record.kind != tr.DELIVER:
                continue
            t, src, dst = sent[record.num]
            delay = record.t - t
            assert delay >= DELTA_MIN - 1e-12
            assert record.t <= min(t + CAP, max(t, GST) + DELTA) + 1e-12
            if t >= GST:
                assert delay <= DELTA + 1e-12
            else:
                longest_before = max(longest_before, delay)
            if t < last_sent_on_link.get((src, dst), -1.0):
                overtaken += 1
            last_sent_on_link[(src, dst)] = max(t, last_sent_on_link.get((src, dst), -1.0))
    assert longest_before > 10 * DELTA
    assert overtaken > 0


def test_without_gst_in_the_run_the_claim_says_not_live() -> None:
    """GST after the end of the run: the adversary never stops delaying, nobody decides
    in time — the verdict must say so (and agreement still holds)."""
    sim = _run(0, gst=100.0)
    verdicts = judge_claims(sim.trace, CLAIMS, replicas=3, gst_s=1.0)
    assert verdicts["agreement"].ok
    assert not verdicts["live_after_gst"].ok
    assert "not every correct process decided" in verdicts["live_after_gst"].summary


def test_too_few_replicas_for_the_claim_is_said() -> None:
    sim = _run(1, values=(1, 2))
    verdicts = judge_claims(sim.trace, CLAIMS, replicas=2, gst_s=GST)
    assert not verdicts["replicas"].ok and "needs n ≥ 3" in verdicts["replicas"].summary


@pytest.mark.parametrize("seed", range(30))
def test_rotating_paxos_is_safe_in_asynchrony(seed: int) -> None:
    """No clock, any order of deliveries and round time-outs: never two decisions."""
    sim = Simulator(
        rotating((3, 1, 2, 5, 4), ROUND),
        seed=seed,
        network=AsyncNetwork(),
        plan=FaultPlan(),
        header={"servers": [], "clients": []},
        time_limit_s=3000,
        chooser=RandomOrder(seed),
    )
    sim.run()
    values = {r.data for r in sim.trace.events if r.kind == tr.DECIDED}
    assert len(values) == 1  # each of these seeds decides, and on one value


def test_a_disagreement_is_caught() -> None:
    """The agreement verdict goes red on a trace where two processes decided apart."""
    sim = _run(2)
    events = list(sim.trace.events)
    index = next(i for i, r in enumerate(events) if r.kind == tr.DECIDED)
    events[index] = events[index]._replace(data=99)
    forged = tr.Trace(sim.trace.header, events)
    verdict = judge_claims(forged, CLAIMS, replicas=3, gst_s=GST)["agreement"]
    assert not verdict.ok and "99 by" in verdict.summary
