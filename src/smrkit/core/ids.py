"""Node identities.

Servers are ``p1 … pn`` and clients ``c1 … ck``, as in the seeds. A server's *rank* is its
number: several protocols order servers by rank (the lowest-ranked live server is the
primary), so the naming is part of the protocol vocabulary, not a display detail.
"""

from __future__ import annotations

NodeId = str

SERVER_PREFIX = "p"
CLIENT_PREFIX = "c"


def server_ids(n: int) -> tuple[NodeId, ...]:
    """The ids of ``n`` servers, in rank order."""
    if n < 1:
        raise ValueError(f"need at least one server, got {n}")
    return tuple(f"{SERVER_PREFIX}{i}" for i in range(1, n + 1))


def client_ids(k: int) -> tuple[NodeId, ...]:
    """The ids of ``k`` clients."""
    if k < 0:
        raise ValueError(f"negative number of clients: {k}")
    return tuple(f"{CLIENT_PREFIX}{i}" for i in range(1, k + 1))


def _number(node: NodeId, prefix: str) -> int | None:
    if len(node) < 2 or not node.startswith(prefix):
        return None
    digits = node[len(prefix) :]
    if not digits.isdigit() or digits.startswith("0"):
        return None
    return int(digits)


def is_server(node: NodeId) -> bool:
    return _number(node, SERVER_PREFIX) is not None


def is_client(node: NodeId) -> bool:
    return _number(node, CLIENT_PREFIX) is not None


def rank(server: NodeId) -> int:
    """The number of a server id: ``rank("p3") == 3``."""
    number = _number(server, SERVER_PREFIX)
    if number is None:
        raise ValueError(f"not a server id: {server!r}")
    return number
