"""A Raft snapshot: the replicated service's state after an entry, as plain items that
travel in parts.

The state is the application's snapshot, the session cache, the number of sessions
expired, and how many commands were applied up to the entry (``applied``, so that a
server that installs the snapshot numbers the commands it applies next as every other
server does). It is flattened into tagged items — one per item of an application
snapshot that is a tuple (``kv``'s keys), one per session — so that
``InstallSnapshot`` can carry it in parts of at most ``message_bytes_max``, each part a
run of whole items.
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.ops import Value
from smrkit.core.sizes import encoded_bytes_bound

ITEM_OVERHEAD_BYTES = 9
"""A tuple header, beside an item's own bound."""


@dataclass(frozen=True)
class Snapshot:
    """The service's state after entry ``index`` (of ``term``): ``items`` as made by
    :func:`flatten`."""

    index: int
    term: int
    items: tuple[Value, ...]


def flatten(
    app: Value,
    sessions: tuple[tuple[NodeId, int, Value, str | None], ...],
    forgotten: int,
    applied: int,
) -> tuple[Value, ...]:
    """The service's state as tagged items (see the module docstring)."""
    items: list[Value] = [("n", applied), ("f", forgotten)]
    if isinstance(app, tuple):
        items.append(("t",))
        items.extend(("a", item) for item in app)
    else:
        items.append(("v", app))
    items.extend(("s", *session) for session in sessions)
    return tuple(items)


def unflatten(
    items: tuple[Value, ...],
) -> tuple[Value, tuple[tuple[NodeId, int, Value, str | None], ...], int, int]:
    """``(app, sessions, forgotten, applied)`` from :func:`flatten`'s items. Raises
    ``ValueError`` on items it did not make."""
    applied = forgotten = -1
    app_items: list[Value] = []
    app: Value = None
    is_tuple = False
    sessions: list[tuple[NodeId, int, Value, str | None]] = []
    for item in items:
        if not isinstance(item, tuple) or not item or not isinstance(item[0], str):
            raise ValueError(f"not a snapshot item: {item!r}")
        tag = item[0]
        if tag == "n" and isinstance(item[1], int):
            applied = item[1]
        elif tag == "f" and isinstance(item[1], int):
            forgotten = item[1]
        elif tag == "t":
            is_tuple = True
        elif tag == "a":
            app_items.append(item[1])
        elif tag == "v":
            app = item[1]
        elif tag == "s" and len(item) == 5:
            client, seq, result, error = item[1:]
            if not isinstance(client, str) or not isinstance(seq, int):
                raise ValueError(f"not a session: {item!r}")
            if error is not None and not isinstance(error, str):
                raise ValueError(f"not a session: {item!r}")
            sessions.append((client, seq, result, error))
        else:
            raise ValueError(f"not a snapshot item: {item!r}")
    if applied < 0 or forgotten < 0:
        raise ValueError("a snapshot without its applied count or expired sessions")
    return (tuple(app_items) if is_tuple else app), tuple(sessions), forgotten, applied


def parts(items: tuple[Value, ...], part_bytes_max: int) -> list[tuple[int, int]]:
    """``items`` cut into runs ``[begin, end)`` of at most ``part_bytes_max`` (at least
    one item each; one empty part for no items)."""
    cuts: list[tuple[int, int]] = []
    begin = 0
    while begin < len(items):
        size, end = 0, begin
        while end < len(items):
            item = encoded_bytes_bound(items[end]) + ITEM_OVERHEAD_BYTES
            if end > begin and size + item > part_bytes_max:
                break
            size += item
            end += 1
        cuts.append((begin, end))
        begin = end
    return cuts or [(0, 0)]
