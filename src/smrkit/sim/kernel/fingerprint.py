"""Canonical text and fingerprints of plain data: how a search tells worlds apart.

DESIGN promises that node state is *plain data*: ``None``, booleans, ints, floats,
strings, bytes, tuples, lists, dicts, sets, enums, dataclasses (messages, commands,
ops), and small state objects whose own state is made of the same. :func:`canonical`
writes such a value as text that depends only on the value — not on object identity,
insertion order of a set, or the interpreter's hash seed: dict items and set members are
sorted by their own canonical text, objects are written as their type's qualified name
and their state fields (``config_fields`` left out, see :mod:`smrkit.core.state`).
A signature's seal (:mod:`smrkit.sim.kernel.seal`) is written as the signer and text it
was minted for, so a pasted seal fingerprints apart from a genuine signature.
Anything else — a function, a bound method, a lambda, a random generator, a socket, a
file, a lock, an iterator — is not plain data: :func:`canonical` raises
:class:`NotPlainDataError` naming where it sits, and :func:`plain_data_problems` lists every
such place.

:func:`fingerprint` is a 64-bit BLAKE2b of the canonical text (Stateright's
fingerprints are 64-bit too); :func:`world_fingerprint` covers what decides a world's
future: the nodes' states, what they saved, the pool of in-flight messages as a multiset
(message ids are names, not state), the pending timers, who has not started, who is down,
armed crash cuts, plan faults still to come and the crash budget — plus, in timed and
lock-step worlds, the clock and the due times, and, unless ``rng=False``, the state of
every random generator (each node's ``out.rng``, the network's, the faults').
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from smrkit.core.node import Node
from smrkit.core.state import state_fields
from smrkit.sim.kernel.seal import Seal
from smrkit.sim.network import STEPS

if TYPE_CHECKING:
    from smrkit.sim.kernel.world import World

_HANDLE_MODULES = frozenset(
    {"socket", "_socket", "ssl", "_ssl", "io", "_io", "threading", "_thread", "sqlite3"}
)


class NotPlainDataError(TypeError):
    """A value that is not plain data, and where it sits (``path``)."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path} is {what}, not plain data")
        self.path = path
        self.what = what


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def not_plain_reason(value: Any) -> str | None:
    """What ``value`` is, if it is one of the kinds that are never plain data."""
    if isinstance(value, random.Random):
        return "a random generator (randomness is out.rng, the runtime's)"
    if callable(value):
        return f"a callable ({type(value).__name__})"
    module = type(value).__module__.split(".")[0]
    if module in _HANDLE_MODULES or module == "asyncio":
        return f"a handle ({_qualified(type(value))})"
    if hasattr(value, "__next__"):
        return f"an iterator ({type(value).__name__})"
    return None


def _write(value: Any, path: str, out: list[str]) -> None:
    kind = type(value)
    if value is None:
        out.append("N")
    elif kind is bool:
        out.append("T" if value else "F")
    elif kind is int:
        out.append(f"i{value};")
    elif kind is str:
        out.append(f"s{len(value)}:{value}")
    elif kind is float:
        out.append(f"f{value!r};")
    elif kind is tuple or kind is list:
        out.append("(" if kind is tuple else "[")
        for index, item in enumerate(value):
            _write(item, f"{path}[{index}]", out)
        out.append(")" if kind is tuple else "]")
    elif kind is dict:
        items = sorted(
            (canonical(key, f"{path} key"), canonical(item, f"{path}[{key!r}]"))
            for key, item in value.items()
        )
        out.append("{" + "".join(k + "=" + v for k, v in items) + "}")
    elif kind is set or kind is frozenset:
        members = sorted(canonical(item, f"{path} member") for item in value)
        out.append("<" + "".join(members) + ">")
    elif kind is Seal:  # a signature's proof is what it was minted for (kernel.signatures)
        out.append(f"S{len(value.signer)}:{value.signer}{len(value.text)}:{value.text}")
    elif isinstance(value, enum.Enum):
        out.append(f"E{_qualified(kind)}.{value.name};")
    elif isinstance(value, bool | int | float | str | bytes):
        out.append(f"{_qualified(kind)}:{value!r};")
    elif isinstance(value, tuple) and hasattr(kind, "_fields"):  # a NamedTuple
        out.append(f"t{_qualified(kind)}(")
        for name, item in zip(kind._fields, value, strict=True):
            out.append(f"{name}=")
            _write(item, f"{path}.{name}", out)
        out.append(")")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        out.append(f"D{_qualified(kind)}(")
        for field in dataclasses.fields(value):
            out.append(f"{field.name}=")
            _write(getattr(value, field.name), f"{path}.{field.name}", out)
        out.append(")")
    else:
        what = not_plain_reason(value)
        if what is not None:
            raise NotPlainDataError(path, what)
        if hasattr(value, "__dict__"):
            out.append(f"O{_qualified(kind)}(")
            for name, item in sorted(state_fields(value).items()):
                out.append(f"{name}=")
                _write(item, f"{path}.{name}", out)
            out.append(")")
        else:
            raise NotPlainDataError(path, f"a {_qualified(kind)} without inspectable state")


def canonical(value: Any, path: str = "value") -> str:
    """The canonical text of a plain-data value; :class:`NotPlainDataError` otherwise."""
    out: list[str] = []
    _write(value, path, out)
    return "".join(out)


def digest(text: str) -> int:
    """The 64-bit BLAKE2b of ``text``, as an int."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def fingerprint(value: Any) -> int:
    """The 64-bit fingerprint of a plain-data value."""
    return digest(canonical(value))


def node_state(node: Node) -> dict[str, Any]:
    """A node's state: its attributes minus its configuration (``id``, ``config``)."""
    return state_fields(node)


def plain_data_problems(value: Any, path: str = "state") -> list[str]:
    """Every place in ``value`` that is not plain data (empty when it all is)."""
    problems: list[str] = []
    _collect(value, path, problems, depth=0)
    return problems


def _collect(value: Any, path: str, problems: list[str], depth: int) -> None:
    if depth > 64:
        problems.append(f"{path} nests deeper than 64 levels (a cycle?)")
        return
    try:
        canonical(value, path)
    except NotPlainDataError as error:
        if error.path == path or not _has_parts(value):
            problems.append(str(error))
            return
        for part_path, part in _parts(value, path):
            _collect(part, part_path, problems, depth + 1)
    except RecursionError:
        problems.append(f"{path} refers to itself (a cycle)")


def _has_parts(value: Any) -> bool:
    return isinstance(value, list | tuple | dict | set | frozenset) or hasattr(value, "__dict__")


def _parts(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [(f"{path}[{key!r}]", item) for key, item in value.items()]
    if isinstance(value, list | tuple):
        return [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        return [(f"{path} member", item) for item in value]
    if dataclasses.is_dataclass(value):
        return [(f"{path}.{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value)]
    return [(f"{path}.{name}", item) for name, item in state_fields(value).items()]


def _rng_text(rng: random.Random) -> str:
    return repr(rng.getstate())


def world_fingerprint(world: World, *, rng: bool = True) -> int:
    """The fingerprint of what decides ``world``'s future (see the module docstring)."""
    timed = world.network.clock != STEPS
    parts: list[str] = []
    for node_id in sorted(world.nodes):
        parts.append(canonical(node_state(world.nodes[node_id]), f"{node_id}'s state"))
    parts.append(canonical(world.storage, "storage"))
    pool: Callable[[Any], tuple[Any, ...]] = (
        (lambda m: (m.src, m.dst, m.msg, m.due)) if timed else (lambda m: (m.src, m.dst, m.msg))
    )
    parts.append(
        "M" + "".join(sorted(canonical(pool(m), "message") for m in world.messages.values()))
    )
    timers = sorted(
        canonical((f.node, f.timer, f.at) if timed else (f.node, f.timer), "timer")
        for f in world.timers.values()
    )
    parts.append("T" + "".join(timers))
    parts.append(
        canonical(
            (
                tuple(world.unstarted),
                world.down,
                world.cuts,
                tuple(world.pending_faults),
                world.crash_budget,
                world.now if timed else None,
                world.round,
            ),
            "world",
        )
    )
    if rng:
        parts.extend(_rng_text(world.outs[node_id].rng) for node_id in sorted(world.outs))
        parts.append(_rng_text(world.faults.rng))
        for name, value in sorted(vars(world.network).items()):
            text = _rng_text(value) if isinstance(value, random.Random) else canonical(value)
            parts.append(f"{name}={text}")
    return digest("|".join(parts))
