"""A client history kept in the state, as Stateright's ``LinearizabilityTester`` keeps it.

Stateright's register models hash a ``LinearizabilityTester`` into every state: for each
client (a "thread"), its completed operations and the one in flight, each stamped, when
it was invoked, with the index of the last operation every *other* client had completed
by then. That stamp is the real-time order: operation b of one client follows operation
a of another exactly when b's stamp for a's client is at least a's index. The history
distinguishes states that nodes and messages alone do not (whether client 1's get began
before or after client 2's put returned), so reproducing Stateright's state counts needs
exactly this value.

:class:`RegisterHistory` records an invocation when a client sends a ``Put`` or ``Get``
and a return when a ``PutOk`` or ``GetOk`` reaches it (Stateright's ``record_msg_out`` /
``record_msg_in``). :func:`linearizable` asks whether some total order of the operations
respects those stamps and the register's semantics, an in-flight operation being free to
take effect (last in its client's sequence) or not — Stateright's ``serialized_history``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.explore.space import Recorder
from smrkit.protocols.register import NO_VALUE, Get, GetOk, Put, PutOk

Stamp = tuple[tuple[NodeId, int], ...]
"""For each other client with a completed op: the index of its last one."""
Op = tuple[Any, ...]
"""``("write", value)`` or ``("read",)``."""
Ret = tuple[Any, ...]
"""``("write-ok",)`` or ``("read-ok", value)``."""


class History(NamedTuple):
    """Completed ops per client (``(stamp, op, ret)``), in-flight ops, and whether the
    history is well formed (an invocation while one is in flight, or a return with none,
    makes it invalid — and not linearizable)."""

    completed: tuple[tuple[NodeId, tuple[tuple[Stamp, Op, Ret], ...]], ...] = ()
    in_flight: tuple[tuple[NodeId, tuple[Stamp, Op]], ...] = ()
    valid: bool = True


def invoke(history: History, client: NodeId, op: Op) -> History:
    if not history.valid:
        return history
    completed = dict(history.completed)
    in_flight = dict(history.in_flight)
    if client in in_flight:
        return history._replace(valid=False)
    stamp = tuple(
        sorted((other, len(ops) - 1) for other, ops in completed.items() if other != client and ops)
    )
    in_flight[client] = (stamp, op)
    completed.setdefault(client, ())
    return History(tuple(sorted(completed.items())), tuple(sorted(in_flight.items())), True)


def complete(history: History, client: NodeId, ret: Ret) -> History:
    if not history.valid:
        return history
    in_flight = dict(history.in_flight)
    if client not in in_flight:
        return history._replace(valid=False)
    stamp, op = in_flight.pop(client)
    completed = dict(history.completed)
    completed[client] = (*completed.get(client, ()), (stamp, op, ret))
    return History(tuple(sorted(completed.items())), tuple(sorted(in_flight.items())), True)


class RegisterHistory(Recorder):
    """Records ``Put``/``Get`` as invocations and ``PutOk``/``GetOk`` as returns."""

    def initial(self) -> History:
        return History()

    def sent(self, aux: Any, src: NodeId, dst: NodeId, msg: Message) -> Any:
        if isinstance(msg, Get):
            return invoke(aux, src, ("read",))
        if isinstance(msg, Put):
            return invoke(aux, src, ("write", msg.value))
        return aux

    def received(self, aux: Any, src: NodeId, dst: NodeId, msg: Message) -> Any:
        if isinstance(msg, GetOk):
            return complete(aux, dst, ("read-ok", msg.value))
        if isinstance(msg, PutOk):
            return complete(aux, dst, ("write-ok",))
        return aux


@lru_cache(maxsize=65536)
def linearizable(history: History, initial: Any = NO_VALUE) -> bool:
    """Whether a register starting at ``initial`` explains ``history``."""
    if not history.valid:
        return False
    clients = [client for client, _ in history.completed]
    ops = {client: ops for client, ops in history.completed}
    in_flight = dict(history.in_flight)
    return _serializable(clients, ops, in_flight, tuple(0 for _ in clients), (), initial)


def _ready(stamp: Stamp, done: dict[NodeId, int]) -> bool:
    """Every op the stamp says came before is already in the order."""
    return all(done.get(other, 0) > index for other, index in stamp)


def _serializable(
    clients: list[NodeId],
    ops: dict[NodeId, tuple[tuple[Stamp, Op, Ret], ...]],
    in_flight: dict[NodeId, tuple[Stamp, Op]],
    positions: tuple[int, ...],
    used: tuple[NodeId, ...],
    value: Any,
) -> bool:
    done = dict(zip(clients, positions, strict=True))
    if all(positions[k] == len(ops[c]) for k, c in enumerate(clients)):
        return True
    for k, client in enumerate(clients):
        position = positions[k]
        if position < len(ops[client]):
            stamp, op, ret = ops[client][position]
            if not _ready(stamp, done):
                continue
            if op[0] == "write":
                if ret != ("write-ok",):
                    continue
                after = op[1]
            else:
                if ret != ("read-ok", value):
                    continue
                after = value
            moved = (*positions[:k], position + 1, *positions[k + 1 :])
            if _serializable(clients, ops, in_flight, moved, used, after):
                return True
        elif client in in_flight and client not in used:
            stamp, op = in_flight[client]
            if not _ready(stamp, done):
                continue
            after = op[1] if op[0] == "write" else value
            if _serializable(clients, ops, in_flight, positions, (*used, client), after):
                return True
    return False
