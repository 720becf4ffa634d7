"""The register interface of Stateright's model checks: ``Put``/``Get`` requests and their
answers, and the client that drives a register service through them.

Stateright checks its register services (``examples/paxos.rs`` and the other register
examples) with ``RegisterActor::Client``: a client that puts ``put_count`` values, one at a
time, and then gets once. :class:`RegisterClient` is that client as a sans-I/O smrkit node,
so smrkit's explorer can reproduce Stateright's state counts: the same request ids, values
and destinations, and the same state (what it awaits, how many ops it has issued).

* Ids. Stateright numbers actors from 0, servers first; a client's ``index`` is that
  number (the world's order: servers, then clients). Request ids are
  ``(op_count + 1) · index``; the first put writes ``chr(ord('A') + index − servers)``,
  later puts ``chr(ord('Z') − (index − servers))``; op ``k`` goes to server
  ``(index + k) mod servers`` (``k`` counted from 0).
* State. ``awaiting`` (the request id it waits for, ``None`` once done) and
  ``op_count``. A reply it does not await changes nothing (Stateright's no-op).

The messages mirror Stateright's ``RegisterMsg`` (``Put``, ``Get``, ``PutOk``,
``GetOk``); the register's initial value is ``"\\x00"``, Rust's ``char::default()``.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import ClientNode, Out

NO_VALUE = "\x00"
"""The register's initial value (Rust's ``char::default()``)."""


@dataclass(frozen=True, slots=True)
class Put(Message):
    request_id: int
    value: str


@dataclass(frozen=True, slots=True)
class Get(Message):
    request_id: int


@dataclass(frozen=True, slots=True)
class PutOk(Message):
    request_id: int


@dataclass(frozen=True, slots=True)
class GetOk(Message):
    request_id: int
    value: str


@dataclass(frozen=True)
class RegisterClientConfig:
    """Where the client sits in the world (``index``, Stateright's actor number), the
    servers it addresses, and how many puts it makes before its get."""

    index: int
    servers: tuple[NodeId, ...]
    put_count: int


class RegisterClient(ClientNode):
    """Puts ``put_count`` values one at a time, then gets once (Stateright's
    ``RegisterActor::Client``)."""

    def __init__(self, node_id: NodeId, config: RegisterClientConfig) -> None:
        super().__init__(node_id)
        if config.index < len(config.servers):
            raise ValueError("register clients come after the servers in the world's order")
        self.config = config
        self.awaiting: int | None = None
        self.op_count = 0

    def on_start(self, out: Out) -> None:
        if self.config.put_count == 0:
            self.done = True
            return
        index = self.config.index
        value = chr(ord("A") + index - len(self.config.servers))
        self._send(out, Put(index, value))

    def on_message(self, src: NodeId, msg: Message, out: Out) -> None:
        if self.awaiting is None:
            return
        match msg:
            case PutOk(request_id=r) if r == self.awaiting:
                request_id = (self.op_count + 1) * self.config.index
                if self.op_count < self.config.put_count:
                    value = chr(ord("Z") - (self.config.index - len(self.config.servers)))
                    self._send(out, Put(request_id, value))
                else:
                    self._send(out, Get(request_id))
            case GetOk(request_id=r) if r == self.awaiting:
                self.awaiting = None
                self.op_count += 1
                self.done = True

    def _send(self, out: Out, request: Put | Get) -> None:
        servers = self.config.servers
        out.send(servers[(self.config.index + self.op_count) % len(servers)], request)
        self.awaiting = request.request_id
        self.op_count += 1
