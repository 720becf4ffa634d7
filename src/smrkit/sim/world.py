"""Assemble a simulated world from a configuration, and run it.

:class:`SimConfig` is everything a run depends on; :func:`run_simulation` is a pure
function of it (the seed included). The trace header stores the configuration, so a
trace file is enough to replay its run.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smrkit import __version__
from smrkit.core.ids import client_ids, server_ids
from smrkit.core.node import Node
from smrkit.protocols.client import StandardClient
from smrkit.protocols.registry import (
    MESSAGE_BYTES_MAX_DEFAULT,
    ProtocolConfig,
    ProtocolSpec,
    Targets,
    get_protocol,
)
from smrkit.sim.faults import FaultPlan, FaultSpecError, admissibility_problems
from smrkit.sim.network import SynchronousNetwork
from smrkit.sim.simulator import Simulator
from smrkit.sim.trace import Trace
from smrkit.sim.workload import Workload, WorkloadError


class ConfigError(ValueError):
    """A configuration that cannot run; the message says what to change."""


@dataclass(frozen=True)
class SimConfig:
    """One simulated run. Times are virtual seconds."""

    protocol: str = "pb-crash"
    replicas: int | None = None
    clients: int = 4
    ops: int = 2000
    app: str = "kv"
    keys: int = 5
    mix: tuple[tuple[str, float], ...] | None = None
    delta_s: float = 0.01
    delta_min_s: float | None = None
    tau_s: float = 0.05
    faults: tuple[str, ...] = ()
    seed: int = 0
    client_timeout_s: float | None = None
    think_s: float = 0.0
    time_limit_s: float = 3600.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["faults"] = list(self.faults)
        data["mix"] = None if self.mix is None else dict(self.mix)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimConfig:
        values = dict(data)
        values["faults"] = tuple(values.get("faults", ()))
        mix = values.get("mix")
        values["mix"] = None if mix is None else tuple(sorted(dict(mix).items()))
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown configuration fields {unknown}")
        return cls(**values)


@dataclass
class SimRun:
    """A finished run: its configuration, the world's parameters, the trace, the nodes."""

    config: SimConfig
    protocol: ProtocolSpec
    n: int
    f: int
    delta_min_s: float
    client_timeout_s: float
    plan: FaultPlan
    admissibility: list[str]
    trace: Trace
    nodes: dict[str, Node]
    steps: int
    wall_s: float
    targets: Targets = field(default_factory=Targets)


def _check(config: SimConfig) -> tuple[ProtocolSpec, int]:
    try:
        spec = get_protocol(config.protocol)
    except KeyError as error:
        raise ConfigError(str(error.args[0])) from None
    n = spec.replicas_default if config.replicas is None else config.replicas
    problem = spec.replicas_problem(n)
    if problem is not None:
        raise ConfigError(f"{problem} (got --replicas {n})")
    if config.delta_s <= 0 or config.tau_s <= 0:
        raise ConfigError("delta and tau must be positive")
    if config.delta_min_s is not None and not 0 <= config.delta_min_s <= config.delta_s:
        raise ConfigError(f"delta-min must lie in [0, delta = {config.delta_s}]")
    if config.clients < 0 or config.ops < 0:
        raise ConfigError("clients and ops must be >= 0")
    if config.time_limit_s <= 0:
        raise ConfigError("the time limit must be positive")
    return spec, n


def build_simulator(
    config: SimConfig,
    extra_nodes: Sequence[Node] = (),
    *,
    message_bytes_max: int = MESSAGE_BYTES_MAX_DEFAULT,
) -> tuple[Simulator, SimRun]:
    """The simulator for ``config`` and the (not yet run) description of its run.

    ``extra_nodes`` join the run beside the servers and clients — an adversary, a probe,
    a stranger sending garbage — and ``message_bytes_max`` is the protocols' largest
    message; neither is part of the configuration, so a run that changes them replays
    only from code, not from its trace header."""
    spec, n = _check(config)
    f = spec.tolerated(n)
    servers = server_ids(n)
    clients = client_ids(config.clients)
    try:
        plan = FaultPlan.parse(config.faults)
        plan.validate([*servers, *clients])
    except FaultSpecError as error:
        raise ConfigError(str(error)) from None
    delta_min = config.delta_s / 10 if config.delta_min_s is None else config.delta_min_s
    timeout = config.client_timeout_s or spec.client_timeout_s(config.delta_s, config.tau_s)
    try:
        workload = Workload(
            config.app,
            config.ops,
            keys=config.keys,
            mix=None if config.mix is None else dict(config.mix),
        )
    except WorkloadError as error:
        raise ConfigError(str(error)) from None
    protocol_config = ProtocolConfig(
        servers, clients, config.app, config.delta_s, config.tau_s, message_bytes_max
    )
    nodes: list[Node] = list(spec.build(protocol_config))
    nodes.extend(
        StandardClient(client, servers, workload, timeout_s=timeout, think_s=config.think_s)
        for client in clients
    )
    nodes.extend(extra_nodes)
    network = SynchronousNetwork(config.delta_s, delta_min, random.Random(f"{config.seed}/net"))
    header = {
        "smrkit": __version__,
        "config": config.to_json(),
        "protocol": spec.name,
        "failure_model": spec.failure_model.value,
        "servers": list(servers),
        "clients": list(clients),
        "f": f,
        "delta_s": config.delta_s,
        "delta_min_s": delta_min,
        "tau_s": config.tau_s,
        "faults": list(plan.specs),
    }
    # After the last fault, leave time for a failover (at most f·δ + τ here), for the
    # clients to hear of it and retry, twice over: the run shows what the faults did.
    settle = 2 * (config.tau_s + (n + 2) * config.delta_s) + timeout
    if any(fault.kind == "restart" for fault in plan.faults) and not spec.restartable:
        raise ConfigError(
            f"{spec.name} is crash-stop: a crashed replica does not restart; "
            "use a restartable protocol (an omission one)"
        )
    for fault in plan.faults:
        if fault.kind == "restart" and fault.node not in servers:
            raise ConfigError(f"{fault.spec}: only servers restart")

    def rebuild(node_id: str) -> Node:
        return next(node for node in spec.build(protocol_config) if node.id == node_id)

    simulator = Simulator(
        nodes,
        rebuild=rebuild,
        seed=config.seed,
        network=network,
        plan=plan,
        header=header,
        time_limit_s=config.time_limit_s,
        settle_until_s=plan.last_change() + settle,
        drain_s=2 * config.delta_s,
        stop_when_clients_done=True,
    )
    run = SimRun(
        config=config,
        protocol=spec,
        n=n,
        f=f,
        delta_min_s=delta_min,
        client_timeout_s=timeout,
        plan=plan,
        admissibility=admissibility_problems(plan, spec.failure_model, f),
        trace=simulator.trace,
        nodes={node.id: node for node in nodes},
        steps=0,
        wall_s=0.0,
        targets=spec.targets(f, config.delta_s, config.tau_s),
    )
    return simulator, run


def run_simulation(
    config: SimConfig,
    extra_nodes: Sequence[Node] = (),
    *,
    message_bytes_max: int = MESSAGE_BYTES_MAX_DEFAULT,
) -> SimRun:
    """Build and run the world of ``config``."""
    simulator, run = build_simulator(config, extra_nodes, message_bytes_max=message_bytes_max)
    started = time.perf_counter()
    simulator.run()
    run.wall_s = time.perf_counter() - started
    run.steps = simulator.steps
    return run
