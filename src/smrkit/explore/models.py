"""The models ``smrkit explore`` checks: a world of protocol nodes, how to search it, and
what must hold — with the figures Stateright pins for the models it shares.

* ``paxos`` — Stateright's ``examples/paxos.rs``: single-decree Paxos servers
  (:mod:`smrkit.protocols.consensus.paxos`) and register clients that put once and then
  get (:mod:`smrkit.protocols.register`), on an unordered, non-duplicating network, the
  clients' history kept as Stateright's ``LinearizabilityTester`` keeps it
  (:mod:`smrkit.explore.history`). Properties: ``linearizable`` (always) and ``value
  chosen`` (sometimes: a ``GetOk`` with a written value is in flight). Stateright pins
  16,668 unique states for 2 clients and 3 servers, by BFS and by DFS.
* ``2pc`` — Stateright's ``examples/2pc.rs``: two-phase commit with the resource
  managers as the servers (:mod:`smrkit.protocols.consensus.two_phase_commit`) on a
  duplicating network. Properties: ``abort agreement`` and ``commit agreement``
  (sometimes), ``consistent`` (always). Stateright pins 288 (3 RMs, BFS), 8,832 (5 RMs,
  DFS) and 665 (5 RMs, DFS, symmetry).
* ``pb-crash`` (and any registered primary-backup protocol, e.g. the broken
  ``pb-crash-replies-first`` of the tests) — seed 001's model: the protocol's servers and
  one standard client with a fixed list of operations, under the ``synchronous`` timing
  with each message's delay chosen from {δ_min, δ}, any server crashing at any step
  (between steps, or during one after k of its sends) within f, up to a horizon.
  Properties: ``Pb1`` (never two live primaries), ``log agreement`` (live servers' logs are
  prefixes of one another) and ``linearizable`` (the client's history so far).

The move order of ``paxos`` and ``2pc`` is Stateright's action order (its ``Deliver``
actions sorted by source, destination and message, its 2PC actions in the order
``actions`` lists them): a BFS then meets states in Stateright's order, so its first
discoveries are Stateright's, and a DFS under symmetry keeps the same representatives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from smrkit.check.history import History as OpHistory
from smrkit.check.history import Operation, Status
from smrkit.check.linearizability import check_linearizability
from smrkit.core.ids import NodeId, client_ids, server_ids
from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.node import Node, Replica
from smrkit.core.ops import Op
from smrkit.explore.history import RegisterHistory, linearizable
from smrkit.explore.properties import Property, View, always, sometimes
from smrkit.explore.protocol_ref import ProtocolRefError, resolve_protocol
from smrkit.explore.space import (
    ASYNC,
    DUPLICATING,
    NONDUPLICATING,
    SYNCHRONOUS,
    Move,
    Recorder,
    Space,
    SpaceConfig,
)
from smrkit.protocols.agreement import ROUND_PROTOCOLS
from smrkit.protocols.client import StandardClient
from smrkit.protocols.consensus import paxos
from smrkit.protocols.consensus import two_phase_commit as tpc
from smrkit.protocols.register import NO_VALUE, GetOk, Put, RegisterClient, RegisterClientConfig
from smrkit.protocols.register import Get as RegisterGet
from smrkit.protocols.register import PutOk as RegisterPutOk
from smrkit.protocols.registry import ProtocolConfig


class ModelError(ValueError):
    """A model that cannot be built as asked; the message says what to change."""


@dataclass(frozen=True)
class Reference:
    """A figure someone else pinned for this model."""

    source: str
    unique: int
    search: str
    symmetry: bool = False


@dataclass
class Model:
    """A world to search: fresh nodes and a space configuration, the properties, the
    servers that may be renamed (symmetry), and the parameters that rebuild it (stored
    with a counterexample's trace)."""

    name: str
    nodes: Callable[[], list[Node]]
    space: SpaceConfig
    properties: tuple[Property, ...]
    symmetric: tuple[NodeId, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    references: tuple[Reference, ...] = ()
    narrate: Callable[[Model, list[dict[str, Any]]], list[str]] | None = None
    """Tells a path (moves as JSON) in the protocol's own words, a line per move that
    changed something worth telling; ``None``: the moves speak for themselves."""

    def build_space(self) -> Space:
        return Space(self.nodes(), self.space)


# --- paxos -----------------------------------------------------------------------------


def _option(value: Any, key: Callable[[Any], Any]) -> tuple[Any, ...]:
    return (0,) if value is None else (1, key(value))


def _paxos_message_key(space: Space, msg: Message) -> tuple[Any, ...]:
    """Rust's derived ``Ord`` of ``RegisterMsg<u64, char, PaxosMsg>``: variant, then
    fields; ids compare as actor numbers."""

    def proposal(p: paxos.Proposal) -> tuple[Any, ...]:
        return (p[0], space.index[p[1]], p[2])

    def accepted(a: paxos.AcceptedProposal) -> tuple[Any, ...]:
        return (a[0], proposal(a[1]))

    match msg:
        case paxos.Prepare(ballot=b):
            return (0, 0, b)
        case paxos.Prepared(ballot=b, last_accepted=last):
            return (0, 1, b, _option(last, accepted))
        case paxos.Accept(ballot=b, proposal=p):
            return (0, 2, b, proposal(p))
        case paxos.Accepted(ballot=b):
            return (0, 3, b)
        case paxos.Decided(ballot=b, proposal=p):
            return (0, 4, b, proposal(p))
        case Put(request_id=r, value=v):
            return (1, r, v)
        case RegisterGet(request_id=r):
            return (2, r)
        case RegisterPutOk(request_id=r):
            return (3, r)
        case GetOk(request_id=r, value=v):
            return (4, r, v)
    raise TypeError(f"not a Paxos model message: {msg!r}")


def _stateright_deliver_order(
    message_key: Callable[[Space, Message], Any],
) -> Callable[[Space, Move], Any]:
    def order(space: Space, move: Move) -> Any:
        if move.kind == "deliver":
            src, dst, msg = space.envs.values[move.item]
            return (1, src, dst, message_key(space, msg), move.cut or 0)
        return (3, move.node, move.item)

    return order


def _chosen(msg: Message) -> bool:
    return isinstance(msg, GetOk) and msg.value != NO_VALUE


def _value_chosen(view: View) -> bool:
    return view.any_message(_chosen)


def paxos_model(servers: int = 3, clients: int = 2) -> Model:
    if servers < 1 or clients < 0:
        raise ModelError("paxos needs at least 1 server and 0 or more clients")
    server_names = server_ids(servers)
    client_names = client_ids(clients)

    def nodes() -> list[Node]:
        built: list[Node] = list(paxos.paxos_servers(server_names))
        for k, client in enumerate(client_names):
            config = RegisterClientConfig(servers + k, server_names, put_count=1)
            built.append(RegisterClient(client, config))
        return built

    history = RegisterHistory()
    return Model(
        name="paxos",
        nodes=nodes,
        space=SpaceConfig(
            timing=ASYNC,
            network=NONDUPLICATING,
            recorder=history,
            move_order=_stateright_deliver_order(_paxos_message_key),
        ),
        properties=(
            always("linearizable", lambda view: bool(view.aux_fact(linearizable))),
            sometimes("value chosen", _value_chosen),
        ),
        symmetric=(),
        parameters={"model": "paxos", "servers": servers, "clients": clients},
        references=(
            Reference("Stateright examples/paxos.rs (2 clients, 3 servers)", 16_668, "bfs"),
            Reference("Stateright examples/paxos.rs (2 clients, 3 servers)", 16_668, "dfs"),
        )
        if (servers, clients) == (3, 2)
        else (),
    )


# --- two-phase commit ------------------------------------------------------------------


def _tpc_order(space: Space, move: Move) -> Any:
    """Stateright's 2PC ``actions``: TmCommit, TmAbort, then for each RM: TmRcvPrepared,
    RmPrepare, RmChooseToAbort, RmRcvCommitMsg, RmRcvAbortMsg."""
    if move.kind == "fire":
        node, timer = space.timer_ids.values[move.item]
        if space.ids[node] == tpc.TM:
            return (0,) if timer == tpc.COMMIT else (1,)
        return (2, node, 1 if timer == tpc.PREPARE else 2)
    if move.kind == "deliver":
        src, dst, msg = space.envs.values[move.item]
        if isinstance(msg, tpc.Prepared):
            return (2, src, 0)
        return (2, dst, 3 if isinstance(msg, tpc.Commit) else 4)
    return (9, move.node)


def _rm_state(node: Node) -> tpc.RmState:
    assert isinstance(node, tpc.ResourceManager)
    return node.state


def _rm_states(view: View, rms: tuple[NodeId, ...]) -> list[tpc.RmState]:
    return [view.node_fact(rm, _rm_state) for rm in rms]


def tpc_model(servers: int = 3) -> Model:
    if servers < 1:
        raise ModelError("2pc needs at least 1 resource manager (--servers)")
    rms = server_ids(servers)

    def nodes() -> list[Node]:
        built: list[Node] = [tpc.ResourceManager(rm) for rm in rms]
        built.append(tpc.TransactionManager(rms))
        return built

    def all_in(state: tpc.RmState) -> Callable[[View], bool]:
        return lambda view: all(s == state for s in _rm_states(view, rms))

    def consistent(view: View) -> bool:
        states = _rm_states(view, rms)
        return not (tpc.RmState.ABORTED in states and tpc.RmState.COMMITTED in states)

    references = {
        3: (Reference("Stateright examples/2pc.rs (3 RMs)", 288, "bfs"),),
        5: (
            Reference("Stateright examples/2pc.rs (5 RMs)", 8_832, "dfs"),
            Reference("Stateright examples/2pc.rs (5 RMs, symmetry)", 665, "dfs", True),
        ),
    }
    return Model(
        name="2pc",
        nodes=nodes,
        space=SpaceConfig(timing=ASYNC, network=DUPLICATING, move_order=_tpc_order),
        properties=(
            sometimes("abort agreement", all_in(tpc.RmState.ABORTED)),
            sometimes("commit agreement", all_in(tpc.RmState.COMMITTED)),
            always("consistent", consistent),
        ),
        symmetric=rms,
        parameters={"model": "2pc", "servers": servers},
        references=references.get(servers, ()),
    )


# --- primary-backup under the synchronous timing ---------------------------------------


class ScriptedOps:
    """The client's operations, in order (an ``OpSource`` that draws nothing)."""

    def __init__(self, ops: tuple[Op, ...]) -> None:
        self.ops = ops
        self.issued = 0

    def next_op(self, client: NodeId, rng: Any) -> Op | None:
        if self.issued >= len(self.ops):
            return None
        self.issued += 1
        return self.ops[self.issued - 1]


class ClientHistory(Recorder):
    """The standard clients' history: an op is invoked when its first request leaves
    the client and completes when the first matching reply reaches it. The value is
    ``(client, seq, op, invoked-at-step-order, result-or-None)`` entries; order is kept as
    the position of each invocation and completion among the history's events."""

    def initial(self) -> tuple[Any, ...]:
        return ()

    def sent(self, aux: Any, src: NodeId, dst: NodeId, msg: Message) -> Any:
        if isinstance(msg, ClientRequest) and not any(
            e[0] == "invoke" and e[1] == msg.client and e[2] == msg.seq for e in aux
        ):
            return (*aux, ("invoke", msg.client, msg.seq, msg.op))
        return aux

    def received(self, aux: Any, src: NodeId, dst: NodeId, msg: Message) -> Any:
        if (
            isinstance(msg, ClientReply)
            and msg.client == dst
            and not any(e[0] == "complete" and e[1] == msg.client and e[2] == msg.seq for e in aux)
        ):
            return (*aux, ("complete", msg.client, msg.seq, msg.result, msg.error))
        return aux


@lru_cache(maxsize=65536)
def history_linearizable(events: tuple[Any, ...], app: str) -> bool:
    """Whether the history recorded by :class:`ClientHistory` is linearizable, by
    smrkit's checker (an event's position in the history is its time)."""
    invoked: dict[tuple[NodeId, int], tuple[int, Op]] = {}
    completed: dict[tuple[NodeId, int], tuple[int, Any, Any]] = {}
    for t, event in enumerate(events):
        if event[0] == "invoke":
            invoked[(event[1], event[2])] = (t, event[3])
        else:
            completed[(event[1], event[2])] = (t, event[3], event[4])
    ops: list[Operation] = []
    for number, ((client, seq), (start, op)) in enumerate(invoked.items()):
        end = completed.get((client, seq))
        if end is None:
            status, output, ret = Status.INFO, None, math.inf
        else:
            status = Status.FAIL if end[2] is not None else Status.OK
            output, ret = end[1], float(end[0])
        ops.append(
            Operation(number, client, op.f, op.key, op.value, output, status, float(start), ret)
        )
    return check_linearizability(OpHistory(ops, model=app)).verdict == "linearizable"


def _kv_linearizable(events: tuple[Any, ...]) -> bool:
    return history_linearizable(events, "kv")


def _is_primary(node: Node) -> bool:
    return isinstance(node, Replica) and node.is_primary


def _log(node: Node) -> tuple[Any, ...]:
    return tuple(node.applied) if isinstance(node, Replica) else ()


def pb_model(
    protocol: str = "pb-crash",
    servers: int = 2,
    ops: tuple[Op, ...] = (Op("put", "x", 1), Op("get", "x")),
    delta_s: float = 0.01,
    delta_min_s: float = 0.001,
    tau_s: float = 0.05,
    horizon_s: float | None = None,
    crashes: int | None = None,
) -> Model:
    try:
        spec = resolve_protocol(protocol).spec
    except ProtocolRefError as error:
        raise ModelError(str(error)) from None
    if not spec.serves_clients:
        raise ModelError(
            f"{protocol} serves no clients, so it has no primary-backup model; the "
            "agreement models are consensus-naive, floodset, floodset-early, trb, "
            "dolev-strong and eig"
        )
    problem = spec.replicas_problem(servers)
    if problem is not None:
        raise ModelError(problem)
    server_names = server_ids(servers)
    client = client_ids(1)
    f = spec.tolerated(servers)
    budget = f if crashes is None else crashes
    timeout = spec.client_timeout_s(delta_s, tau_s)
    horizon = (
        horizon_s if horizon_s is not None else round(2 * tau_s + 4 * delta_s + 2 * timeout, 9)
    )

    def nodes() -> list[Node]:
        config = ProtocolConfig(server_names, client, "kv", delta_s, tau_s)
        built: list[Node] = list(spec.build(config))
        built.append(StandardClient(client[0], server_names, ScriptedOps(ops), timeout_s=timeout))
        return built

    def pb1(view: View) -> bool:
        live = [s for s in server_names if not view.is_down(s)]
        return sum(1 for s in live if view.node_fact(s, _is_primary)) <= 1

    def log_agreement(view: View) -> bool:
        live = [s for s in server_names if not view.is_down(s)]
        logs = [view.node_fact(s, _log) for s in live]
        return all(a[: min(len(a), len(b))] == b[: min(len(a), len(b))] for a in logs for b in logs)

    return Model(
        name=protocol,
        nodes=nodes,
        space=SpaceConfig(
            timing=SYNCHRONOUS,
            crash_budget=budget,
            crashable=server_names,
            mid_step_crashes=True,
            delays=(delta_min_s, delta_s),
            horizon_s=horizon,
            recorder=ClientHistory(),
        ),
        properties=(
            always("Pb1", pb1),
            always("log agreement", log_agreement),
            always("linearizable", lambda view: bool(view.aux_fact(_kv_linearizable))),
        ),
        parameters={
            "model": protocol,
            "servers": servers,
            "ops": [[op.f, op.key, op.value] for op in ops],
            "delta_s": delta_s,
            "delta_min_s": delta_min_s,
            "tau_s": tau_s,
            "horizon_s": horizon,
            "crashes": budget,
        },
    )


MODELS = ("paxos", "2pc", "pb-crash")


def model_from_parameters(parameters: dict[str, Any]) -> Model:
    """The model a trace's header describes (:attr:`Model.parameters`)."""
    values = dict(parameters)
    name = values.pop("model", None)
    try:
        if name == "paxos":
            return paxos_model(int(values["servers"]), int(values["clients"]))
        if name == "2pc":
            return tpc_model(int(values["servers"]))
        if name in ("raft", "raft-unsafe-commit"):
            from smrkit.explore.raft_model import raft_model

            return raft_model(str(name), **values)
        if name in ROUND_PROTOCOLS:
            from smrkit.explore.crash_models import crash_model

            n, f, rounds = int(values["servers"]), int(values["f"]), int(values["rounds"])
            return crash_model(name, n, f, rounds)
        if name in ("dolev-strong", "eig"):
            from smrkit.explore.byzantine_models import byzantine_model

            n, f = int(values["servers"]), int(values["f"])
            return byzantine_model(name, n, f, values["byzantine"], values.get("inputs"))
        if name == "flp":
            from smrkit.explore.flp.configuration import flp_model
            from smrkit.explore.flp.protocols import FlpProtocolError, resolve_binary

            try:
                protocol = resolve_binary(str(values["protocol"]))
                byzantine = values.get("byzantine")
                return flp_model(protocol, values["inputs"], values["adversary"], byzantine)
            except FlpProtocolError as error:
                raise ModelError(str(error)) from None
        if isinstance(name, str):
            ops = tuple(Op(f, key, value) for f, key, value in values.pop("ops"))
            return pb_model(name, ops=ops, **values)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelError(f"the model's parameters do not build it: {error}") from None
    raise ModelError(f"no model named {name!r}")


def build_model(
    name: str,
    *,
    servers: int | None = None,
    clients: int | None = None,
    crashes: int | None = None,
    horizon_s: float | None = None,
) -> Model:
    """The model ``name`` with ``servers`` servers and ``clients`` clients (defaults:
    Stateright's examples). Any other name is a primary-backup protocol (registered, or
    ``module.path:Name``), explored with ``crashes`` crashes (default: its f) up to
    ``horizon_s``."""
    timed_only = [
        flag
        for flag, value in (("--crashes", crashes), ("--horizon", horizon_s))
        if value is not None
    ]
    if name in ("paxos", "2pc") and timed_only:
        raise ModelError(f"{' and '.join(timed_only)} apply to the primary-backup models")
    if name == "paxos":
        return paxos_model(3 if servers is None else servers, 2 if clients is None else clients)
    if clients is not None and clients != (1 if name != "2pc" else 0):
        raise ModelError(f"--clients does not apply to {name}: its clients are fixed")
    if name == "2pc":
        return tpc_model(3 if servers is None else servers)
    return pb_model(name, 2 if servers is None else servers, horizon_s=horizon_s, crashes=crashes)
