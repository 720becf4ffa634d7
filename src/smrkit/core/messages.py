"""The message base class and the messages every protocol shares with clients.

Protocol messages are frozen, slotted dataclasses deriving from :class:`Message`, one
module of them per protocol. Client traffic always uses :class:`ClientRequest` and
:class:`ClientReply`, so a runtime can record a history (who asked what, when, and what
came back) without knowing the protocol; :class:`PrimaryHint` is how a service tells a
client which server to address (its ``Dest``, property Pb2 of seed 001), and
:class:`RelayedRequest` how a backup passes a request on to the primary.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from smrkit.core.ids import NodeId
from smrkit.core.ops import Op, Value


@dataclass(frozen=True, slots=True)
class Message:
    """Base of all messages. Subclasses are frozen dataclasses with ``slots=True``."""


@dataclass(frozen=True, slots=True)
class ClientRequest(Message):
    """Client ``client`` asks for ``op`` as its ``seq``-th command (retries reuse ``seq``).

    ``previous`` names the server the client's previous attempt of this command went to,
    when that attempt got no answer at all within the client's time-out. With correct
    clients and links that is evidence: a primary that never saw the earlier attempt, or
    whose reply never arrived, has omitted a message (the omission protocols halt on it)."""

    client: NodeId
    seq: int
    op: Op
    previous: NodeId | None = None


@dataclass(frozen=True, slots=True)
class ClientReply(Message):
    """The answer to ``(client, seq)``.

    ``error`` is ``None`` when the command took effect and ``result`` is its output; a
    non-``None`` ``error`` means the command definitely did not take effect.
    """

    client: NodeId
    seq: int
    result: Value
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RelayedRequest(Message):
    """A client's ``request``, passed on by a backup to the primary over the
    server-to-server link, for a client whose own link to the primary may be faulty; the
    primary answers the backup, which passes the :class:`ClientReply` on. A runtime
    queues it with the clients' requests, behind the protocol's own traffic."""

    request: ClientRequest


@dataclass(frozen=True, slots=True)
class PrimaryHint(Message):
    """``primary`` serves requests as of ``view``; views only grow, so stale hints lose."""

    primary: NodeId
    view: int


def fields_of(value: Any) -> dict[str, Any]:
    """The fields of a message (any dataclass instance), by name, in declaration order:
    what adversary code reads a message through (it may not call ``getattr``)."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        raise TypeError(f"not a message or dataclass instance: {type(value).__name__}")
    return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
