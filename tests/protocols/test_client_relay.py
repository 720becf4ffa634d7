"""Untrusted clients in the quorum engine (issue 8 §3, follow-up): a backup relays the
requests of a client the primary leaves unanswered, and no client's word halts anyone.

Each test runs the same plan with clients trusted (seed 001's model, the paper's
algorithm: the faulty primary halts on the client's word) and untrusted (relayed)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from smrkit.check.evaluate import evaluate_run
from smrkit.core import Node, Out, Timer
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint, RelayedRequest
from smrkit.core.ops import Op
from smrkit.protocols.primary_backup.client_relay import ClientRelay
from smrkit.protocols.primary_backup.quorum import QuorumReplica, Update
from smrkit.protocols.registry import ProtocolConfig
from smrkit.sim import trace as tr
from smrkit.sim.world import SimConfig, SimRun, run_simulation

SERVERS = ("p1", "p2", "p3")


def _halts(run: SimRun) -> list[tuple[str, str]]:
    return [(e[2], e[5]) for e in run.trace.events if e[1] == tr.HALT]


def _primaries(run: SimRun) -> list[tuple[str, bool]]:
    return [(e[2], e[5]) for e in run.trace.events if e[1] == tr.PRIMARY]


def _relayed(run: SimRun) -> dict[str, tuple[int, int]]:
    counts = {}
    for server in SERVERS:
        node = run.nodes[server]
        assert isinstance(node, QuorumReplica) and isinstance(node.client_relay, ClientRelay)
        counts[server] = (node.client_relay.requests, node.client_relay.replies)
    return counts


def _answered_after(run: SimRun, client: str, t: float) -> int:
    """Replies that reached ``client`` after ``t``."""
    return sum(
        1
        for e in run.trace.events
        if e[1] == tr.DELIVER and e[2] == client and isinstance(e[5], ClientReply) and e[0] > t
    )


@pytest.mark.parametrize(
    ("protocol", "faults"),
    [
        ("pb-send-omission", ("send-omission:p1->c1@0.3",)),
        ("pb-receive-omission", ("receive-omission:p1<-c1@0.3",)),
        ("pb-general-omission", ("send-omission:p1->c1@0.3~0.5",)),
        ("pb-general-omission", ("send-omission:p1->c1@0.3", "receive-omission:p1<-c1@0.3")),
    ],
)
def test_a_primary_omitting_to_one_client_serves_it_by_relay(
    protocol: str, faults: tuple[str, ...]
) -> None:
    trusted = SimConfig(protocol=protocol, replicas=3, clients=3, ops=300, faults=faults)
    run = run_simulation(trusted)
    assert evaluate_run(run).ok
    assert [node for node, _ in _halts(run)] == ["p1"]  # the client's word

    run = run_simulation(replace(trusted, clients_trusted=False))
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    assert _halts(run) == [] and _primaries(run) == [("p1", True)]
    relayed = _relayed(run)
    assert relayed["p1"] == (0, 0)
    assert relayed["p2"][0] > 10 and relayed["p2"][1] == relayed["p2"][0]
    assert _answered_after(run, "c1", 0.3 + 2 * run.client_timeout_s) > 10
    assert evaluation.analysis.relayed_replies == relayed["p2"][1]
    # Each client pays the faulty link once, one time-out: one unanswered send.
    assert evaluation.measured()["outage_count"] == 1
    assert evaluation.measured()["outage_s_max"] == 0.0


class Liar(Node):
    """A client that says, with fresh client ids, that the primary left it unanswered:
    to every server, every 50 ms from 0.2 s on (the primary has served longer than a
    client's time-out by then)."""

    def __init__(self, node_id: str) -> None:
        super().__init__(node_id)
        self.sent = 0
        self.replies = 0

    def on_start(self, out: Out) -> None:
        out.set_timer("lie", 0.2)

    def on_timer(self, timer: Timer, out: Out) -> None:
        for server in SERVERS:
            self.sent += 1
            request = ClientRequest(f"c{900 + self.sent}", 1, Op("get", "k0"), previous="p1")
            out.send(server, request)
        if self.sent < 60:
            out.set_timer("lie", 0.05)

    def on_message(self, src: str, msg: Message, out: Out) -> None:
        self.replies += isinstance(msg, ClientReply)


def test_a_lying_client_halts_nobody_where_clients_are_untrusted() -> None:
    trusted = SimConfig(protocol="pb-general-omission", replicas=3, clients=3, ops=400, seed=3)
    liar = Liar("c9")
    run = run_simulation(trusted, extra_nodes=[liar])
    assert _halts(run) and "I omit messages" in _halts(run)[0][1]  # trusted: the word halts

    liar = Liar("c9")
    run = run_simulation(replace(trusted, clients_trusted=False), extra_nodes=[liar])
    evaluation = evaluate_run(run)
    assert evaluation.ok, evaluation.failed
    assert _halts(run) == [] and _primaries(run) == [("p1", True)]
    assert all(run.nodes[c].done for c in ("c1", "c2", "c3"))  # the service kept serving
    relayed = _relayed(run)
    assert relayed["p2"] == relayed["p3"] == (20, 20)
    assert liar.sent == 60 and liar.replies == 60  # served, each lie one hop longer


def _node(node_id: str) -> tuple[QuorumReplica, Out]:
    config = ProtocolConfig(SERVERS, ("c1",), "kv", 0.01, 0.05, clients_trusted=False)
    node = QuorumReplica(node_id, config)
    out = Out(random.Random(0))
    node.on_start(out)
    out.sends.clear()
    return node, out


def test_a_relayed_request_is_processed_only_by_the_primary() -> None:
    """Pb3 and the path of a relayed request, node by node: the backup relays it and
    applies nothing; the primary applies it and answers the backup, which passes the
    reply on; a relayed request that reaches a backup is dropped, not processed, and a
    reply for a client the backup does not relay for goes nowhere."""
    request = ClientRequest("c1", 1, Op("put", "k", "v"), previous="p1")
    backup, out = _node("p2")
    backup.on_message("c1", request, out)
    assert out.sends == [("p1", RelayedRequest(request))] and backup.applied == []
    primary, primary_out = _node("p1")
    primary.on_message("p2", RelayedRequest(request), primary_out)
    assert [m.command for _, m in primary_out.sends if isinstance(m, Update)]
    assert [len(primary.entries), primary.waiting[1][0]] == [1, "p2"]  # the reply's path

    out.sends.clear()
    reply = ClientReply("c1", 1, None)
    backup.on_message("p1", reply, out)
    assert out.sends == [("c1", reply)]
    assert backup.client_relay is not None and backup.client_relay.replies == 1

    other, other_out = _node("p3")
    other.on_message("p2", RelayedRequest(request), other_out)
    other.on_message("p1", reply, other_out)
    assert other_out.sends == [] and other.entries == []
    assert other.anomalies == {
        "relayed request while not primary": 1,
        "reply for a client I do not relay for": 1,
    }


def test_a_request_naming_no_unanswered_server_is_hinted_not_relayed() -> None:
    """Only a client that says a server left it unanswered opens a relay session; a
    plain request to a backup gets the hint, as with trusted clients."""
    backup, out = _node("p2")
    backup.on_message("c1", ClientRequest("c1", 1, Op("get", "k")), out)
    assert out.sends == [("c1", PrimaryHint("p1", 0))]
    out.sends.clear()
    backup.on_message("c1", ClientRequest("c1", 1, Op("get", "k"), previous="p1"), out)
    backup.on_message("c1", ClientRequest("c1", 2, Op("get", "k")), out)  # its session
    assert [dst for dst, _ in out.sends] == ["p1", "p1"]


def test_without_the_relay_the_client_is_never_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the relay, untrusted mode took no client's word and relayed nothing: the
    backup hinted the primary back, and c1 looped. Pb4 says so."""
    monkeypatch.setattr(ClientRelay, "wants", lambda self, request, epoch: False)
    config = SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        clients=3,
        ops=300,
        faults=("send-omission:p1->c1@0.3",),
        clients_trusted=False,
        time_limit_s=5.0,
    )
    run = run_simulation(config)
    evaluation = evaluate_run(run)
    assert "pb4" in evaluation.failed and _halts(run) == []
    assert _answered_after(run, "c1", 0.3 + run.client_timeout_s) == 0


def test_untrusted_plans_add_an_omission_towards_a_client() -> None:
    """``smrkit sweep --untrusted-clients`` draws, besides the model's faults, an
    admissible omission of a faulty server (or of p1) towards one client."""
    from smrkit.core.failure_models import FailureModel
    from smrkit.explore.sweep import random_plans
    from smrkit.sim.faults import FaultPlan, admissibility_problems

    base = SimConfig(protocol="pb-general-omission", replicas=3, clients=3, ops=300)
    untrusted = replace(base, clients_trusted=False)
    trusted_plans, untrusted_plans = random_plans(base, 1.0), random_plans(untrusted, 1.0)
    towards = 0
    for seed in range(100):
        plan = FaultPlan.parse(untrusted_plans(seed))
        assert admissibility_problems(plan, FailureModel.GENERAL_OMISSION, 1) == []
        assert plan.specs[: len(trusted_plans(seed))] == trusted_plans(seed)
        towards += any(fault.peer in ("c1", "c2", "c3") for fault in plan.faults)
    assert towards == 100
