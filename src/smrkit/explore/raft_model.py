"""Raft in the model checker: every reachable state of a small cluster, and Figure 8.

The world: n ``raft`` servers (:mod:`smrkit.protocols.raft`, or its broken variant
``raft-unsafe-commit``) and two clients, each with one ``put`` that it sends to every
server at once (whichever is leader when the adversary delivers it takes it; the
others answer with a hint the client ignores). The timing is ``async``: any message in
flight may be delivered next, any pending timer may fire — election time-outs and
heartbeats are timers the adversary fires whenever it likes, which is both the worst
case of Raft's randomized time-outs and what keeps the space free of clocks. Any server
may crash between steps or in the middle of one, within ``crashes``.

What keeps the space finite (and small enough), each named and set on the command line:

* ``elections`` (``--elections``, default 4: Figure 8 takes four terms): an election
  time-out fires only while fewer candidacies than that have started, in all.
* no heartbeats (``--heartbeats`` turns them on): a leader sends when it is elected,
  when a command arrives and when a reply asks for more; what the adversary loses then
  stays lost (the heartbeat is what re-sends it).
* the links (``--links``): FIFO by default, as over TCP — the oldest message in flight
  on a link arrives first; ``any-order`` or ``newest`` (a link holds only the newest
  message). A copy of a message already in flight on a link is lost on sending, so a
  re-sent message leaves the state as it was.
* what cannot matter leaves the pool: the clients' replies and hints (the model's
  clients ignore them) and replies no state of their destination can use any more
  (:func:`obsolete`: a vote of an older term). That removes nothing a server sees.

* the adversary's bounds aimed at Figure 8 (``--bound``, none by default):
  ``elections-in-turn`` — an election time-out fires only at a server of the highest
  term while no live server is a candidate (one election at a time, each for the next
  term: no split votes); ``requests-once`` — a client's request that some server's log
  holds is lost on its way to the others (one leader takes it, once);
  ``stale-lost`` — a message of a term older than its destination's is lost instead
  of refused (the refusal would tell its sender the newer term). With them and
  ``--links newest`` the Figure 8 search is complete in minutes (``bench/
  raft_figure8.py``).

Raft tolerates loss and reordering, so each bound removes behaviours and adds none: a
violation found is real, "holds" means "holds within the bounds", and a shortest path
is the shortest among the runs the bounds leave. Election
time-outs draw nothing: the search chooses when a timer fires, so the duration a
server draws from ``out.rng`` cannot matter; the model's servers draw the midpoint.
Without crashes the servers are interchangeable (``--symmetry``). The servers run
with ``pre_vote`` and ``check_quorum`` off (:class:`~smrkit.protocols.raft.RaftConfig`,
the Raft paper's Figure 2): both are liveness rules — a pre-vote round before each
candidacy, a leader stepping down — and the model has no clock for either to read
(``out.now`` is 0), while a pre-vote round would multiply the interleavings of every
election; the simulator's sweeps and scenario tests run them.

Properties (``always``), over each state's node states — down nodes included, since
what a crashed server committed stays committed:

* ``election safety`` — at most one leader per term, ever: the model records who sent
  ``AppendEntries`` in which term (only a leader does) and finds two senders of one term.
* ``log matching`` — two logs with an entry of the same index and term hold the same
  entries up to it.
* ``leader completeness`` — a leader of term T holds every entry committed by a server
  whose term is T or below (it was committed in that term or earlier; one committed in
  T itself came from the leader of T). A server that committed an entry in term 3 and
  then voted in term 4 still counts: the Figure 8 path's leader of term 4 is elected by
  the very server that committed what it lacks.
* ``state machine safety`` — no two servers apply different commands at one index.

The Raft paper's Figure 8 (five servers, terms 2 to 4, three crashes) is what
``raft-unsafe-commit`` breaks; with three servers and an asynchronous network no crash
is needed: a leader that commits an entry of an earlier term by counting, and a later
leader elected without it that overwrites it (:func:`narrate` tells a path in the
paper's words; ``tests/explore/testdata/raft_figure8.jsonl`` keeps the shortest, found
by BFS under the bounds above).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from smrkit.core.ids import NodeId, client_ids, server_ids
from smrkit.core.messages import ClientReply, ClientRequest, Message
from smrkit.core.node import ClientNode, Node, Out, Timer
from smrkit.core.ops import Op
from smrkit.explore.models import Model, ModelError
from smrkit.explore.properties import Property, View, always
from smrkit.explore.space import (
    ASYNC,
    AUX,
    MERGING,
    NODES,
    OVERWRITING,
    POOL,
    Recorder,
    Space,
    SpaceConfig,
    State,
)
from smrkit.protocols.raft.messages import AppendEntries, AppendReply, RequestVote, VoteReply
from smrkit.protocols.raft.node import CANDIDATE, ELECTION, FOLLOWER, HEARTBEAT, RaftNode

RAFT_MODELS = ("raft", "raft-unsafe-commit")

NEWEST, FIFO, ANY_ORDER = "newest", "fifo", "any-order"
LINKS = (NEWEST, FIFO, ANY_ORDER)
"""How links behave: hold only the newest message sent on them (the others are lost),
deliver in the order sent, or in any order (the last two lose only a copy of a
message already in flight)."""

IN_TURN, REQUESTS_ONCE, STALE_LOST = "elections-in-turn", "requests-once", "stale-lost"
BOUNDS = (IN_TURN, REQUESTS_ONCE, STALE_LOST)
"""Bounds on the adversary aimed at Figure 8 (``--bound``), each removing behaviours and
adding none (see the module docstring)."""

ELECTIONS_DEFAULT = 4
"""Figure 8 takes four terms: the search explores up to four candidacies."""

OPS = (Op("put", "x", "A"), Op("put", "x", "B"))
"""The clients' operations: c1 puts A, c2 puts B (the two entries of Figure 8)."""


# --- what the properties read of a raft server ------------------------------------------


def term_of(node: Node) -> int:
    return int(node.term)  # type: ignore[attr-defined]


def is_leader(node: Node) -> bool:
    return bool(getattr(node, "is_primary", False))


def entries_of(node: Node) -> tuple[tuple[int, Any], ...]:
    """The node's log as ``(term, command)`` pairs, entry 1 first."""
    log = node.log  # type: ignore[attr-defined]
    return tuple(zip(log.terms, log.commands, strict=True))


def commit_of(node: Node) -> int:
    return int(node.commit)  # type: ignore[attr-defined]


def applied_of(node: Node) -> tuple[Any, ...]:
    return tuple(getattr(node, "applied", ()))


# --- the model's servers and clients ------------------------------------------------------


class _MidpointDraws(random.Random):
    """A generator whose every draw is the midpoint of its range."""

    def random(self) -> float:
        return 0.5


_DRAWS = _MidpointDraws(0)


class OneShotClient(ClientNode):
    """A client with one operation: it sends it to every server at the start and is done
    with the first reply that says it took effect."""

    def __init__(self, node_id: NodeId, servers: tuple[NodeId, ...], op: Op) -> None:
        super().__init__(node_id)
        self.config = (servers, op)
        self.dest: NodeId | None = None
        self.result: Any = None

    def on_start(self, out: Out) -> None:
        servers, op = self.config
        out.send_all(servers, ClientRequest(self.id, 1, op))

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, ClientReply) and msg.seq == 1 and msg.error is None and not self.done:
            self.done = True
            self.result = msg.result


_MODEL_CLASSES: dict[tuple[type, bool], type] = {}


def model_class(cls: type[Node], heartbeats: bool) -> type[Node]:
    """``cls`` as the model runs it: draws from ``out.rng`` fixed at their midpoint, and
    no heartbeat unless ``heartbeats`` (a leader's heartbeat re-sends what is not
    acknowledged: without it, what the adversary loses stays lost)."""
    key = (cls, heartbeats)
    made = _MODEL_CLASSES.get(key)
    if made is not None:
        return made

    class Modelled(cls):  # type: ignore[valid-type,misc]
        def on_start(self, out: Out) -> None:
            _with_fixed_draws(out, lambda: super(Modelled, self).on_start(out))

        def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
            _with_fixed_draws(out, lambda: super(Modelled, self).on_message(src, msg, out))
            _forget_what_nothing_reads(self, heartbeats)

        def on_timer(self, timer: Timer, out: Out) -> None:
            if timer == HEARTBEAT and not heartbeats:
                out.set_timer(timer, 1.0)  # re-armed, nothing else: not a move
                return
            _with_fixed_draws(out, lambda: super(Modelled, self).on_timer(timer, out))

    name = f"{cls.__name__}{'' if heartbeats else 'WithoutHeartbeats'}"
    Modelled.__name__ = Modelled.__qualname__ = name
    Modelled.__module__ = __name__
    _MODEL_CLASSES[key] = Modelled
    return Modelled


def _forget_what_nothing_reads(node: Node, heartbeats: bool) -> None:
    """Keep at one value what the model's servers record but never read, so that two
    states that differ only in it — and so behave alike — are one state: when a
    follower last heard its leader (``RaftNode.leader_heard_at``, read only to grant a
    pre-vote, and the model runs with ``pre_vote`` off) and, without heartbeats, how
    many heartbeats each follower has been silent for (``RaftNode.silent``, read only
    by the heartbeat handler, to retransmit and for CheckQuorum)."""
    if getattr(node, "leader_heard_at", None) is not None:
        node.leader_heard_at = None  # type: ignore[attr-defined]
    silent = getattr(node, "silent", None)
    if not heartbeats and isinstance(silent, dict) and any(silent.values()):
        node.silent = dict.fromkeys(silent, 0)  # type: ignore[attr-defined]


def _with_fixed_draws(out: Out, handler: Callable[[], None]) -> None:
    rng = out.rng
    out.rng = _DRAWS
    try:
        handler()
    finally:
        out.rng = rng


# --- messages that can change nothing any more ------------------------------------------


def obsolete(node: Node, src: NodeId, msg: Message) -> bool:
    """Whether ``node`` ignores ``msg`` from ``src`` now and forever: a reply of an older
    term (terms only grow), a vote reply its candidacy cannot use (a refusal, a vote
    counted already, or the candidacy over), an append reply to a follower of that term
    (a follower never leads the term it follows in)."""
    if not isinstance(node, RaftNode):
        return False
    if isinstance(msg, VoteReply):
        return msg.term < node.term or (
            msg.term == node.term
            and (not msg.granted or node.role != CANDIDATE or src in node.votes)
        )
    if isinstance(msg, AppendReply):
        return msg.term < node.term or (msg.term == node.term and node.role == FOLLOWER)
    return False


def stale_or_obsolete(node: Node, src: NodeId, msg: Message) -> bool:
    """:func:`obsolete`, or — the ``stale-lost`` bound — a message of a term older than
    its destination's (the adversary loses it instead of letting the destination refuse
    it and tell the sender the newer term)."""
    if obsolete(node, src, msg):
        return True
    term = getattr(msg, "term", None)
    return isinstance(node, RaftNode) and isinstance(term, int) and term < node.term


def _clients_logged(node: Node) -> frozenset[NodeId]:
    return frozenset(c.client for c in node.log.commands if c is not None)  # type: ignore[attr-defined]


def requests_taken(servers: tuple[NodeId, ...]) -> Callable[[Space, State], frozenset[int]]:
    """The ``requests-once`` bound: a client's request that some server's log holds is
    lost on its way to every other server (taken once, by one leader)."""
    positions: dict[tuple[int, ...], frozenset[NodeId]] = {}

    def lost(space: Space, state: State) -> frozenset[int]:
        pool = state[POOL]
        if not pool:
            return frozenset()
        nodes = state[NODES]
        snaps = tuple(nodes[space.index[s]] for s in servers)
        taken = positions.get(snaps)
        if taken is None:
            view = View(space, state)
            taken = positions[snaps] = frozenset().union(
                *(view.node_fact(s, _clients_logged) for s in servers)
            )
        if not taken:
            return frozenset()
        envs = space.envs.values
        return frozenset(
            env
            for env in pool
            if isinstance(envs[env][2], ClientRequest) and envs[env][2].client in taken
        )

    return lost


# --- election safety's record -------------------------------------------------------------


class Elections(Recorder):
    """Who stood in which term, and who led it: ``(candidates, leaders)``, each a set of
    ``(term, server)`` — a ``RequestVote`` sent starts a candidacy, an ``AppendEntries``
    sent is a leader's (no one else sends one)."""

    def initial(self) -> tuple[frozenset[tuple[int, NodeId]], ...]:
        return (frozenset(), frozenset())

    def sent(self, aux: Any, src: NodeId, dst: NodeId, msg: Message) -> Any:
        candidates, leaders = aux
        if isinstance(msg, RequestVote) and (msg.term, src) not in candidates:
            return (candidates | {(msg.term, src)}, leaders)
        if isinstance(msg, AppendEntries) and (msg.term, src) not in leaders:
            return (candidates, leaders | {(msg.term, src)})
        return aux


def _one_leader_per_term(aux: tuple[frozenset[tuple[int, NodeId]], ...]) -> bool:
    terms = [term for term, _ in aux[1]]
    return len(terms) == len(set(terms))


def elections_left(
    elections: int, in_turn: tuple[NodeId, ...] = ()
) -> Callable[[Space, State, int], bool]:
    """The adversary's bound: an election time-out fires only while fewer than
    ``elections`` candidacies have started — and, ``elections-in-turn`` (the servers
    ``in_turn``), only at a server of the highest term while no live server is a
    candidate: one election at a time, each for the next term."""

    def may_fire(space: Space, state: State, timer: int) -> bool:
        node, name = space.timer_ids.values[timer]
        if name != ELECTION:
            return True
        if len(space.auxes.values[state[AUX]][0]) >= elections:
            return False
        if not in_turn:
            return True
        view = View(space, state)
        turns = [(s, view.node_fact(s, _term_and_candidacy)) for s in in_turn]
        highest = max(term for _, (term, _) in turns)
        mine = view.node_fact(space.ids[node], _term_and_candidacy)[0]
        standing = any(c and not view.is_down(s) for s, (_, c) in turns)
        return mine == highest and not standing

    return may_fire


def _term_and_candidacy(node: Node) -> tuple[int, bool]:
    return term_of(node), getattr(node, "role", None) == CANDIDATE


# --- the properties -----------------------------------------------------------------------


def _server_facts(view: View, servers: tuple[NodeId, ...]) -> list[tuple[Any, ...]]:
    return [view.node_fact(s, _facts) for s in servers]


def _facts(node: Node) -> tuple[Any, ...]:
    return (term_of(node), is_leader(node), entries_of(node), commit_of(node), applied_of(node))


def election_safety(view: View, servers: tuple[NodeId, ...]) -> bool:
    if not view.aux_fact(_one_leader_per_term):
        return False
    leaders = [f[0] for f in _server_facts(view, servers) if f[1]]
    return len(leaders) == len(set(leaders))


def log_matching(view: View, servers: tuple[NodeId, ...]) -> bool:
    logs = [f[2] for f in _server_facts(view, servers)]
    for i, a in enumerate(logs):
        for b in logs[i + 1 :]:
            for k in range(min(len(a), len(b)) - 1, -1, -1):
                if a[k][0] == b[k][0]:
                    if a[: k + 1] != b[: k + 1]:
                        return False
                    break
    return True


def leader_completeness(view: View, servers: tuple[NodeId, ...]) -> bool:
    facts = _server_facts(view, servers)
    for term, leader, log, _, _ in facts:
        if not leader:
            continue
        for other_term, _, other_log, commit, _ in facts:
            if other_term <= term and log[:commit] != other_log[:commit]:
                return False
    return True


def state_machine_safety(view: View, servers: tuple[NodeId, ...]) -> bool:
    applied = [f[4] for f in _server_facts(view, servers)]
    return all(
        a[: min(len(a), len(b))] == b[: min(len(a), len(b))] for a in applied for b in applied
    )


PROPERTY_NAMES = ("election safety", "log matching", "leader completeness", "state machine safety")


def raft_properties(servers: tuple[NodeId, ...]) -> tuple[Property, ...]:
    checks = (election_safety, log_matching, leader_completeness, state_machine_safety)
    return tuple(
        always(name, _bind(check, servers))
        for name, check in zip(PROPERTY_NAMES, checks, strict=True)
    )


def _bind(
    check: Callable[[View, tuple[NodeId, ...]], bool], servers: tuple[NodeId, ...]
) -> Callable[[View], bool]:
    return lambda view: check(view, servers)


# --- the model ----------------------------------------------------------------------------


def raft_model(
    protocol: str = "raft",
    servers: int = 3,
    clients: int = 2,
    elections: int = ELECTIONS_DEFAULT,
    crashes: int = 0,
    heartbeats: bool = False,
    links: str = FIFO,
    bounds: Sequence[str] = (),
) -> Model:
    """``protocol`` (``raft`` or ``raft-unsafe-commit``) with ``servers`` servers and
    ``clients`` one-shot clients (at most two: c1 puts A, c2 puts B), up to
    ``elections`` candidacies and ``crashes`` crashes, heartbeats or not, ``links``
    of :data:`LINKS`, and the adversary's ``bounds`` of :data:`BOUNDS`."""
    from smrkit.protocols.registry import ProtocolConfig, get_protocol

    if protocol not in RAFT_MODELS:
        raise ModelError(f"no raft model named {protocol!r}: {', '.join(RAFT_MODELS)}")
    if servers < 1:
        raise ModelError(f"--servers {servers}: raft needs at least 1 server")
    if not 0 <= clients <= len(OPS):
        raise ModelError(f"--clients {clients}: the raft model has 0 to {len(OPS)} clients")
    if links not in LINKS:
        raise ModelError(f"--links {links!r}: one of {', '.join(LINKS)}")
    if elections < 1:
        raise ModelError(f"--elections {elections}: a leader needs at least one election")
    if not 0 <= crashes <= servers:
        raise ModelError(f"--crashes {crashes} must lie in [0, {servers}]")
    unknown = [b for b in bounds if b not in BOUNDS]
    if unknown:
        raise ModelError(f"--bound {unknown[0]!r}: one of {', '.join(BOUNDS)}")
    chosen = tuple(b for b in BOUNDS if b in bounds)
    spec = get_protocol(protocol)
    server_names = server_ids(servers)
    client_names = client_ids(clients)
    config = ProtocolConfig(server_names, client_names, "kv", 0.01, 0.05)

    def nodes() -> list[Node]:
        built: list[Node] = []
        for node in spec.build(config):
            node.__class__ = model_class(type(node), heartbeats)
            if isinstance(node, RaftNode):  # the paper's rules (see the docstring)
                node.config = replace(node.config, pre_vote=False, check_quorum=False)
            built.append(node)
        built.extend(
            OneShotClient(client, server_names, op)
            for client, op in zip(client_names, OPS, strict=False)
        )
        return built

    return Model(
        name=protocol,
        nodes=nodes,
        space=SpaceConfig(
            timing=ASYNC,
            network=OVERWRITING if links == NEWEST else MERGING,
            crash_budget=crashes,
            crashable=server_names,
            mid_step_crashes=crashes > 0,
            recorder=Elections(),
            may_fire=elections_left(elections, server_names if IN_TURN in chosen else ()),
            fifo_links=links == FIFO,
            ignored_by=client_names,
            obsolete=stale_or_obsolete if STALE_LOST in chosen else obsolete,
            lost=requests_taken(server_names) if REQUESTS_ONCE in chosen else None,
        ),
        properties=raft_properties(server_names),
        symmetric=server_names if crashes == 0 else (),
        narrate=narrate,
        parameters={
            "model": protocol,
            "servers": servers,
            "clients": clients,
            "elections": elections,
            "crashes": crashes,
            "heartbeats": heartbeats,
            "links": links,
            **({"bounds": chosen} if chosen else {}),
        },
    )


# --- a path in the Raft paper's words -------------------------------------------------------


def _entry(entry: tuple[int, Any]) -> str:
    term, command = entry
    what = "no-op" if command is None else str(getattr(command.op, "value", command))
    return f"{what} (term {term})"


def _what_moved(move: dict[str, Any]) -> str:
    kind = move["kind"]
    if kind == "fire":
        return f"{move['node']}'s {move['timer']} time-out fires"
    if kind == "crash":
        return f"{move['node']} crashes"
    if kind == "deliver":
        name = str(move["msg"].get("type", "message")) if isinstance(move["msg"], dict) else "?"
        return f"{move['dst']} receives {name} from {move['src']}"
    return str(kind)


def _changes(
    node: str, before: tuple[Any, ...], after: tuple[Any, ...], timed_out: bool
) -> list[str]:
    term0, leader0, log0, commit0, _ = before
    term1, leader1, log1, commit1, _ = after
    said: list[str] = []
    if leader1 and not leader0:
        said.append(f"{node} leads term {term1}")
    elif leader0 and not leader1:
        said.append(f"{node} steps down in term {term1}")
    elif term1 != term0:
        said.append(f"{node} {'stands for' if timed_out else 'is in'} term {term1}")
    common = 0
    while common < min(len(log0), len(log1)) and log0[common] == log1[common]:
        common += 1
    for index in range(common, len(log1)):
        if index < len(log0):
            said.append(
                f"{node} overwrites entry {index + 1}: {_entry(log0[index])} → "
                f"{_entry(log1[index])}"
            )
        else:
            said.append(f"{node} appends {_entry(log1[index])} at index {index + 1}")
    if len(log1) < len(log0) and common == len(log1):
        said.append(f"{node} drops entries {len(log1) + 1}..{len(log0)}")
    for index in range(commit0, commit1):
        entry = log1[index]
        late = leader1 and entry[0] < term1
        said.append(
            f"{node} commits entry {index + 1}, {_entry(entry)}"
            + (f", in term {term1} by counting replicas" if late else "")
        )
    return said


def narrate(model: Model, moves: list[dict[str, Any]]) -> list[str]:
    """The path ``moves`` as the Raft paper tells Figure 8: a line per move that changed
    a role, a term, a log or a commit index (moves numbered from 1)."""
    from smrkit.explore.replay import walk

    space = model.build_space()
    states = walk(space, moves)
    servers = [s for s in space.ids if s.startswith("p")]
    lines: list[str] = []
    for number, (move, before, after) in enumerate(
        zip(moves, states, states[1:], strict=False), start=1
    ):
        said: list[str] = []
        for server in servers:
            old = View(space, before).node_fact(server, _facts)
            new = View(space, after).node_fact(server, _facts)
            timed_out = move["kind"] == "fire" and move.get("node") == server
            said.extend(_changes(server, old, new, timed_out))
        if move["kind"] == "crash" or said:
            lines.append(f"{number:>3}. {_what_moved(move)}: " + ("; ".join(said) or "down"))
    return lines
