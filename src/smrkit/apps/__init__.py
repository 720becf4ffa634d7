"""Deterministic applications to replicate, each defined by a sequential spec."""

from __future__ import annotations

from collections.abc import Callable

from smrkit.apps.counter import COUNTER_SPEC, Counter
from smrkit.apps.kv import KV_SPEC, KeyValueStore, kv_step
from smrkit.apps.register import REGISTER_SPEC, WriteOnceRegister
from smrkit.apps.spec import PartitionedStateMachine, SequentialSpec

APPS: dict[str, Callable[[], PartitionedStateMachine]] = {
    "kv": KeyValueStore,
    "register": WriteOnceRegister,
    "counter": Counter,
}

SPECS: dict[str, SequentialSpec] = {
    "kv": KV_SPEC,
    "register": REGISTER_SPEC,
    "counter": COUNTER_SPEC,
}


def make_app(name: str) -> PartitionedStateMachine:
    """A fresh instance of the named application."""
    try:
        return APPS[name]()
    except KeyError:
        raise ValueError(f"unknown app {name!r}; known: {', '.join(sorted(APPS))}") from None


__all__ = [
    "APPS",
    "COUNTER_SPEC",
    "KV_SPEC",
    "REGISTER_SPEC",
    "SPECS",
    "Counter",
    "KeyValueStore",
    "PartitionedStateMachine",
    "SequentialSpec",
    "WriteOnceRegister",
    "kv_step",
    "make_app",
]
