"""Assemble a simulated run from a configuration, and run it.

:class:`SimConfig` is everything a run depends on; :func:`run_simulation` is a pure
function of it (the seed included). The trace header stores the configuration, so a
trace file is enough to replay its run. ``timing`` picks the timing model — a network
(:mod:`smrkit.sim.network`) and a chooser (:mod:`smrkit.sim.choosers`):

* ``synchronous`` — seed 001's model: delays in [δ_min, δ], FIFO links;
* ``partial-sync`` — before ``gst_s`` delays up to ``delay_cap_s`` and reordering, and
  every message sent at t arrives by max(t, GST) + δ;
* ``lock-step`` — rounds of δ (round r starts at r·δ; fault times may count rounds:
  ``crash:p2@r3/p1,p4``);
* ``async`` — no clock; the adversary picks any in-flight message or pending timer next:
  ``schedule`` ``random`` (seeded), ``oldest`` (fair), ``split`` (an adversary that
  keeps the values a consensus protocol's messages carry split, for the protocols that
  say which value a message carries: ``ProtocolSpec.carried_value``) or ``script``
  (the lines of ``script``, see :func:`smrkit.sim.choosers.parse_schedule`); times
  count steps.

A protocol run under a timing model it is not built for still runs, and the run says so
(:attr:`SimRun.admissibility`), as it does for a fault plan outside its failure model.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smrkit import __version__
from smrkit.core.ids import NodeId, client_ids, server_ids
from smrkit.core.node import Node
from smrkit.protocols.claims import Claims, PrimaryBackupClaims
from smrkit.protocols.client import ROTATE_AFTER, StandardClient
from smrkit.protocols.primary_backup.client_relay import RELAY_ROTATE_AFTER
from smrkit.protocols.registry import (
    MESSAGE_BYTES_MAX_DEFAULT,
    TIMINGS,
    ProtocolConfig,
    ProtocolSpec,
    get_protocol,
)
from smrkit.sim.adversary import AdversaryError
from smrkit.sim.choosers import (
    Chooser,
    EarliestFirst,
    LockStep,
    OldestFirst,
    RandomOrder,
    ScheduleError,
    Scripted,
    SplitKeeping,
    parse_schedule,
)
from smrkit.sim.faults import FaultPlan, FaultSpecError, admissibility_problems
from smrkit.sim.network import (
    AsyncNetwork,
    LockStepNetwork,
    Network,
    PartialSyncNetwork,
    SynchronousNetwork,
)
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
    timing: str = "synchronous"
    gst_s: float | None = None
    delay_cap_s: float | None = None
    schedule: str = "random"
    script: tuple[str, ...] = ()
    clients_trusted: bool = True
    """Whether the servers take a client's word (``ClientRequest.previous``) as
    evidence, as seed 001's models of correct clients allow; off, they relay instead
    (:mod:`smrkit.protocols.primary_backup.client_relay`), as the TCP runtime does."""
    inputs: tuple[int, ...] | None = None
    """The processes' inputs, p1 first, for a protocol that takes them
    (``ProtocolSpec.takes_inputs``); ``None``: 0, 1, 0, 1, … (split, so that no
    majority settles the outcome in advance)."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["faults"] = list(self.faults)
        data["mix"] = None if self.mix is None else dict(self.mix)
        data["script"] = list(self.script)
        data["inputs"] = None if self.inputs is None else list(self.inputs)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimConfig:
        values = dict(data)
        values["faults"] = tuple(values.get("faults", ()))
        values["script"] = tuple(values.get("script", ()))
        inputs = values.get("inputs")
        values["inputs"] = None if inputs is None else tuple(inputs)
        mix = values.get("mix")
        values["mix"] = None if mix is None else tuple(sorted(dict(mix).items()))
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown configuration fields {unknown}")
        return cls(**values)


@dataclass
class SimRun:
    """A finished run: its configuration, the world's parameters, the trace, the nodes
    (the world's own: a restarted server's latest incarnation).

    ``admissibility`` lists why the run is outside what its protocol is built for (its
    timing model, its failure model and f); empty when it is inside."""

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
    claims: Claims = field(default_factory=PrimaryBackupClaims)
    timing_problem: str | None = None


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
    if config.timing not in TIMINGS:
        raise ConfigError(f"unknown timing {config.timing!r}; timings: {', '.join(TIMINGS)}")
    if (config.gst_s is not None or config.delay_cap_s is not None) and (
        config.timing != "partial-sync"
    ):
        raise ConfigError("--gst and --delay-cap belong to --timing partial-sync")
    if config.timing != "async" and (config.schedule != "random" or config.script):
        raise ConfigError("--schedule belongs to --timing async")
    if config.schedule not in ("random", "oldest", "split", "script"):
        raise ConfigError(f"unknown schedule {config.schedule!r}: random, oldest, split or a file")
    if config.schedule == "split" and spec.carried_value is None:
        raise ConfigError(
            f"--schedule split reads the values a protocol's messages carry; {spec.name} "
            "does not say (ben-or does): use random or oldest"
        )
    if config.inputs is not None and not spec.takes_inputs:
        raise ConfigError(
            f"--inputs belongs to protocols that take inputs (ben-or, …); {spec.name} does not"
        )
    if config.inputs is not None and len(config.inputs) != n:
        raise ConfigError(f"{len(config.inputs)} inputs for {n} processes: give one per process")
    return spec, n


def run_inputs(config: SimConfig, n: int) -> tuple[int, ...]:
    """The inputs of a run: as configured, or 0, 1, 0, 1, … (p1 first)."""
    return config.inputs if config.inputs is not None else tuple(i % 2 for i in range(n))


def round_trip_s(config: SimConfig) -> float | None:
    """The longest a fault-free command takes under synchronous timing: the request's δ,
    the protocol's blocking target, the reply's δ. A client time-out shorter than that
    retries commands whose answer is still on its way — the omission protocols take the
    retry as evidence of an omission — and fault-free runs break Pb4. ``None`` under the
    other timings (no δ bounds a delay there)."""
    if config.timing != "synchronous":
        return None
    spec, n = _check(config)
    claims = spec.claims(spec.tolerated(n), config.delta_s, config.tau_s)
    blocking = getattr(claims, "blocking_s", None)
    return 2 * config.delta_s + (blocking or 0.0)


def _network(config: SimConfig, delta_min: float) -> Network:
    rng = random.Random(f"{config.seed}/net")
    if config.timing == "synchronous":
        return SynchronousNetwork(config.delta_s, delta_min, rng)
    if config.timing == "partial-sync":
        gst = 0.0 if config.gst_s is None else config.gst_s
        cap = 10 * config.delta_s if config.delay_cap_s is None else config.delay_cap_s
        if not (gst >= 0 and cap >= config.delta_s):
            raise ConfigError(f"need --gst >= 0 and --delay-cap >= delta ({config.delta_s})")
        return PartialSyncNetwork(config.delta_s, delta_min, gst, cap, rng)
    if config.timing == "lock-step":
        return LockStepNetwork(round_s=config.delta_s)
    return AsyncNetwork()


def _chooser(config: SimConfig, spec: ProtocolSpec) -> Chooser:
    if config.timing == "lock-step":
        return LockStep()
    if config.timing != "async":
        return EarliestFirst()
    if config.schedule == "oldest":
        return OldestFirst()
    if config.schedule == "split":
        assert spec.carried_value is not None, "checked by _check"
        return SplitKeeping(config.seed, spec.carried_value)
    if config.schedule == "script":
        try:
            return Scripted(parse_schedule(config.script))
        except ScheduleError as error:
            raise ConfigError(str(error)) from None
    return RandomOrder(config.seed)


def _server_builder(spec: ProtocolSpec, config: ProtocolConfig) -> Callable[[NodeId], Node]:
    """Builds a new incarnation of one server, as the run built it: what a restart
    (a ``restart:`` fault, a scenario's ``restart``) puts in the crashed one's place."""

    def build(node_id: NodeId) -> Node:
        for node in spec.build(config):
            if node.id == node_id:
                return node
        raise ValueError(f"{node_id} is not a server of this run: only servers restart")

    return build


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
    clients = client_ids(config.clients if spec.serves_clients else 0)
    try:
        plan = FaultPlan.parse(config.faults)
        plan.validate([*servers, *clients])
    except FaultSpecError as error:
        raise ConfigError(str(error)) from None
    in_rounds = [fault.spec for fault in plan.faults if fault.in_rounds]
    if in_rounds and config.timing != "lock-step":
        raise ConfigError(f"{in_rounds[0]} counts rounds: use it with --timing lock-step")
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
    relaying = not config.clients_trusted
    if relaying and spec.untrusted_claims is None:
        raise ConfigError(
            f"{spec.name} never takes a client's word, so untrusted clients change nothing "
            "in it; run it without --untrusted-clients (the omission protocols relay)"
        )
    protocol_config = ProtocolConfig(
        servers,
        clients,
        config.app,
        config.delta_s,
        config.tau_s,
        message_bytes_max,
        clients_trusted=config.clients_trusted,
        inputs=run_inputs(config, n) if spec.takes_inputs else (),
    )
    try:
        nodes: list[Node] = list(spec.build(protocol_config))
    except ValueError as error:
        raise ConfigError(f"{spec.name}: {error}") from None
    # Where no client's word counts, a client routes around its own faulty link: it
    # turns to another server at its first time-out (client_relay's bounds).
    rotate_after = RELAY_ROTATE_AFTER if relaying else ROTATE_AFTER
    make_client = spec.client
    nodes.extend(
        StandardClient(
            client,
            servers,
            workload,
            timeout_s=timeout,
            think_s=config.think_s,
            rotate_after=rotate_after,
        )
        if make_client is None
        else make_client(client, protocol_config, workload)
        for client in clients
    )
    nodes.extend(extra_nodes)
    network = _network(config, delta_min)
    header = {
        "smrkit": __version__,
        "config": config.to_json(),
        "protocol": spec.name,
        "timing": config.timing,
        "failure_model": spec.failure_model.value,
        "servers": list(servers),
        "clients": list(clients),
        "f": f,
        "delta_s": config.delta_s,
        "delta_min_s": delta_min,
        "tau_s": config.tau_s,
        "faults": list(plan.specs),
    }
    if spec.takes_inputs:
        header["inputs"] = list(protocol_config.inputs)
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
    try:
        simulator = Simulator(
            nodes,
            seed=config.seed,
            network=network,
            plan=plan,
            header=header,
            time_limit_s=config.time_limit_s,
            settle_until_s=plan.last_change() + settle,
            drain_s=2 * config.delta_s,
            stop_when_clients_done=spec.serves_clients,
            chooser=_chooser(config, spec),
            rebuild=_server_builder(spec, protocol_config),
            dead_horizon_s=settle,
        )
    except AdversaryError as error:
        raise ConfigError(str(error)) from None
    timing_problem = spec.timing_problem(config.timing)
    problems = [] if timing_problem is None else [timing_problem]
    problems += admissibility_problems(plan, spec.failure_model, f, recovery=spec.recovers)
    run = SimRun(
        config=config,
        protocol=spec,
        n=n,
        f=f,
        delta_min_s=delta_min,
        client_timeout_s=timeout,
        plan=plan,
        admissibility=problems,
        timing_problem=timing_problem,
        trace=simulator.trace,
        nodes=simulator.world.nodes,  # adversaries in place; a restart's new incarnation
        steps=0,
        wall_s=0.0,
        claims=spec.claims_for(
            f,
            config.delta_s,
            config.tau_s,
            clients=config.clients,
            clients_trusted=config.clients_trusted,
        ),
    )
    return simulator, run


def run_simulation(
    config: SimConfig,
    extra_nodes: Sequence[Node] = (),
    *,
    message_bytes_max: int = MESSAGE_BYTES_MAX_DEFAULT,
    progress: Callable[[int, float], None] | None = None,
) -> SimRun:
    """Build and run the world of ``config``; ``progress`` hears ``(commands answered,
    virtual time)`` now and then."""
    simulator, run = build_simulator(config, extra_nodes, message_bytes_max=message_bytes_max)
    started = time.perf_counter()
    try:
        simulator.run(progress)
    except ScheduleError as error:
        raise ConfigError(str(error)) from None
    run.wall_s = time.perf_counter() - started
    run.steps = simulator.steps
    return run
