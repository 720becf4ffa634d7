"""A write-once register, the state machine of seed 000's impossibility proof.

The first ``write`` commits its value; every ``write`` (the first included) returns the
committed value, so a client learns which value won. ``read`` returns the committed value
or ``None``. Two clients that learn different committed values witness a safety
violation, which is exactly what world C of seed 000 produces.
"""

from __future__ import annotations

from smrkit.apps.spec import PartitionedStateMachine, SequentialSpec
from smrkit.core.ops import Value
from smrkit.core.state_machine import InvalidOperationError


def write_once_step(state: Value, f: str, arg: Value) -> tuple[Value, Value]:
    if f == "read":
        return state, state
    if f == "write":
        if arg is None:
            raise InvalidOperationError("write needs a value")
        committed = arg if state is None else state
        return committed, committed
    raise InvalidOperationError(f"register has no op {f!r}")


def _write_keeps_state(f: str, arg: Value, output: Value) -> bool:
    """A write that answered another value lost: the register already held that value."""
    return f == "write" and (output != arg or type(output) is not type(arg))


REGISTER_SPEC = SequentialSpec(
    name="register",
    initial=None,
    step=write_once_step,
    functions=frozenset({"read", "write"}),
    read_only=frozenset({"read"}),
    partitioned=False,
    keeps_state_when=_write_keeps_state,
    returns_state=frozenset({"read"}),
)


class WriteOnceRegister(PartitionedStateMachine):
    def __init__(self) -> None:
        super().__init__(REGISTER_SPEC)
