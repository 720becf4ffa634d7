"""History parsers: smrkit JSON Lines (and its writer), Jepsen etcd logs, EDN kv logs."""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smrkit.check.edn import Keyword, read_edn
from smrkit.check.history import History, Operation, Status
from smrkit.check.linearizability import check_linearizability
from smrkit.check.parsers import (
    SINGLE_KEY,
    HistoryFormatError,
    infer_model,
    load_history,
    read_history,
    sniff_format,
    write_jsonl,
)
from smrkit.core.ops import Value

INF = math.inf


def parse_jsonl(path: Path, model: str | None = None) -> History:
    return load_history(path, "jsonl", model)


def parse_jepsen_etcd(path: Path) -> History:
    return load_history(path, "jepsen-etcd")


def parse_jepsen_kv(path: Path) -> History:
    return load_history(path, "jepsen-kv")


def sniff(path: Path) -> str:
    return sniff_format(path.read_text(), str(path))


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def etcd(process: int | str, kind: str, f: str, value: str) -> str:
    return f"INFO  jepsen.util - {process}\t:{kind}\t:{f}\t{value}"


def same_ops(a: list[Operation], b: list[Operation]) -> None:
    assert [replace(o) for o in a] == [replace(o) for o in b]


# ---------------------------------------------------------------------------------------
# JSON Lines: writer and reader round trip


def sample_history() -> History:
    def o(i: int, **fields: object) -> Operation:
        base: dict[str, object] = {
            "id": i,
            "process": f"c{i % 3}",
            "f": "get",
            "key": "x",
            "arg": None,
            "output": None,
            "status": Status.OK,
            "call": float(i),
            "ret": i + 0.5,
        }
        base.update(fields)
        return Operation(**base)  # type: ignore[arg-type]

    ops = [
        o(0, f="put", arg="a"),
        o(1, f="cas", arg=("a", "b"), output=True),
        o(2, f="cas", arg=("z", "c"), output=False, key="y"),
        o(3, f="get", output="b"),
        o(4, f="append", arg="q", status=Status.INFO, ret=INF),
        o(5, f="get", output=None, output_known=False),
        o(6, f="put", arg=("t", 1), status=Status.FAIL),
        o(7, f="get", output=("t", 1), call=7.0, ret=7.0),
    ]
    return History(ops=ops, model="kv", initial=None, meta={"seed": 7})


def test_round_trip(tmp_path: Path) -> None:
    history = sample_history()
    path = tmp_path / "h.jsonl"
    write_jsonl(history, path)
    back = parse_jsonl(path)
    same_ops(back.ops, history.ops)
    assert (back.model, back.initial, back.meta) == ("kv", None, {"seed": 7})
    assert back.source == str(path)
    first = json.loads(path.read_text().splitlines()[0])
    assert first == {
        "smrkit": "history",
        "version": 1,
        "model": "kv",
        "initial": None,
        "meta": {"seed": 7},
    }


def test_write_to_an_open_file() -> None:
    buffer = io.StringIO()
    write_jsonl(sample_history(), buffer)
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1 + 2 * len(sample_history().ops)
    assert all(isinstance(json.loads(line), dict) for line in lines)


def test_a_process_may_call_when_its_previous_op_returns(tmp_path: Path) -> None:
    ops = [
        Operation(0, "c1", "put", "x", "a", None, Status.OK, 0.0, 1.0),
        Operation(1, "c1", "get", "x", None, "a", Status.OK, 1.0, 2.0),
    ]
    path = tmp_path / "h.jsonl"
    write_jsonl(History(ops=ops), path)
    same_ops(parse_jsonl(path).ops, ops)


@st.composite
def histories(draw: st.DrawFn) -> History:
    """Arbitrary well-formed kv histories: each process runs one op at a time."""
    ops: list[Operation] = []
    free_at: dict[str, float] = {}
    for i in range(draw(st.integers(0, 12))):
        process = draw(st.sampled_from(["c1", "c2", "c3"]))
        call = free_at.get(process, 0.0) + draw(st.integers(0, 3)) / 2
        status = draw(st.sampled_from(list(Status)))
        ret = INF if status is Status.INFO else call + draw(st.integers(0, 4)) / 2
        free_at[process] = call if status is Status.INFO else ret
        f = draw(st.sampled_from(["get", "put", "append", "cas"]))
        arg: Value = None
        output: Value = None
        if f == "cas":
            arg = (draw(st.sampled_from([None, "a"])), "b")
            output = draw(st.booleans())
        elif f == "get":
            output = draw(st.sampled_from([None, "a", "ab", ("n", 1)]))
        else:
            arg = draw(st.sampled_from(["a", "b"]))
        if status is not Status.OK:
            output = None
        ops.append(
            Operation(
                id=i,
                process=process,
                f=f,
                key=draw(st.sampled_from(["x", "y"])),
                arg=arg,
                output=output,
                status=status,
                call=call,
                ret=ret,
                output_known=status is not Status.OK or draw(st.integers(0, 5)) > 0,
            )
        )
    ops.sort(key=lambda o: (o.call, o.id))
    return History(ops=[replace(o, id=i) for i, o in enumerate(ops)], model="kv")


@settings(max_examples=150, derandomize=True, deadline=None)
@given(histories())
def test_round_trip_generated(history: History) -> None:
    buffer = io.StringIO()
    write_jsonl(history, buffer)
    text = buffer.getvalue()
    path = _scratch(text)
    try:
        back = parse_jsonl(path)
    finally:
        os.unlink(path)
    same_ops(back.ops, [_normalised(o) for o in history.ops])


def _normalised(op: Operation) -> Operation:
    """What the reader gives back: an unknown output is recorded as None."""
    if op.status is Status.OK and not op.output_known:
        return replace(op, output=None)
    return op


def _scratch(text: str) -> str:
    import tempfile

    handle, name = tempfile.mkstemp(suffix=".jsonl")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    return name


# ---------------------------------------------------------------------------------------
# JSON Lines: reading other writers' files


def test_jepsen_style_jsonl(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "h.jsonl",
        [
            '{"process": 1, "type": "invoke", "f": "write", "value": 3}',
            '{"process": 1, "type": "ok", "f": "write", "value": 3}',
            '{"process": 2, "type": "invoke", "f": "cas", "value": [3, 4]}',
            '{"process": 2, "type": "ok", "f": "cas", "value": [3, 4]}',
            '{"process": 1, "type": "invoke", "f": "read", "value": null}',
            '{"process": 1, "type": "ok", "f": "read", "value": 4}',
            '{"process": 3, "type": "invoke", "f": "read", "value": null}',
            '{"process": 3, "type": "fail", "f": "read", "value": null}',
            '{"process": 4, "type": "invoke", "f": "write", "value": 9}',
        ],
    )
    history = parse_jsonl(path)
    assert history.model == "kv"
    assert [(o.process, o.f, o.key) for o in history.ops] == [
        ("1", "put", SINGLE_KEY),
        ("2", "cas", SINGLE_KEY),
        ("1", "get", SINGLE_KEY),
        ("3", "get", SINGLE_KEY),
        ("4", "put", SINGLE_KEY),
    ]
    assert [o.output for o in history.ops[:3]] == [None, True, 4]
    assert [o.status for o in history.ops[3:]] == [Status.FAIL, Status.INFO]
    assert [o.call for o in history.ops] == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert history.ops[4].ret == INF
    assert check_linearizability(history).verdict == "linearizable"


def test_header_selects_model_and_initial(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "c.jsonl",
        [
            '{"smrkit": "history", "version": 1, "model": "counter", "initial": 10}',
            '{"process": "c1", "type": "invoke", "f": "add", "value": 2, "time": 0.5}',
            '{"process": "c1", "type": "ok", "f": "add", "value": 12, "time": 0.75}',
            '{"process": "c2", "type": "invoke", "f": "add", "value": 1, "time": 0.8}',
            '{"process": "c2", "type": "ok", "f": "add", "value": null, "time": 0.9}',
        ],
    )
    history = parse_jsonl(path)
    assert (history.model, history.initial) == ("counter", 10)
    assert history.ops[0].output == 12 and history.ops[0].output_known
    assert not history.ops[1].output_known
    assert (history.ops[0].call, history.ops[0].ret) == (0.5, 0.75)


def test_model_is_inferred_and_overridable(tmp_path: Path) -> None:
    assert infer_model(["read", "add"]) == "counter"
    assert infer_model(["get", "read"]) == "kv"
    assert infer_model(["read", "write"]) == "kv"
    path = write(
        tmp_path,
        "r.jsonl",
        [
            '{"process": "a", "type": "invoke", "f": "write", "value": 1}',
            '{"process": "a", "type": "ok", "f": "write", "value": 1}',
        ],
    )
    assert parse_jsonl(path).ops[0].f == "put"
    register = parse_jsonl(path, model="register")
    assert (register.model, register.ops[0].f, register.ops[0].output) == ("register", "write", 1)
    assert load_history(path, "auto", model="register").model == "register"


def test_explicit_unknown_output(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "u.jsonl",
        [
            '{"process": "a", "type": "invoke", "f": "get", "key": "k"}',
            '{"process": "a", "type": "ok", "f": "get", "key": "k", "output_known": false}',
        ],
    )
    (op,) = parse_jsonl(path).ops
    assert (op.output, op.output_known) == (None, False)


@pytest.mark.parametrize(
    ("lines", "line", "expected"),
    [
        (['{"process": "a", "type": "invoke", "f": "get", "key": "k"}', "{nope"], 2, "JSON"),
        (["[1, 2]"], 1, "JSON object"),
        (['{"process": "a", "type": "begin", "f": "get"}'], 1, '"type"'),
        (['{"type": "invoke", "f": "get"}'], 1, '"process"'),
        (['{"process": "a", "type": "invoke", "f": "get", "time": "noon"}'], 1, '"time"'),
        (['{"process": "a", "type": "ok", "f": "get", "value": 1}'], 1, "no pending"),
        (
            [
                '{"process": "a", "type": "invoke", "f": "get", "key": "k"}',
                '{"process": "a", "type": "invoke", "f": "get", "key": "k"}',
            ],
            2,
            "still pending",
        ),
        (
            [
                '{"process": "a", "type": "invoke", "f": "get", "key": "k"}',
                '{"process": "a", "type": "ok", "f": "put", "key": "k"}',
            ],
            2,
            "pending invocation",
        ),
        (['{"process": "a", "type": "invoke", "f": "frob", "key": "k"}'], 1, "no op 'frob'"),
        (['{"process": "a", "type": "invoke", "f": "cas", "key": "k", "value": 1}'], 1, "cas"),
        (
            [
                '{"process": "a", "type": "invoke", "f": "cas", "value": [1, 2]}',
                '{"process": "a", "type": "ok", "f": "cas", "value": 7}',
            ],
            2,
            "true, false",
        ),
        (
            [
                '{"process": "a", "type": "invoke", "f": "get", "time": 5}',
                '{"process": "a", "type": "ok", "f": "get", "time": 4}',
            ],
            2,
            "before its call",
        ),
        (['{"process": 1, "type": "invoke", "f": "get"}', '{"smrkit": "history"}'], 2, "first"),
        (['{"smrkit": "history", "version": 2}'], 1, "version"),
        (
            ['{"smrkit": "history", "version": 1, "model": "counter", "initial": null}'],
            1,
            "initial",
        ),
    ],
)
def test_malformed_jsonl(tmp_path: Path, lines: list[str], line: int, expected: str) -> None:
    path = write(tmp_path, "bad.jsonl", lines)
    with pytest.raises(HistoryFormatError) as caught:
        parse_jsonl(path)
    error = caught.value
    assert error.line == line
    assert str(error).startswith(f"{path}, line {line}: ")
    assert expected in str(error)
    assert "\n" not in str(error)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.jsonl"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(HistoryFormatError, match="UTF-8"):
        parse_jsonl(path)


# ---------------------------------------------------------------------------------------
# Jepsen etcd logs


def test_etcd_events(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.log",
        [
            etcd(0, "invoke", "write", "4"),
            etcd(1, "invoke", "read", "nil"),
            etcd(0, "ok", "write", "4"),
            etcd(1, "ok", "read", "nil"),
            etcd(2, "invoke", "cas", "[4 0]"),
            etcd(2, "ok", "cas", "[4 0]"),
            etcd(3, "invoke", "cas", "[4 1]"),
            etcd(3, "fail", "cas", "[4 1]"),
            etcd(4, "invoke", "read", "nil"),
            etcd(4, "fail", "read", ":timed-out"),
            etcd(1, "invoke", "write", "2"),
            etcd(1, "fail", "write", "2"),
            etcd(0, "invoke", "read", "nil"),
        ],
    )
    history = parse_jepsen_etcd(path)
    assert (history.model, history.initial) == ("kv", None)
    summary = [(o.process, o.f, o.arg, o.output, o.status, o.output_known) for o in history.ops]
    assert summary == [
        ("0", "put", 4, None, Status.OK, True),
        ("1", "get", None, None, Status.OK, True),
        ("2", "cas", (4, 0), True, Status.OK, True),
        ("3", "cas", (4, 1), False, Status.OK, True),
        ("4", "get", None, None, Status.OK, False),
        ("1", "put", 2, None, Status.FAIL, True),
        ("0", "get", None, None, Status.INFO, True),
    ]
    assert all(o.key == SINGLE_KEY for o in history.ops)
    assert [(o.call, o.ret) for o in history.ops[:2]] == [(1.0, 3.0), (2.0, 4.0)]
    assert history.ops[-1].ret == INF


def test_etcd_process_after_info_is_a_new_process(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.log",
        [
            etcd(3, "invoke", "write", "1"),
            etcd(3, "info", "write", ":timed-out"),
            etcd(3, "invoke", "read", "nil"),
            etcd(3, "ok", "read", "1"),
            etcd(3, "invoke", "cas", "[1 2]"),
            etcd(3, "info", "cas", ":timed-out"),
            etcd(3, "invoke", "read", "nil"),
            etcd(":nemesis", "info", "start", "nil"),
        ],
    )
    history = parse_jepsen_etcd(path)
    assert [(o.process, o.status) for o in history.ops] == [
        ("3", Status.INFO),
        ("3#2", Status.OK),
        ("3#2", Status.INFO),
        ("3#3", Status.INFO),
    ]
    assert len({o.id for o in history.ops}) == 4
    assert history.ops[1].output == 1


def test_etcd_lines_may_carry_a_timestamp(tmp_path: Path) -> None:
    stamp = "2015-01-04 18:44:27,118{GMT}\t"
    path = write(
        tmp_path,
        "e.log",
        [stamp + etcd(0, "invoke", "read", "nil"), stamp + etcd(0, "ok", "read", "3")],
    )
    (op,) = parse_jepsen_etcd(path).ops
    assert (op.f, op.output, op.call, op.ret) == ("get", 3, 1.0, 2.0)
    assert sniff(path) == "jepsen-etcd"


@pytest.mark.parametrize(
    ("lines", "line", "expected"),
    [
        (["garbage"], 1, "jepsen.util"),
        ([etcd(0, "invoke", "delete", "nil")], 1, ":delete"),
        ([etcd(0, "invoke", "write", "four")], 1, "bad value"),
        ([etcd(0, "invoke", "cas", "[1]")], 1, "[old new]"),
        ([etcd(0, "ok", "read", "1")], 1, "no pending"),
        ([etcd(0, "invoke", "read", "nil"), etcd(0, "invoke", "read", "nil")], 2, "pending"),
        ([etcd(0, "invoke", "read", "nil"), etcd(0, "ok", "write", "1")], 2, "is get"),
        ([etcd(0, "invoke", "read", "nil"), etcd(0, "done", "read", "1")], 2, ":done"),
        ([etcd(0, "done", "read", "1")], 1, ":done"),
    ],
)
def test_malformed_etcd(tmp_path: Path, lines: list[str], line: int, expected: str) -> None:
    path = write(tmp_path, "bad.log", lines)
    with pytest.raises(HistoryFormatError) as caught:
        parse_jepsen_etcd(path)
    assert caught.value.line == line
    assert expected in str(caught.value)


# ---------------------------------------------------------------------------------------
# EDN kv logs


def test_read_edn() -> None:
    text = r'{:a 1, :b -2 :c "q\"x\\y\n\u00e9" :d [1 [2 nil] (true false)] :e 1.5 "k" :kw}'
    assert read_edn(text) == {
        Keyword("a"): 1,
        Keyword("b"): -2,
        Keyword("c"): 'q"x\\y\né',
        Keyword("d"): [1, [2, None], [True, False]],
        Keyword("e"): 1.5,
        "k": Keyword("kw"),
    }


@pytest.mark.parametrize("text", ['{:a "open', "{:a 1", "{:a}", "[1 2] 3", r'"\q"', "@x", ""])
def test_read_edn_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        read_edn(text)


def test_edn_kv(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "kv.txt",
        [
            '{:process 1, :type :invoke, :f :append, :key "0", :value "x 1 0 y"}',
            '{:process 2, :type :invoke, :f :get, :key "0", :value nil}',
            '{:process 1, :type :ok, :f :append, :key "0", :value "x 1 0 y"}',
            '{:process 2, :type :ok, :f :get, :key "0", :value "x 1 0 y"}',
            '{:process 3, :type :invoke, :f :put, :key 7, :value "v"}',
            "{:process 3, :type :info, :f :put, :key 7, :value :timed-out}",
            "{:process :nemesis, :type :info, :f :start, :value nil}",
        ],
    )
    history = parse_jepsen_kv(path)
    assert (history.model, history.initial) == ("kv", "")
    summary = [(o.process, o.f, o.key, o.arg, o.output, o.status) for o in history.ops]
    assert summary == [
        ("1", "append", "0", "x 1 0 y", None, Status.OK),
        ("2", "get", "0", None, "x 1 0 y", Status.OK),
        ("3", "put", "7", "v", None, Status.INFO),
    ]
    assert check_linearizability(history).verdict == "linearizable"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{:process 1, :type :invoke}", ":f"),
        ('{:process 1, :type :start, :f :get, :key "k"}', ":type"),
        ('{:process 1, :type :invoke, :f :get, :key "k", :value "a', "unterminated"),
        ('{:process 1, :type :invoke, :f :put, :key "k", :value :v}', "keyword"),
        ("[1 2]", "expected a map"),
    ],
)
def test_malformed_edn_kv(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "bad.txt", ['{:process 0, :type :invoke, :f :get, :key "k"}', text])
    with pytest.raises(HistoryFormatError) as caught:
        parse_jepsen_kv(path)
    assert caught.value.line == 2
    assert expected in str(caught.value)


# ---------------------------------------------------------------------------------------
# Jepsen EDN histories (and Maelstrom's lin-kv)


def test_edn_single_register() -> None:
    text = "\n".join(
        [
            "{:type :invoke, :f :write, :value 3, :process 0, :time 1000, :index 0}",
            "{:type :invoke, :f :read, :value nil, :process 1, :time 2000, :index 1}",
            "{:type :ok, :f :write, :value 3, :process 0, :time 3000, :index 2}",
            "{:type :ok, :f :read, :value 3, :process 1, :time 4000, :index 3}",
            "{:type :invoke, :f :cas, :value [3 4], :process 0, :time 5000, :index 4}",
            "{:type :fail, :f :cas, :value [3 4], :process 0, :time 6000, :index 5}",
            "{:type :invoke, :f :cas, :value [3 5], :process 1, :time 7000, :index 6}",
            "{:type :info, :f :cas, :value [3 5], :process 1, :time 8000, :error :timeout}",
            "{:type :info, :f :start, :value nil, :process :nemesis, :time 9000}",
            "{:type :invoke, :f :read, :value nil, :process 6, :time 10000, :index 7}",
            "{:type :ok, :f :read, :value nil, :process 6, :time 11000, :index 8}",
        ]
    )
    history = read_history(text, "h.edn")
    assert (history.model, history.initial) == ("kv", None)
    summary = [(o.process, o.f, o.key, o.arg, o.output, o.status) for o in history.ops]
    assert summary == [
        ("0", "put", SINGLE_KEY, 3, None, Status.OK),
        ("1", "get", SINGLE_KEY, None, 3, Status.OK),
        ("0", "cas", SINGLE_KEY, (3, 4), None, Status.FAIL),
        ("1", "cas", SINGLE_KEY, (3, 5), None, Status.INFO),
        ("6", "get", SINGLE_KEY, None, None, Status.OK),
    ]
    # :time is in nanoseconds; the ops keep it, in seconds.
    assert (history.ops[0].call, history.ops[0].ret) == (1e-6, 3e-6)
    assert history.meta["time_unit"] == "s"
    # A read of nil after a write of 3 saw no value: not linearizable (Knossos would
    # accept it; see parse_jepsen_edn).
    assert check_linearizability(history).verdict == "violation"


MAELSTROM_LIN_KV = """[
#jepsen.history.Op{:index 0, :time 10, :type :invoke, :process 0, :f :write, :value [1 4]}
#jepsen.history.Op{:index 1, :time 20, :type :invoke, :process 1, :f :read, :value [2 nil]}
#jepsen.history.Op{:index 2, :time 30, :type :ok, :process 0, :f :write, :value [1 4]}
#jepsen.history.Op{:index 3, :time 40, :type :fail, :process 1, :f :read, :value [2 nil],
                   :error [:key-does-not-exist "key does not exist"]}
#jepsen.history.Op{:index 4, :time 50, :type :invoke, :process 0, :f :cas, :value [1 [4 0]]}
#jepsen.history.Op{:index 5, :time 60, :type :invoke, :process 1, :f :read, :value [1 nil]}
#jepsen.history.Op{:index 6, :time 70, :type :ok, :process 0, :f :cas, :value [1 [4 0]]}
#jepsen.history.Op{:index 7, :time 80, :type :ok, :process 1, :f :read, :value [1 READ]}
{:type :info, :f :kill, :value :all, :process :nemesis, :time 85} ; a nemesis op
]"""


@pytest.mark.parametrize(
    ("seen", "verdict"), [("4", "linearizable"), ("0", "linearizable"), ("3", "violation")]
)
def test_edn_independent_keys_as_maelstrom_writes_them(seen: str, verdict: str) -> None:
    history = read_history(MAELSTROM_LIN_KV.replace("READ", seen), "history.edn")
    summary = [(o.process, o.f, o.key, o.arg, o.output, o.status) for o in history.ops]
    assert summary == [
        ("0", "put", "1", 4, None, Status.OK),
        ("1", "get", "2", None, None, Status.FAIL),
        ("0", "cas", "1", (4, 0), True, Status.OK),
        ("1", "get", "1", None, int(seen), Status.OK),
    ]
    assert check_linearizability(history).verdict == verdict


def test_edn_sniffing_tells_kv_logs_from_histories(tmp_path: Path) -> None:
    kv = write(tmp_path, "kv", ['{:process 0, :type :invoke, :f :get, :key "k", :value nil}'])
    edn = write(tmp_path, "edn", ["{:process 0, :type :invoke, :f :read, :value nil}"])
    record = write(tmp_path, "rec", [MAELSTROM_LIN_KV])
    assert [sniff(p) for p in (kv, edn, record)] == ["jepsen-kv", "jepsen-edn", "jepsen-edn"]


@pytest.mark.parametrize(
    ("lines", "line", "expected"),
    [
        (["{:process 0, :type :invoke, :f :frob, :value 1}"], 1, "unknown op :frob"),
        (["{:process 0, :type :invoke, :f :write}", "{:process 0, :type :invoke"], 2, "missing"),
        (["{:process 0, :type :invoke, :f :cas, :value 3}"], 1, "cas needs"),
        (
            [
                "{:process 0, :type :invoke, :f :read, :value [1 nil]}",
                "{:process 0, :type :ok, :f :read, :value [2 5]}",
            ],
            2,
            "key 2 of an op invoked on key 1",
        ),
        (["{:process 0, :type :ok, :f :read, :value 1}"], 1, "no pending invocation"),
        (["{:process true, :type :invoke, :f :read}"], 1, ":process"),
    ],
)
def test_malformed_edn_history(lines: list[str], line: int, expected: str) -> None:
    with pytest.raises(HistoryFormatError) as caught:
        read_history("\n".join(lines), "bad.edn", "jepsen-edn")
    assert caught.value.line == line
    assert expected in str(caught.value)


def test_edn_reader_extras() -> None:
    assert read_edn("#{1 2}") == [1, 2]
    assert read_edn("[1 #_ 2 3 ; comment\n 4]") == [1, 3, 4]
    assert read_edn("#my.Record{:a \\b}") == {Keyword("a"): "b"}
    with pytest.raises(ValueError, match="line 2"):
        read_history("{:process 0, :type :invoke, :f :read}\n{:process 0 :type", "x", "jepsen-edn")


def test_empty_text_is_an_empty_history(tmp_path: Path) -> None:
    for fmt in ("auto", "jsonl", "jepsen-etcd", "jepsen-kv", "jepsen-edn"):
        history = read_history("\n  \n", "empty", fmt)
        assert history.ops == []
    assert load_history(write(tmp_path, "e", [""])).ops == []
    assert read_history("", "e", "jepsen-kv").initial == ""
    assert read_history("", "e", model="counter").initial == 0


# ---------------------------------------------------------------------------------------
# Choosing the format


def test_sniffing(tmp_path: Path) -> None:
    jsonl = write(tmp_path, "a", ["", '{"process": 1, "type": "invoke", "f": "get", "key": "k"}'])
    edn = write(tmp_path, "b", ['{:process 0, :type :invoke, :f :get, :key "k"}'])
    log = write(tmp_path, "c", [etcd(0, "invoke", "read", "nil")])
    assert [sniff(p) for p in (jsonl, edn, log)] == ["jsonl", "jepsen-kv", "jepsen-etcd"]
    assert load_history(edn).initial == ""
    assert load_history(log, "jepsen-etcd").ops[0].key == SINGLE_KEY
    for text in (["hello"], ["{oops"], ["[1 2]"]):
        with pytest.raises(HistoryFormatError, match="cannot tell the format"):
            load_history(write(tmp_path, "d", text))
    with pytest.raises(HistoryFormatError, match="kv histories"):
        load_history(log, "auto", model="counter")
    with pytest.raises(ValueError, match="unknown format"):
        load_history(log, "csv")


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load_history(tmp_path / "nope.jsonl")
