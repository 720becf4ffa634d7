"""The linearizability checker: hand-written cases, generated histories, real test data."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smrkit.apps import SPECS
from smrkit.check.history import History, Operation, Status
from smrkit.check.lin_search import STRATEGIES
from smrkit.check.linearizability import (
    LinearizabilityResult,
    check_linearizability,
    operation_to_json,
)
from smrkit.check.parsers import load_history
from smrkit.core.ops import Value
from testdata_location import MISSING, find_testdata

INF = math.inf


def op(
    id: int,
    f: str,
    arg: Value = None,
    output: Value = None,
    call: float = 0.0,
    ret: float = 1.0,
    *,
    key: str | None = "x",
    status: Status = Status.OK,
    known: bool = True,
    process: str | None = None,
) -> Operation:
    return Operation(
        id=id,
        process=process or f"c{id}",
        f=f,
        key=key,
        arg=arg,
        output=output,
        status=status,
        call=call,
        ret=INF if status is Status.INFO else ret,
        output_known=known,
    )


def check(ops: list[Operation], model: str = "kv", initial: Value = None) -> LinearizabilityResult:
    return check_linearizability(History(ops=ops, model=model, initial=initial))


# ---------------------------------------------------------------------------------------
# Hand-written cases


def test_empty_history_is_linearizable() -> None:
    result = check([])
    assert result.verdict == "linearizable"
    assert result.ops == 0
    assert result.witness is None


def test_sequential_ok() -> None:
    ops = [
        op(0, "put", "a", None, 0, 1),
        op(1, "get", None, "a", 2, 3),
        op(2, "append", "b", None, 4, 5),
        op(3, "get", None, "ab", 6, 7),
    ]
    assert check(ops).verdict == "linearizable"


@pytest.mark.parametrize("seen", ["a", None])
def test_read_concurrent_with_write_may_see_either(seen: Value) -> None:
    ops = [op(0, "put", "a", None, 0, 10), op(1, "get", None, seen, 2, 5)]
    assert check(ops).verdict == "linearizable"


def test_concurrent_writes_both_orders() -> None:
    def history(last: str) -> list[Operation]:
        return [
            op(0, "put", "a", None, 0, 10),
            op(1, "put", "b", None, 1, 11),
            op(2, "get", None, last, 20, 21),
        ]

    assert check(history("a")).verdict == "linearizable"
    assert check(history("b")).verdict == "linearizable"


def test_stale_read_is_a_violation() -> None:
    ops = [
        op(0, "put", "a", None, 0, 1),
        op(1, "put", "b", None, 2, 3),
        op(2, "get", None, "a", 4, 5),
    ]
    result = check(ops)
    assert result.verdict == "violation"
    witness = result.witness
    assert witness is not None
    assert witness.partition == "x"
    assert [o.id for o, _ in witness.prefix] == [0, 1]
    assert witness.state == "b"
    assert [(o.id, out) for o, out in witness.stuck] == [(2, "b")]
    assert witness.blocking is not None and witness.blocking.id == 2
    text = witness.render()
    assert "#2" in text and "would return 'b'" in text


def test_real_time_order_is_respected() -> None:
    # The read returned before the write was called, so it cannot see it.
    ops = [op(0, "get", None, "a", 0, 1), op(1, "put", "a", None, 2, 3)]
    assert check(ops).verdict == "violation"


@pytest.mark.parametrize("seen", ["a", None])
def test_info_write_may_or_may_not_take_effect(seen: Value) -> None:
    ops = [op(0, "put", "a", status=Status.INFO, call=0), op(1, "get", None, seen, 5, 6)]
    assert check(ops).verdict == "linearizable"


def test_info_write_takes_effect_at_most_once() -> None:
    ops = [
        op(0, "put", "a", status=Status.INFO, call=0),
        op(1, "get", None, "a", 5, 6),
        op(2, "put", "b", None, 7, 8),
        op(3, "get", None, "b", 9, 10),
        op(4, "get", None, "a", 11, 12),
    ]
    assert check(ops).verdict == "violation"


def test_info_write_cannot_take_effect_before_its_call() -> None:
    ops = [op(0, "get", None, "a", 0, 1), op(1, "put", "a", status=Status.INFO, call=5)]
    assert check(ops).verdict == "violation"


def test_fail_ops_are_left_out() -> None:
    ops = [
        op(0, "put", "a", None, 0, 1),
        op(1, "put", "b", None, 2, 3, status=Status.FAIL),
        op(2, "get", None, "a", 4, 5),
    ]
    result = check(ops)
    assert result.verdict == "linearizable"
    assert result.ops == 2


def test_read_with_unknown_output_accepts_anything() -> None:
    ops = [
        op(0, "put", "a", None, 0, 1),
        op(1, "get", None, None, 2, 3, known=False),
        op(2, "get", None, "a", 4, 5),
    ]
    assert check(ops).verdict == "linearizable"


def test_write_with_unknown_output_still_takes_effect() -> None:
    ops = [
        op(0, "put", "a", None, 0, 1, known=False),
        op(1, "get", None, None, 2, 3),
    ]
    assert check(ops).verdict == "violation"


def test_cas_semantics() -> None:
    ok = [
        op(0, "put", 1, None, 0, 1),
        op(1, "cas", (1, 2), True, 2, 3),
        op(2, "cas", (1, 3), False, 4, 5),
        op(3, "get", None, 2, 6, 7),
    ]
    assert check(ok).verdict == "linearizable"
    wrong = [*ok[:2], op(2, "cas", (1, 3), True, 4, 5)]
    result = check(wrong)
    assert result.verdict == "violation"
    assert result.witness is not None
    assert [(o.id, out) for o, out in result.witness.stuck] == [(2, False)]


def test_outputs_must_match_in_type() -> None:
    ops = [op(0, "put", 1, None, 0, 1), op(1, "cas", (1, 2), 1, 2, 3)]
    assert check(ops).verdict == "violation"


def test_initial_state_comes_from_the_history() -> None:
    ops = [op(0, "get", None, "", 0, 1), op(1, "append", "a", None, 2, 3), op(2, "get", None, "a")]
    ops[2] = op(2, "get", None, "a", 4, 5)
    assert check(ops, initial="").verdict == "linearizable"
    assert check(ops, initial=None).verdict == "violation"


def test_keys_are_checked_independently() -> None:
    ops = [
        op(0, "put", "a", None, 0, 1, key="x"),
        op(1, "put", "b", None, 0, 1, key="y"),
        op(2, "get", None, "b", 2, 3, key="x"),
    ]
    result = check(ops)
    assert result.verdict == "violation"
    assert result.partitions == 2
    assert result.witness is not None and result.witness.partition == "x"


def test_register_model() -> None:
    ops = [
        op(0, "write", 1, 1, 0, 10, key=None),
        op(1, "write", 2, 1, 1, 11, key=None),
        op(2, "read", None, 1, 12, 13, key=None),
    ]
    assert check(ops, model="register").verdict == "linearizable"
    two_winners = [*ops[:1], op(1, "write", 2, 2, 1, 11, key=None)]
    result = check(two_winners, model="register")
    assert result.verdict == "violation"
    assert result.witness is not None and result.witness.partition is None


def test_counter_model() -> None:
    ops = [
        op(0, "add", 2, 2, 0, 10, key=None),
        op(1, "add", 3, 5, 1, 11, key=None),
        op(2, "read", None, 5, 12, 13, key=None),
    ]
    assert check(ops, model="counter", initial=0).verdict == "linearizable"
    lost_update = [*ops[:1], op(1, "add", 3, 3, 1, 11, key=None)]
    assert check(lost_update, model="counter", initial=0).verdict == "violation"


def test_unknown_op_is_an_error() -> None:
    with pytest.raises(ValueError, match="no op 'frob'"):
        check([op(0, "frob", None, None)])
    with pytest.raises(ValueError, match="needs a key"):
        check([op(0, "get", None, None, key=None)])
    with pytest.raises(ValueError, match="unknown model"):
        check([], model="queue")


def test_result_json_shape() -> None:
    ops = [op(0, "put", "a", None, 0, 1), op(1, "get", None, "b", 2, 3)]
    data = check(ops).to_json()
    assert set(data) == {"verdict", "ops", "seconds", "witness", "partitions"}
    assert data["verdict"] == "violation"
    json.dumps(data)
    witness = data["witness"]
    assert isinstance(witness, dict)
    assert witness["stuck"][0]["op"]["id"] == 1
    assert witness["stuck"][0]["model_output"] == "a"


def test_operation_json() -> None:
    info = op(3, "cas", (1, 2), None, 1.5, status=Status.INFO, process="c9")
    assert operation_to_json(info) == {
        "id": 3,
        "process": "c9",
        "f": "cas",
        "key": "x",
        "value": [1, 2],
        "output": None,
        "type": "info",
        "call": 1.5,
        "ret": None,
        "output_known": True,
    }


def hard_history(appends: int = 10) -> History:
    """Concurrent appends whose every order gives a different string, a put among them
    (so the states do not only grow, and no read bounds them), then a read of a value
    no order produces: the search has to try (nearly) every order."""
    ops = [op(i, "append", chr(ord("a") + i), None, 0, 100) for i in range(appends)]
    ops.append(op(appends, "put", "", None, 0, 100))
    ops.append(op(appends + 1, "get", None, "never", 200, 201))
    return History(ops=ops, model="kv", initial="")


def test_tiny_timeout_gives_unknown() -> None:
    result = check_linearizability(hard_history(), timeout_s=0.01)
    assert result.verdict == "unknown"
    assert result.witness is None


def test_small_hard_history_is_a_violation() -> None:
    assert check_linearizability(hard_history(4)).verdict == "violation"


# ---------------------------------------------------------------------------------------
# Generated histories: real sequential runs, stretched into concurrent intervals


def _random_op(draw: st.DrawFn, model: str) -> tuple[str, str | None, Value]:
    if model == "kv":
        key = draw(st.sampled_from(["x", "y"]))
        f = draw(st.sampled_from(["get", "put", "append", "cas"]))
        letters = st.sampled_from(["a", "b", "c"])
        if f == "get":
            return f, key, None
        if f == "cas":
            return f, key, (draw(st.sampled_from([None, "", "a", "b"])), draw(letters))
        return f, key, draw(letters)
    if model == "register":
        f = draw(st.sampled_from(["read", "write"]))
        return f, None, None if f == "read" else draw(st.integers(1, 3))
    f = draw(st.sampled_from(["read", "add"]))
    return f, None, None if f == "read" else draw(st.integers(1, 3))


@st.composite
def sequential_histories(draw: st.DrawFn, max_ops: int = 10) -> History:
    """A history that is linearizable by construction.

    Ops run one at a time through the real spec; op k takes effect at instant 10k and is
    given a random interval around it. Some ops never took effect: those end ``fail``
    or ``info``. Some that did end ``info`` instead of ``ok``, or lose their output.
    """
    model = draw(st.sampled_from(["kv", "register", "counter"]))
    spec = SPECS[model]
    initial = draw(st.sampled_from([None, ""])) if model == "kv" else spec.initial
    states: dict[str | None, Value] = {}
    ops: list[Operation] = []
    for k in range(draw(st.integers(0, max_ops))):
        f, key, arg = _random_op(draw, model)
        point = 10.0 * k
        call = point - draw(st.integers(0, 25))
        ret = point + draw(st.integers(0, 25))
        fate = draw(st.sampled_from(["ok"] * 6 + ["info", "unknown", "never-info", "never-fail"]))
        output: Value = None
        if not fate.startswith("never"):
            try:
                states[key], output = spec.step(states.get(key, initial), f, arg)
            except ValueError:  # appending to a non-string, say: leave it out
                continue
        status = {"info": Status.INFO, "never-info": Status.INFO, "never-fail": Status.FAIL}.get(
            fate, Status.OK
        )
        ops.append(
            Operation(
                id=0,
                process=f"c{k}",
                f=f,
                key=key,
                arg=arg,
                output=output if status is Status.OK else None,
                status=status,
                call=call,
                ret=INF if status is Status.INFO else ret,
                output_known=fate != "unknown",
            )
        )
    ops.sort(key=lambda o: (o.call, o.process))
    numbered = [replace(o, id=i) for i, o in enumerate(ops)]
    return History(ops=numbered, model=model, initial=initial)


NEVER: dict[str, Value] = {"kv": "#never#", "register": 99, "counter": -1}
READS = {"kv": "get", "register": "read", "counter": "read"}

FAST = settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(sequential_histories())
def test_generated_histories_are_linearizable(history: History) -> None:
    result = check_linearizability(history)
    assert result.verdict == "linearizable"
    assert result.ops == sum(1 for o in history.ops if o.status is not Status.FAIL)


@FAST
@given(sequential_histories(), st.data())
def test_an_impossible_read_is_a_violation(history: History, data: st.DataObject) -> None:
    reads = [
        i
        for i, o in enumerate(history.ops)
        if o.f == READS[history.model] and o.status is Status.OK and o.output_known
    ]
    if not reads:
        return
    index = data.draw(st.sampled_from(reads))
    ops = list(history.ops)
    ops[index] = replace(ops[index], output=NEVER[history.model])
    result = check_linearizability(history.with_ops(ops))
    assert result.verdict == "violation"
    witness = result.witness
    assert witness is not None
    assert witness.stuck, "the witness names the ops that could not go next"
    assert witness.blocking in [o for o, _ in witness.stuck]
    _assert_prefix_replays(history, witness.prefix, witness.initial, witness.partition)
    assert witness.render()


def _assert_prefix_replays(
    history: History, prefix: list[tuple[Operation, Value]], initial: Value, part: str | None
) -> None:
    """A witness prefix really is a linearization: replaying it gives its states."""
    spec = SPECS[history.model]
    state = initial
    for o, after in prefix:
        assert (o.key if spec.partitioned else None) == part
        state, output = spec.step(state, o.f, o.arg)
        assert state == after
        if o.status is Status.OK and o.output_known:
            assert output == o.output


# ---------------------------------------------------------------------------------------
# Against a brute-force reference on small random histories


def brute_force_linearizable(history: History) -> bool:
    """The definition, searched naively: some order of the ops that respects real time
    (an op that returned before another was called goes first) explains every output;
    ops of unknown outcome may be left out."""
    spec = SPECS[history.model]
    ops = [o for o in history.ops if o.status is not Status.FAIL]

    def search(left: frozenset[int], states: dict[str | None, Value]) -> bool:
        if all(ops[i].status is Status.INFO for i in left):
            return True
        for i in left:
            o = ops[i]
            if any(ops[j].ret < o.call for j in left):
                continue
            key = o.key if spec.partitioned else None
            try:
                new, out = spec.step(states.get(key, history.initial), o.f, o.arg)
            except ValueError:
                continue
            checked = o.status is Status.OK and o.output_known
            if checked and (out != o.output or type(out) is not type(o.output)):
                continue
            if search(left - {i}, {**states, key: new}):
                return True
        return False

    return search(frozenset(range(len(ops))), {})


@st.composite
def perturbed_histories(draw: st.DrawFn) -> History:
    """A linearizable history with some outputs and intervals changed at random, so
    that both verdicts come up."""
    history = draw(sequential_histories(max_ops=7))
    ops = []
    pool: list[Value] = [None, "", "a", "b", "ab", "ba", 1, 2, 3, 5, True, False]
    for original in history.ops:
        changed = original
        if changed.status is Status.OK and draw(st.integers(0, 4)) == 0:
            changed = replace(changed, output=draw(st.sampled_from(pool)))
        if draw(st.integers(0, 5)) == 0:
            call = float(draw(st.integers(-30, 80)))
            ret = INF if changed.status is Status.INFO else call + draw(st.integers(0, 30))
            changed = replace(changed, call=call, ret=ret)
        ops.append(changed)
    return history.with_ops(ops)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(perturbed_histories())
def test_agrees_with_brute_force(history: History) -> None:
    expected = "linearizable" if brute_force_linearizable(history) else "violation"
    assert check_linearizability(history).verdict == expected
    # Each order alone is a complete search too (the race only makes it faster).
    for strategy in STRATEGIES:
        assert check_linearizability(history, strategies=(strategy,)).verdict == expected


def test_brute_force_finds_both_verdicts() -> None:
    """Guard against a vacuous comparison: the generator yields both verdicts."""
    seen: set[bool] = set()

    @settings(max_examples=100, derandomize=True, deadline=None, database=None)
    @given(perturbed_histories())
    def collect(history: History) -> None:
        seen.add(brute_force_linearizable(history))

    collect()
    assert seen == {True, False}


# ---------------------------------------------------------------------------------------
# Real histories with independently established verdicts


TESTDATA = find_testdata()


def _testdata_cases() -> list[object]:
    if TESTDATA is None:
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=MISSING))]
    cases: list[object] = []
    for folder in ("jepsen-etcd", "kv"):
        verdicts = json.loads((TESTDATA / folder / "verdicts.json").read_text())
        for name, linearizable in sorted(verdicts.items()):
            cases.append(pytest.param(TESTDATA / folder / name, linearizable, id=name))
    return cases


@pytest.mark.parametrize(("path", "linearizable"), _testdata_cases())
def test_testdata_verdicts(path: Path, linearizable: bool) -> None:
    result = check_linearizability(load_history(path))
    assert result.verdict == ("linearizable" if linearizable else "violation")
    if not linearizable:
        assert result.witness is not None and result.witness.stuck


# ---------------------------------------------------------------------------------------
# What the check reports per partition


@FAST
@given(sequential_histories())
def test_the_linearization_found_is_one(history: History) -> None:
    """Each partition's order replays through the spec, gives every completed op its
    output, respects real time, and leaves out only ops no order needs."""
    result = check_linearizability(history)
    spec = SPECS[history.model]
    placed: set[int] = set()
    for part in result.details:
        assert part.verdict == "linearizable"
        _assert_prefix_replays(history, part.order, history.initial, part.key)
        for later, (op, _) in enumerate(part.order):
            for earlier_op, _ in part.order[:later]:
                assert not op.ret < earlier_op.call, "real time is respected"
        placed |= {op.id for op, _ in part.order}
        for op in part.left_out:
            assert op.status is Status.FAIL or op.f in spec.read_only
    for op in history.ops:
        must = op.status is Status.OK and not (op.f in spec.read_only and not op.output_known)
        assert not must or op.id in placed


def test_partition_details_on_a_violation() -> None:
    ops = [
        op(0, "put", "a", None, 0, 1, key="x"),
        op(1, "get", None, "b", 2, 3, key="x"),
        op(2, "put", "c", None, 0, 1, key="y"),
        op(3, "get", None, None, 2, 3, key="y", known=False),
    ]
    result = check(ops)
    assert result.verdict == "violation"
    by_key = {part.key: part for part in result.details}
    assert by_key["x"].verdict == "violation"
    assert by_key["x"].witness is result.witness
    assert [o.id for o, _ in by_key["x"].order] == [0]
    # The other key may or may not have been decided before the check stopped.
    assert by_key["y"].verdict in ("linearizable", "unknown")
    assert [o.id for o in by_key["y"].left_out] == [3]


def test_unknown_strategy_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown search strategy"):
        check_linearizability(History(ops=[]), strategies=("random",))
