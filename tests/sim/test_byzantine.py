"""Byzantine nodes and kernel signatures.

A forgery attempt fails, every way plain Python can make one; a relayed signature
verifies; signatures survive world copies and fingerprints deterministically and
round-trip through traces; the built-in adversaries run, deterministically, under every
timing; a user's adversary is fenced in; the Byzantine failure model counts them.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
from byzantine_protocols import Carry, Forger, SignedRelay, relay_world_nodes
from kernel_protocols import flood

from smrkit.cli.main import main
from smrkit.core import TABLE_1, ByzantineNode, FailureModel, Node, Out, Signed, lower_bounds
from smrkit.core.byzantine import AdversaryConfig
from smrkit.protocols import adversaries
from smrkit.protocols.adversaries import STRATEGY_NAMES, Garbage
from smrkit.sim import trace as tr
from smrkit.sim.adversary import AdversaryError, adversary_class, fence_problems_of_file
from smrkit.sim.choosers import LockStep, Scripted, parse_schedule
from smrkit.sim.faults import FaultPlan, FaultSpecError, admissibility_problems, parse_fault
from smrkit.sim.kernel import Act, Round, SimulationError, Start, World, enabled, step
from smrkit.sim.kernel.fingerprint import (
    fingerprint,
    node_state,
    plain_data_problems,
    world_fingerprint,
)
from smrkit.sim.kernel.seal import Seal
from smrkit.sim.network import AsyncNetwork, LockStepNetwork
from smrkit.sim.simulator import Simulator
from smrkit.sim.world import ConfigError, SimConfig, run_simulation

HERE = Path(__file__).parent


def _relay_nodes(*, forger: bool) -> list[Node]:
    """Four relays; with ``forger``, p3 is a :class:`Forger` that holds a seal another
    world minted for p1's signature of 666."""
    nodes: list[Node] = list(relay_world_nodes())
    if forger:
        elsewhere = World(relay_world_nodes(), seed=9, network=LockStepNetwork())
        smuggled = elsewhere.outs["p1"].sign(666).seal
        honest = nodes[2]
        assert isinstance(honest, SignedRelay)
        config = AdversaryConfig(tuple(n.id for n in nodes), "forger")
        nodes[2] = Forger(honest, config, smuggled)
    return nodes


def _relay_world(*, forger: bool = False, seed: int = 1) -> World:
    return World(_relay_nodes(forger=forger), seed=seed, network=LockStepNetwork())


def _run_rounds(world: World, rounds: int) -> None:
    chooser = LockStep()
    while world.round < rounds:
        choice = chooser.choose(world)
        assert choice is not None
        world.advance(choice[1])


# --- unforgeable signatures -----------------------------------------------------------


def test_no_forgery_gets_past_the_keyring() -> None:
    world = _relay_world(forger=True)
    _run_rounds(world, 3)
    forger = world.nodes["p3"]
    assert isinstance(forger, Forger)
    assert forger.attempts == [
        "constructing a seal was refused",
        "pickling a seal was refused",
        "sent 8 signatures",
    ]
    for node_id in ("p2", "p4"):
        honest = world.nodes[node_id]
        assert isinstance(honest, SignedRelay)
        assert honest.rejected == [
            "no seal",
            "pasted seal",
            "replaced value",
            "mutated copy",
            "object.__new__ seal",
            "seal from another world",
        ]
        accepted = {(label, signer, value) for label, signer, value in honest.accepted}
        assert accepted == {
            ("honest", "p1", 7),
            ("relayed", "p1", 7),
            ("its own signature", "p3", 666),  # p3 may sign as itself, and only so
            ("deep copy (a relay)", "p1", 7),
        }
        assert honest.decided and honest.decision == Signed("p1", 7, honest.decision.seal)  # type: ignore[union-attr]


def test_a_relayed_signature_is_the_original() -> None:
    world = _relay_world()
    _run_rounds(world, 3)
    got = [node.got for node in world.nodes.values() if isinstance(node, SignedRelay)]
    original = got[1][0]
    assert all(g == [original] for g in got[1:])  # relayed twice over, still equal
    assert world.keyring.verify(original) and original.seal is got[3][0].seal
    assert world.keyring.issued == 1


def test_only_the_keyring_mints_and_only_while_the_world_is_built() -> None:
    world = _relay_world()
    with pytest.raises(RuntimeError, match="keyring is closed"):
        world.keyring.signer("p1")
    with pytest.raises(TypeError, match="minted by the runtime"):
        Seal("p1", "i7;")
    with pytest.raises(TypeError, match="cannot be subclassed"):
        type("Fake", (Seal,), {})
    with pytest.raises(RuntimeError, match="cannot sign"):
        Out(random.Random(0)).sign(7)
    assert not Out(random.Random(0)).verify(world.outs["p1"].sign(7))
    signed = world.outs["p2"].sign(7)
    assert signed.signer == "p2"  # each node's out signs as that node only
    with pytest.raises(AttributeError, match="immutable"):
        signed.seal.signer = "p1"  # type: ignore[attr-defined]


def test_verification_is_a_pure_function() -> None:
    world = _relay_world()
    sign = world.outs["p1"].sign
    genuine, other = sign((1, "a")), sign((1, "b"))
    pasted = Signed("p1", (1, "b"), genuine.seal)
    before = world.keyring.issued
    verdicts = [world.keyring.verify(s) for s in (genuine, other, pasted)]
    assert verdicts == [True, True, False]
    twin = world.copy()
    for _ in range(3):
        sign(("more", 1))
    assert [world.keyring.verify(s) for s in (genuine, other, pasted)] == verdicts
    assert [twin.keyring.verify(copy.deepcopy(s)) for s in (genuine, other, pasted)] == verdicts
    assert world.keyring.issued == before + 1  # verifying mints nothing; re-signing neither
    assert sign((1, "a")) == genuine and sign((1, "a")).seal is genuine.seal


def test_signed_values_must_be_plain_data() -> None:
    world = _relay_world()
    with pytest.raises(TypeError, match="not plain data"):
        world.outs["p1"].sign(lambda: 7)


# --- copies, fingerprints, traces -------------------------------------------------------


def test_signatures_survive_copies_and_fingerprints_deterministically() -> None:
    first, second = _relay_world(forger=True), _relay_world(forger=True)
    _run_rounds(first, 2)
    _run_rounds(second, 2)
    assert world_fingerprint(first) == world_fingerprint(second)  # two builds, one value
    twin = first.copy()
    assert world_fingerprint(twin) == world_fingerprint(first)
    carried = [m.msg for m in twin.messages.values() if isinstance(m.msg, Carry)]
    originals = [m.msg for m in first.messages.values() if isinstance(m.msg, Carry)]
    verdicts = [twin.keyring.verify(c.signed) for c in carried]
    assert verdicts == [first.keyring.verify(c.signed) for c in originals]
    assert True in verdicts and False in verdicts
    step(twin, Round(3))
    step(first, Round(3))
    assert world_fingerprint(twin) == world_fingerprint(first)
    decided = [n.decision for n in twin.nodes.values() if isinstance(n, SignedRelay)]
    assert all(isinstance(d, Signed) and twin.keyring.verify(d) for d in decided if d)


def test_a_pasted_seal_fingerprints_apart_from_the_genuine_signature() -> None:
    world = _relay_world()
    sign = world.outs["p1"].sign
    genuine_7, genuine_8 = sign(7), sign(8)
    pasted_8 = Signed("p1", 8, genuine_7.seal)
    honest = world.nodes["p2"]
    assert isinstance(honest, SignedRelay)
    honest.got = [genuine_8]
    with_genuine = world_fingerprint(world)
    honest.got = [pasted_8]
    assert world_fingerprint(world) != with_genuine


def test_a_trace_round_trips_signed_values(tmp_path: Path) -> None:
    sim = Simulator(
        _relay_nodes(forger=True),
        seed=1,
        network=LockStepNetwork(),
        plan=FaultPlan(),
        header={"servers": ["p1", "p2", "p3", "p4"], "clients": []},
        time_limit_s=10,
    )
    sim.run()
    path = tmp_path / "signed.jsonl"
    sim.trace.write(path)
    lines = path.read_text().splitlines()
    assert any('"label":"pasted seal"' in line and '"sealed":false' in line for line in lines)
    assert any('"label":"honest"' in line and '"sealed":true' in line for line in lines)
    back = tr.read_trace(path)
    assert back.trace_hash() == sim.trace.trace_hash()
    decisions = [r.data for r in back.events if r.kind == tr.DECIDED]
    assert decisions == [tr.SignedRecord("p1", 7, True)] * 3


# --- Byzantine nodes in worlds ----------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_every_builtin_strategy_runs_deterministically_under_lock_step(strategy: str) -> None:
    def run() -> tuple[str, dict[str, object]]:
        nodes = flood([5, 3, 4, 6], rounds=2)
        plan = FaultPlan.parse([f"byzantine:p2={strategy}"])
        sim = Simulator(
            nodes,
            seed=4,
            network=LockStepNetwork(),
            plan=plan,
            header={"servers": [], "clients": []},
            time_limit_s=50,
        )
        sim.run()
        decided = {r.node: r.data for r in sim.trace.events if r.kind == tr.DECIDED}
        return sim.trace.trace_hash(), decided

    (first, decided), (again, _) = run(), run()
    assert first == again
    assert "p2" not in decided  # observers do not speak for a Byzantine node
    assert set(decided) == {"p1", "p3", "p4"}


@pytest.mark.parametrize("strategy", STRATEGY_NAMES)
def test_a_byzantine_node_is_plain_data_a_search_can_copy(strategy: str) -> None:
    """After a run, each built-in adversary (with the honest node it replaced inside)
    is configuration plus plain data: a copy fingerprints alike and shares the config."""
    run = run_simulation(
        SimConfig(
            protocol="pb-general-omission",
            ops=60,
            clients=2,
            faults=(f"byzantine:p2={strategy}",),
            seed=3,
            time_limit_s=5,
        )
    )
    adversary = run.nodes["p2"]
    assert isinstance(adversary, ByzantineNode) and adversary.strategy == strategy
    assert plain_data_problems(adversary, "p2") == []
    twin = copy.deepcopy(adversary)
    assert twin.config is adversary.config
    assert fingerprint(node_state(twin)) == fingerprint(node_state(adversary))


def _flood_sends(strategy: str) -> list[tr.Record]:
    sim = Simulator(
        flood([5, 3, 4, 6], rounds=2),
        seed=4,
        network=LockStepNetwork(),
        plan=FaultPlan.parse([f"byzantine:p2={strategy}"]),
        header={"servers": [], "clients": []},
        time_limit_s=50,
    )
    sim.run()
    return [r for r in sim.trace.events if r.kind == tr.SEND and r.node == "p2"]


def test_what_each_builtin_strategy_sends() -> None:
    assert _flood_sends("silent") == []
    equivocal = _flood_sends("equivocate")
    told = {(r.other, r.data.values) for r in equivocal}
    assert ("p1", frozenset({3})) in told and ("p4", frozenset({4})) in told  # 3 + 1 to p4
    garbage = _flood_sends("garbage")
    assert any(isinstance(r.data, Garbage) for r in garbage)
    replayed = _flood_sends("replay")
    assert len(replayed) > len(equivocal)  # one old message more per step
    crash_like = _flood_sends("crash-like")
    assert len(crash_like) <= len(equivocal)


class Forward(Node):
    """Sends every Carry on to the node its label names (trusting its sender)."""

    def on_message(self, src: str, msg: object, out: Out) -> None:  # type: ignore[override]
        if isinstance(msg, Carry):
            out.send(msg.label, msg)


class Misdirect(ByzantineNode):
    def on_start(self, out: Out) -> None:
        out.send("p1", Carry(out.sign(1), "p9"))


def test_a_byzantine_world_drops_sends_to_strangers_a_benign_world_raises() -> None:
    """A correct node misled into addressing a node that does not exist: no route, a
    drop. Without a Byzantine node around, such a send is a bug and stops the run."""
    config = AdversaryConfig(("p1", "p2"), "misdirect")
    world = World([Forward("p1"), Misdirect(Forward("p2"), config)], seed=1, network=AsyncNetwork())
    for event in (Start("p2"), Start("p1")):
        step(world, event)
    records = step(world, world.messages[1])
    assert [(r.kind, r.node, r.data) for r in records[-2:]] == [
        (tr.SEND, "p1", Carry(world.outs["p2"].sign(1), "p9")),
        (tr.DROP, "p9", "no such node"),
    ]

    class Honest(Node):
        def on_start(self, out: Out) -> None:
            out.send("p1", Carry(out.sign(1), "p9"))

    benign = World([Forward("p1"), Honest("p2")], seed=1, network=AsyncNetwork())
    for event in (Start("p2"), Start("p1")):
        step(benign, event)
    with pytest.raises(SimulationError, match="unknown node 'p9'"):
        step(benign, benign.messages[1])


def test_clients_count_and_drop_hints_that_name_strangers() -> None:
    run = run_simulation(
        SimConfig(ops=60, clients=2, faults=("byzantine:p2=garbage",), seed=0, time_limit_s=30)
    )
    assert sum(getattr(n, "strange_hints", 0) for n in run.nodes.values()) > 0


def test_the_byzantine_failure_model_counts_and_admits() -> None:
    plan = FaultPlan.parse(["byzantine:p3=equivocate", "crash:p3@1.0", "crash:p2@2.0"])
    assert admissibility_problems(plan, FailureModel.BYZANTINE, 2) == []
    assert admissibility_problems(plan, FailureModel.BYZANTINE, 1) == [
        "2 faulty servers, more than f = 1"
    ]
    assert admissibility_problems(plan, FailureModel.CRASH, 2) == [
        "byzantine:p3=equivocate: byzantine is outside the crash model"
    ]
    links = FaultPlan.parse(["link:p1-p2@0.5"])
    assert admissibility_problems(links, FailureModel.BYZANTINE, 1) == [
        "link:p1-p2@0.5: link is outside the byzantine model"
    ]
    assert FailureModel.BYZANTINE not in TABLE_1
    assert FailureModel.BYZANTINE.severity > FailureModel.GENERAL_OMISSION.severity
    bound = lower_bounds(FailureModel.BYZANTINE, 1, 0.01)
    omission = lower_bounds(FailureModel.GENERAL_OMISSION, 1, 0.01)
    assert (bound.replicas_min, bound.blocking_s, bound.failover_s) == (
        omission.replicas_min,
        omission.blocking_s,
        omission.failover_s,
    )
    assert not bound.known_tight


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("byzantine:p3", "write byzantine:p3=STRATEGY"),
        ("byzantine:p3=", "write byzantine:p3=STRATEGY"),
        ("byzantine:p3=Bad Name", "write byzantine:p3=STRATEGY"),
    ],
)
def test_bad_byzantine_specs_say_how_to_write_them(spec: str, says: str) -> None:
    with pytest.raises(FaultSpecError, match=says):
        parse_fault(spec)


def test_a_byzantine_spec_round_trips() -> None:
    for spec in ("byzantine:p3=equivocate", "byzantine:c1=my.module:Liar"):
        assert parse_fault(spec).spec == spec
    with pytest.raises(FaultSpecError, match="Byzantine twice"):
        FaultPlan.parse(["byzantine:p1=silent", "byzantine:p1=replay"]).validate(["p1"])


# --- free moves, for searches ---------------------------------------------------------


class Mover(ByzantineNode):
    """Offers, once per round, to tell p1 nothing, 0 or 1."""

    def __init__(self, honest: Node, config: AdversaryConfig) -> None:
        super().__init__(honest, config)
        self.acted_in = -1
        self.round = 0

    def on_round(self, r: int, inbox: tuple[tuple[str, object], ...], out: Out) -> None:  # type: ignore[override]
        self.round = r

    def moves(self) -> tuple[object, ...]:
        return () if self.acted_in == self.round else ("none", 0, 1)

    def on_move(self, move: object, out: Out) -> None:
        self.acted_in = self.round
        if move != "none":
            out.send("p1", Carry(out.sign(move)))  # type: ignore[arg-type]


def test_a_byzantine_nodes_moves_are_events_a_search_branches_over() -> None:
    nodes: list[Node] = list(relay_world_nodes(3))
    nodes[2] = Mover(nodes[2], AdversaryConfig(("p1", "p2", "p3"), "mover"))
    world = World(nodes, seed=1, network=LockStepNetwork())
    for start in list(enabled(world)):
        step(world, start)
    events = enabled(world)
    assert events == [Round(1), Act("p3", "none"), Act("p3", 0), Act("p3", 1)]
    children = []
    for event in events[1:]:
        child = world.copy()
        records = step(child, event)
        assert records[0].kind == tr.ACT
        children.append(world_fingerprint(child))
    assert len(set(children)) == 3
    assert LockStep().choose(world) == (None, Round(1))  # the simulator leaves them be
    replay = Scripted(parse_schedule(["act p3 1  # a counterexample's step, replayed"]))
    assert replay.choose(world) == (None, Act("p3", 1))


# --- the fence around user adversaries ------------------------------------------------


def test_the_builtin_strategies_stay_inside_the_fence() -> None:
    assert fence_problems_of_file(Path(adversaries.__file__)) == []


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("import gc\n", "imports gc"),
        ("from smrkit.sim.kernel import seal\n", "imports smrkit.sim.kernel"),
        ("from smrkit.core.signatures import _x\n", "private name"),
        ("def f(out):\n    return out.verifier.__self__\n", "touches __self__"),
        ("def f(out):\n    return getattr(out, 'signer')\n", "uses getattr"),
        ("def f(out):\n    return out._x\n", "private _x"),
        ("def f(s):\n    return object.__new__(type(s))\n", "touches __new__"),
        ("import smrkit.core\n", "imports smrkit.core"),
        ("from smrkit import sim\n", "imports the runtime"),
        ("import dataclasses\nm = dataclasses.sys.modules\n", "reaches for .modules"),
    ],
)
def test_a_user_strategy_that_leaves_the_node_interface_is_refused(
    source: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "sneaky_strategy.py"
    module.write_text(
        "from smrkit.core import ByzantineNode\n" + source + "\nclass S(ByzantineNode):\n    pass\n"
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AdversaryError, match=says):
        adversary_class("sneaky_strategy:S")


def test_a_user_strategy_runs_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "liar.py").write_text(
        "from smrkit.core import ByzantineNode, ClientReply\n"
        "import dataclasses\n\n\n"
        "class Liar(ByzantineNode):\n"
        '    """Answers every client with 42."""\n\n'
        "    def tamper(self, out):\n"
        "        out.sends[:] = [\n"
        "            (d, dataclasses.replace(m, result=42) if isinstance(m, ClientReply) else m)\n"
        "            for d, m in out.sends\n"
        "        ]\n"
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["sim", "--ops", "60", "--clients", "2", "--fault", "byzantine:p1=liar:Liar", "--json"]
        )
    out = capsys.readouterr().out
    assert exit_info.value.code == 1  # pb-crash does not tolerate a lying primary
    summary = json.loads(out)
    assert summary["faults"] == ["byzantine:p1=liar:Liar"]
    assert not summary["checks"]["linearizable"]["ok"]
    assert "byzantine is outside the crash model" in summary["admissibility"][0]


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("byzantine:p2=sulky", "unknown Byzantine strategy 'sulky'"),
        ("byzantine:p2=no_such_mod:X", "no module named 'no_such_mod'"),
        ("byzantine:p9=silent", "names 'p9', which is not in this run"),
    ],
)
def test_a_bad_strategy_is_one_line_and_exit_2(
    fault: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sim", "--ops", "10", "--fault", fault])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_config_errors_name_the_strategy() -> None:
    with pytest.raises(ConfigError, match="unknown Byzantine strategy"):
        run_simulation(SimConfig(ops=10, faults=("byzantine:p2=sulky",)))


def test_a_restarted_byzantine_node_is_its_adversary_again() -> None:
    from smrkit.sim.faults import Fault
    from smrkit.sim.kernel import Crash

    nodes = flood([5, 3, 4], rounds=2)
    plan = FaultPlan.parse(["byzantine:p2=silent"])
    world = World(nodes, seed=1, network=LockStepNetwork(), plan=plan)
    step(world, Crash(Fault("crash", "p2")))
    world.restart(flood([5, 3, 4], rounds=2)[1])
    restarted = world.nodes["p2"]
    assert isinstance(restarted, adversaries.Silent) and "p2" in world.unstarted
    assert world.outs["p2"].sign(1).signer == "p2"  # its own key, as before
