"""The deterministic state machine a replicated service runs (seed 002, step 1).

Replicas that start in the same state and apply the same commands in the same order end
in the same state and produce the same outputs; that is the whole premise of state
machine replication, so an application must not read clocks, randomness or anything
outside its own state.
"""

from __future__ import annotations

from typing import Protocol

from smrkit.core.ops import Op, Value


class InvalidOperationError(ValueError):
    """An op the application does not define (a typed error, never a crash of a replica)."""


class StateMachine(Protocol):
    """An application: apply ops, and copy or replace its state wholesale."""

    name: str

    def apply(self, op: Op) -> Value:
        """Apply ``op`` and return its output. Raises :class:`InvalidOperationError`."""
        ...

    def snapshot(self) -> Value:
        """The whole state as an immutable value (for state transfer)."""
        ...

    def restore(self, snapshot: Value) -> None:
        """Replace the state with a snapshot taken by :meth:`snapshot`."""
        ...
