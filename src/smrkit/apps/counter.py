"""A counter: ``add n`` returns the new total, ``read`` returns the total (initially 0)."""

from __future__ import annotations

from smrkit.apps.spec import PartitionedStateMachine, SequentialSpec
from smrkit.core.ops import Value
from smrkit.core.state_machine import InvalidOperationError


def counter_step(state: Value, f: str, arg: Value) -> tuple[Value, Value]:
    if not isinstance(state, int):
        raise InvalidOperationError(f"counter state is not an integer: {state!r}")
    if f == "read":
        return state, state
    if f == "add":
        if not isinstance(arg, int) or isinstance(arg, bool):
            raise InvalidOperationError(f"add needs an integer, got {arg!r}")
        total = state + arg
        return total, total
    raise InvalidOperationError(f"counter has no op {f!r}")


def _add_keeps_state(f: str, arg: Value, output: Value) -> bool:
    """Adding zero changes nothing."""
    return f == "add" and arg == 0 and type(arg) is int


COUNTER_SPEC = SequentialSpec(
    name="counter",
    initial=0,
    step=counter_step,
    functions=frozenset({"read", "add"}),
    read_only=frozenset({"read"}),
    partitioned=False,
    keeps_state_when=_add_keeps_state,
    returns_state=frozenset({"read"}),
)


class Counter(PartitionedStateMachine):
    def __init__(self) -> None:
        super().__init__(COUNTER_SPEC)
