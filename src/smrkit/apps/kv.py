"""A key-value store: ``get``, ``put``, ``append`` and ``cas`` on string keys.

Per key, the state is the value (``None`` when never written). ``get`` returns it;
``put`` replaces it; ``append`` concatenates a string onto it (an unwritten key counts as
the empty string); ``cas`` with argument ``(old, new)`` sets ``new`` if the value equals
``old`` and returns whether it did. Keys are independent, so the linearizability checker
may check them one at a time.
"""

from __future__ import annotations

from smrkit.apps.spec import PartitionedStateMachine, SequentialSpec
from smrkit.core.ops import Value
from smrkit.core.state_machine import InvalidOperationError


def kv_step(state: Value, f: str, arg: Value) -> tuple[Value, Value]:
    """One op on one key: ``(state, f, arg) -> (new state, output)``."""
    if f == "get":
        return state, state
    if f == "put":
        return arg, None
    if f == "append":
        if not isinstance(arg, str):
            raise InvalidOperationError(f"append needs a string, got {arg!r}")
        if state is None:
            return arg, None
        if not isinstance(state, str):
            raise InvalidOperationError(f"append to a non-string value {state!r}")
        return state + arg, None
    if f == "cas":
        if not (isinstance(arg, tuple) and len(arg) == 2):
            raise InvalidOperationError(f"cas needs (old, new), got {arg!r}")
        old, new = arg
        if state == old:
            return new, True
        return state, False
    raise InvalidOperationError(f"kv has no op {f!r}")


def _kv_keeps_state(f: str, arg: Value, output: Value) -> bool:
    """A cas that answered ``False`` found another value and changed nothing."""
    return f == "cas" and output is False


KV_SPEC = SequentialSpec(
    name="kv",
    initial=None,
    step=kv_step,
    functions=frozenset({"get", "put", "append", "cas"}),
    read_only=frozenset({"get"}),
    partitioned=True,
    keeps_state_when=_kv_keeps_state,
    returns_state=frozenset({"get"}),
    appends=frozenset({"append"}),
)


class KeyValueStore(PartitionedStateMachine):
    def __init__(self) -> None:
        super().__init__(KV_SPEC)
