from __future__ import annotations

import pytest

from smrkit.apps import KV_SPEC, Counter, KeyValueStore, WriteOnceRegister, make_app
from smrkit.core import InvalidOperationError, Op


def test_kv_semantics() -> None:
    kv = KeyValueStore()
    assert kv.apply(Op("get", "x")) is None
    assert kv.apply(Op("put", "x", "a")) is None
    assert kv.apply(Op("append", "x", "b")) is None
    assert kv.apply(Op("get", "x")) == "ab"
    assert kv.apply(Op("append", "y", "z")) is None
    assert kv.apply(Op("get", "y")) == "z"
    assert kv.apply(Op("cas", "x", ("nope", "c"))) is False
    assert kv.apply(Op("cas", "x", ("ab", "c"))) is True
    assert kv.apply(Op("get", "x")) == "c"
    with pytest.raises(InvalidOperationError):
        kv.apply(Op("incr", "x"))
    with pytest.raises(InvalidOperationError):
        kv.apply(Op("get"))
    with pytest.raises(InvalidOperationError):
        kv.apply(Op("cas", "x", "notapair"))


def test_kv_snapshot_restores_state() -> None:
    kv = KeyValueStore()
    kv.apply(Op("put", "b", "2"))
    kv.apply(Op("put", "a", "1"))
    snapshot = kv.snapshot()
    assert snapshot == (("a", "1"), ("b", "2"))
    other = KeyValueStore()
    other.restore(snapshot)
    assert other.apply(Op("get", "a")) == "1" and other.snapshot() == snapshot
    with pytest.raises(ValueError):
        other.restore("garbage")


def test_write_once_register_commits_the_first_write() -> None:
    register = WriteOnceRegister()
    assert register.apply(Op("read")) is None
    assert register.apply(Op("write", None, "C1")) == "C1"
    assert register.apply(Op("write", None, "C2")) == "C1"
    assert register.apply(Op("read")) == "C1"


def test_counter() -> None:
    counter = Counter()
    assert counter.apply(Op("add", None, 3)) == 3
    assert counter.apply(Op("add", None, -1)) == 2
    assert counter.apply(Op("read")) == 2
    with pytest.raises(InvalidOperationError):
        counter.apply(Op("add", None, "x"))


def test_registry_and_spec() -> None:
    assert isinstance(make_app("kv"), KeyValueStore)
    with pytest.raises(ValueError, match="unknown app"):
        make_app("sql")
    assert KV_SPEC.partition_of(Op("get", "k")) == "k"
    assert KV_SPEC.step("ab", "get", None) == ("ab", "ab")
