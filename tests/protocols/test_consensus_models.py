"""The model checker's Paxos and 2PC are smrkit protocols: they run in the simulator's
kernel under the ``async`` timing like any other nodes (sans-I/O, plain data)."""

from __future__ import annotations

from smrkit.core.node import Node
from smrkit.explore.frozen import freeze_node
from smrkit.protocols.consensus import paxos
from smrkit.protocols.consensus import two_phase_commit as tpc
from smrkit.protocols.register import RegisterClient, RegisterClientConfig
from smrkit.sim.choosers import RandomOrder
from smrkit.sim.faults import FaultPlan
from smrkit.sim.network import AsyncNetwork
from smrkit.sim.simulator import Simulator

SERVERS = ("p1", "p2", "p3")


def _run(nodes: list[Node], seed: int) -> Simulator:
    simulator = Simulator(
        nodes,
        seed=seed,
        network=AsyncNetwork(),
        plan=FaultPlan(),
        header={},
        time_limit_s=10_000,
        stop_when_clients_done=False,
        chooser=RandomOrder(seed),
        observers=[],
    )
    simulator.run()
    return simulator


def test_paxos_decides_one_value_in_random_async_runs() -> None:
    for seed in range(20):
        nodes: list[Node] = list(paxos.paxos_servers(SERVERS))
        nodes += [
            RegisterClient(c, RegisterClientConfig(3 + k, SERVERS, put_count=1))
            for k, c in enumerate(("c1", "c2"))
        ]
        world = _run(nodes, seed).world
        servers = [world.nodes[s] for s in SERVERS]
        decided = {s.accepted[1] for s in servers if s.is_decided}  # type: ignore[attr-defined]
        assert len(decided) <= 1
        for node in world.nodes.values():
            hash(freeze_node(node))  # plain data all along


def test_two_phase_commit_is_consistent_in_random_async_runs() -> None:
    outcomes = set()
    for seed in range(30):
        rms = ("p1", "p2", "p3")
        nodes: list[Node] = [tpc.ResourceManager(rm) for rm in rms]
        nodes.append(tpc.TransactionManager(rms))
        world = _run(nodes, seed).world
        states = {world.nodes[rm].state for rm in rms}  # type: ignore[attr-defined]
        assert not {tpc.RmState.COMMITTED, tpc.RmState.ABORTED} <= states
        outcomes.add(frozenset(states))
    assert len(outcomes) > 1
