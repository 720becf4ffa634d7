"""Sequential specifications: the single definition of what an application's ops mean.

A :class:`SequentialSpec` is a pure step function over the state of one *partition*
(one key of a key-value store, or the whole register). Replicas apply ops through it and
the linearizability checker uses the very same function as its model, so the service
and the checker can never disagree about semantics. When ``partitioned`` is true, ops on
different keys commute and are independent (P-compositionality), which the checker
exploits by checking each key on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smrkit.core.ops import Op, Value
from smrkit.core.state import Configured
from smrkit.core.state_machine import InvalidOperationError

StepFn = Callable[[Value, str, Value], tuple[Value, Value]]
# Whether an op, given its observed output, leaves the state as it is in every state where
# that output is possible (a read; a cas that answered False).
KeepsStateFn = Callable[[str, Value, Value], bool]


def _never(f: str, arg: Value, output: Value) -> bool:
    return False


@dataclass(frozen=True)
class SequentialSpec:
    """What one partition of an application does: ``step(state, f, arg) -> (state', out)``."""

    name: str
    initial: Value
    step: StepFn
    functions: frozenset[str]
    read_only: frozenset[str]
    partitioned: bool
    keeps_state_when: KeepsStateFn = _never
    # Read-only ops whose output is the state itself (a kv get): the checker finds the
    # reads that fit a state by looking the state up, instead of trying each.
    returns_state: frozenset[str] = frozenset()
    # Ops whose new state is the old one with something added at its end (a kv append
    # onto a string; ``None`` counts as empty). Where a key's only state-changing ops are
    # these, its states only grow, so a read can never see a state that is not a prefix
    # of its output: the checker prunes every order that breaks that.
    appends: frozenset[str] = frozenset()

    def keeps_state(self, f: str, arg: Value, output: Value) -> bool:
        """Whether ``f(arg)`` answering ``output`` never changes the state: a read-only
        op, or one that ``keeps_state_when`` names (a cas that answered ``False``).

        The linearizability checker places such an op as soon as its output fits,
        without trying other orders: moving it earlier changes no other op's state.
        """
        return f in self.read_only or self.keeps_state_when(f, arg, output)

    def partition_of(self, op: Op) -> str | None:
        """The partition an op touches (its key), or ``None`` for a single-state app."""
        return op.key if self.partitioned else None

    def check_op(self, op: Op) -> None:
        """Raise :class:`InvalidOperationError` unless ``op`` is one this app defines."""
        if op.f not in self.functions:
            known = ", ".join(sorted(self.functions))
            raise InvalidOperationError(f"{self.name} has no op {op.f!r} (it has {known})")
        if self.partitioned and op.key is None:
            raise InvalidOperationError(f"{self.name} op {op.f!r} needs a key")


class PartitionedStateMachine(Configured):
    """A :class:`~smrkit.core.StateMachine` built from a spec: one state per partition.
    The spec (with its step function) is configuration; the partitions' states are state."""

    config_fields = ("spec", "name")

    def __init__(self, spec: SequentialSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self._state: dict[str | None, Value] = {}

    def apply(self, op: Op) -> Value:
        self.spec.check_op(op)
        part = self.spec.partition_of(op)
        current = self._state.get(part, self.spec.initial)
        new, output = self.spec.step(current, op.f, op.value)
        if new == self.spec.initial and type(new) is type(self.spec.initial):
            self._state.pop(part, None)
        else:
            self._state[part] = new
        return output

    def read(self, part: str | None = None) -> Value:
        """The current state of one partition (for tests and reports)."""
        return self._state.get(part, self.spec.initial)

    def snapshot(self) -> Value:
        items = sorted(self._state.items(), key=lambda kv: "" if kv[0] is None else kv[0])
        return tuple((part, value) for part, value in items)

    def restore(self, snapshot: Value) -> None:
        if not isinstance(snapshot, tuple):
            raise ValueError(f"not a {self.name} snapshot: {snapshot!r}")
        state: dict[str | None, Value] = {}
        for item in snapshot:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise ValueError(f"not a {self.name} snapshot entry: {item!r}")
            part, value = item
            if part is not None and not isinstance(part, str):
                raise ValueError(f"bad partition in {self.name} snapshot: {part!r}")
            state[part] = value
        self._state = state
