"""smrkit's real cluster against PySyncObj 0.3.17 and etcd 3.4, the same work on each.

Each system runs 3 replicas on loopback, and a command counts as done only once a
majority holds it durably:

* **smrkit**: ``smrkit cluster init --protocol raft`` (``--protocol`` picks another),
  app ``kv``, fsync ``batch`` (storage ``log``, the default: the writes of a batch of
  steps are appended to the replica's log file and fdatasynced together before any of
  their messages leaves), so a reply leaves only after a majority has synced the command;
* **PySyncObj 0.3.17**: 3 processes, each a ``SyncObj`` holding a replicated dict with a
  ``journalFile`` (its file journal), and a small asyncio TCP front end in the same
  process (one line per command: ``ID KEY VALUE``, answered ``ID ok`` from PySyncObj's
  callback, which runs once the leader has committed and applied the entry). PySyncObj
  0.3.17 never syncs its journal (an mmap written in place; ``flush`` exists but only
  ``destroy`` calls it) and writes term and vote with a rename, unsynced. Here the
  journal is synced the way a Raft must, in group commits: a follower holds its
  "I have up to N" replies until the end of the tick (the poll that handled the
  leader's messages), msyncs the journal once (``MS_SYNC``, an fdatasync of the
  mapping) and sends them; the leader msyncs before each tick counts its own copy
  towards a majority or sends entries on. (Syncing before each reply instead cost
  PySyncObj 4-5x at 64 clients.) ``appendEntriesUseBatch`` is off (``--pysyncobj-batch``):
  with it on, as PySyncObj ships, every command waited ~100 ms for the next append
  period, at any load; ``--pysyncobj-fsync off`` measures the journal as it ships;
* **etcd 3.4** (Debian's ``etcd-server``, ``/usr/bin/etcd``): 3 members, each with its
  own data directory; etcd fdatasyncs its WAL before a member acknowledges (the default,
  3.4 cannot turn it off). The load reaches it as etcd's own client does: gRPC
  ``etcdserverpb.KV/Put`` over one HTTP/2 connection (grpcio, pip-installed if missing;
  the request encoded by hand, no generated code). ``--etcd-client http`` goes through
  the v3 JSON gateway instead (``POST /v3/kv/put``, base64 key and value, keep-alive
  HTTP/1.1, one connection per outstanding command): the gateway runs inside etcd and
  cost it more than half its throughput at 64 clients.

The load comes from **a separate load process** (this script with ``--load``, the same
asyncio load generator for all three), over TCP to the leader, closed-loop: ``C``
workers each issue a put (one of 1,000 keys, a 16-byte value), wait for its answer and
issue the next, for ``C`` in ``--clients`` (1, 8, 64, 256). After ``--warmup`` seconds
it measures ``--seconds``: throughput = puts answered in the window / its length;
latency p50/p99 of those puts. A level is *sustained* when its p99 is below 100 ms and
it answered something; a system's sustained throughput is the highest of its sustained
levels (0 when none is). The headline figures are at 64 clients (0 ops/s when 64 clients
are not sustained; at the largest level when 64 is not among ``--clients``). Each
system is started afresh for each repetition (``--repeat``), the systems taking turns;
the JSON line gives medians over the repetitions, and each ratio is the median of the
ratios of the repetitions (each from the same minutes).

CPU: the load process reports its own CPU time in the window, and this script reads
each system's processes' CPU time (``/proc``) over the same window, so the JSON says
how much of the machine's cores each side used.

PySyncObj (and grpcio) are installed with pip into this interpreter's environment if
missing (they are not dependencies of smrkit; ``--no-install`` refuses), and the script
says so. ``--smrkit-fsync never`` is a diagnostic (where smrkit's time goes), not the
comparison. A peer
that cannot be found or started is reported as ``null`` with the reason, and the rest
is measured.

    python bench/vs_peers.py [--quick] [--repeat 3] [--seconds 5] [--clients 1,8,64,256]
        [--protocol raft] [--systems smrkit,pysyncobj,etcd] [--etcd /usr/bin/etcd]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PYSYNCOBJ_VERSION = "0.3.17"
ETCD_DEFAULT = "/usr/bin/etcd"
SUSTAINED_P99_MS = 100.0
HEADLINE_CLIENTS = 64
CLIENTS_DEFAULT = (1, 8, 64, 256)
KEYS = 1000
VALUE_BYTES = 16
OP_TIMEOUT_S = 10.0
START_TIMEOUT_S = 40.0
STOP_TIMEOUT_S = 5.0
ERROR_PAUSE_S = 0.01
"""A worker whose put failed waits this long before the next (no busy loop on a refused
connection)."""
SYSTEMS = ("smrkit", "pysyncobj", "etcd")


# --- the pure parts: percentiles, levels, the sustained rule, the JSON line ----------


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (``None`` when it is empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def level_summary(
    clients: int, latencies_s: list[float], errors: int, window_s: float
) -> dict[str, Any]:
    """One closed-loop level: answered puts per second and their latency (ms)."""
    ms = sorted(x * 1000 for x in latencies_s)
    p50, p99 = percentile(ms, 0.50), percentile(ms, 0.99)
    return {
        "clients": clients,
        "acked": len(ms),
        "errors": errors,
        "window_s": round(window_s, 3),
        "ops_s": round(len(ms) / window_s, 1) if window_s > 0 else 0.0,
        "p50_ms": None if p50 is None else round(p50, 3),
        "p99_ms": None if p99 is None else round(p99, 3),
    }


def is_sustained(level: dict[str, Any]) -> bool:
    """Answered something, with a p99 below ``SUSTAINED_P99_MS``."""
    p99 = level.get("p99_ms")
    return level.get("acked", 0) > 0 and p99 is not None and p99 < SUSTAINED_P99_MS


def sustained_ops_s(levels: list[dict[str, Any]]) -> float:
    """The highest throughput among the sustained levels; 0 when none is."""
    return max((lv["ops_s"] for lv in levels if is_sustained(lv)), default=0.0)


def headline_ops_s(levels: list[dict[str, Any]], clients: int) -> float:
    """The throughput at ``clients`` if that level is sustained, else 0."""
    level = next((lv for lv in levels if lv["clients"] == clients), None)
    return level["ops_s"] if level is not None and is_sustained(level) else 0.0


def ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 3) if theirs > 0 else None


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


@dataclass
class SystemRuns:
    """What one system gave: each repetition's levels, or why it was not measured."""

    name: str
    label: str
    runs: list[list[dict[str, Any]]] = field(default_factory=list)
    missing: str | None = None
    fsync: str = ""
    version: str | None = None
    syncs: list[int] = field(default_factory=list)
    """PySyncObj's journal syncs per repetition: 0 would mean no fsync at all."""


def median_levels(runs: list[list[dict[str, Any]]], clients: list[int]) -> list[dict[str, Any]]:
    """Per level, the medians over the repetitions (throughput, latency, CPU)."""
    table = []
    for c in clients:
        levels = [lv for run in runs for lv in run if lv["clients"] == c]
        if not levels:
            continue
        row: dict[str, Any] = {"clients": c, "runs": len(levels)}
        for key in ("ops_s", "acked", "p50_ms", "p99_ms", "server_cpu_cores", "load_cpu_cores"):
            row[key] = _median([lv.get(key) for lv in levels])
        row["errors"] = sum(lv.get("errors", 0) for lv in levels)
        row["sustained_runs"] = sum(is_sustained(lv) for lv in levels)
        table.append(row)
    return table


def summary(
    systems: dict[str, SystemRuns], clients: list[int], headline: int, settings: dict[str, Any]
) -> dict[str, Any]:
    """The JSON line: headline figures at ``headline`` clients (medians over the
    repetitions), the ratios (medians of each repetition's ratio), the full table, and
    for every peer not measured ``null`` with the reason."""
    ours = systems["smrkit"]
    prefix = "raft" if ours.label == "raft" else "smrkit"
    out: dict[str, Any] = {"bench": "vs_peers", "smrkit_protocol": ours.label, **settings}
    names = {"smrkit": prefix, "pysyncobj": "pysyncobj", "etcd": "etcd"}
    for name, system in systems.items():
        key = names[name]
        if system.missing is not None:
            for figure in ("ops_s", "p50_ms", "p99_ms", "sustained_ops_s"):
                out[f"{key}_{figure}"] = None
            continue
        at = [next((lv for lv in run if lv["clients"] == headline), {}) for run in system.runs]
        out[f"{key}_ops_s"] = _median([headline_ops_s(run, headline) for run in system.runs])
        out[f"{key}_p50_ms"] = _median([lv.get("p50_ms") for lv in at])
        out[f"{key}_p99_ms"] = _median([lv.get("p99_ms") for lv in at])
        out[f"{key}_sustained_ops_s"] = _median([sustained_ops_s(run) for run in system.runs])
    for peer in ("pysyncobj", "etcd"):
        theirs = systems[peer]
        if ours.missing is not None or theirs.missing is not None:
            out[f"ratio_{peer}"] = out[f"ratio_{peer}_sustained"] = None
            continue
        pairs = list(zip(ours.runs, theirs.runs, strict=False))
        out[f"ratio_{peer}"] = _median(
            [ratio(headline_ops_s(a, headline), headline_ops_s(b, headline)) for a, b in pairs]
        )
        out[f"ratio_{peer}_sustained"] = _median(
            [ratio(sustained_ops_s(a), sustained_ops_s(b)) for a, b in pairs]
        )
    out["headline_clients"] = headline
    out["concurrency"] = clients
    out["fsync"] = {name: s.fsync for name, s in systems.items()}
    out["pysyncobj_journal_syncs"] = systems["pysyncobj"].syncs
    out["versions"] = {
        "python": platform.python_version(),
        **{name: s.version for name, s in systems.items()},
    }
    out["missing"] = {name: s.missing for name, s in systems.items() if s.missing is not None}
    out["table"] = {
        names[name]: median_levels(s.runs, clients)
        for name, s in systems.items()
        if s.missing is None
    }
    return out


# --- the load process ------------------------------------------------------------------


class LoadDriver:
    """Puts to one system over the network; ``worker`` numbers the caller (0..C-1)."""

    async def open(self, clients: int) -> None:
        pass

    async def put(self, worker: int, key: str, value: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class SmrkitDriver(LoadDriver):
    """``smrkit.Client``: one session per outstanding command, sent to the primary."""

    def __init__(self, target: dict[str, Any]) -> None:
        self.directory = Path(target["cluster"])
        self.client: Any = None

    async def open(self, clients: int) -> None:
        from smrkit.net.client import Client

        self.client = Client(
            self.directory, op_timeout_s=OP_TIMEOUT_S, sessions_max=max(clients, 1)
        )

    async def put(self, worker: int, key: str, value: str) -> None:
        await self.client.put(key, value)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


class LineDriver(LoadDriver):
    """The PySyncObj front end's line protocol: ``ID KEY VALUE`` → ``ID ok``, many
    commands in flight on one connection; the lines written in one turn of the event
    loop go out in one send, as smrkit's client does."""

    def __init__(self, target: dict[str, Any]) -> None:
        self.host, self.port = target["host"], target["port"]
        self.pending: dict[int, asyncio.Future[bytes]] = {}
        self.next_id = 0
        self.outgoing: list[bytes] = []
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self, clients: int) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.reader is not None
        try:
            while line := await self.reader.readline():
                rid, _, answer = line.strip().partition(b" ")
                future = self.pending.pop(int(rid), None)
                if future is not None and not future.done():
                    future.set_result(answer)
        finally:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the front end closed"))

    def _flush(self) -> None:
        data, self.outgoing = b"".join(self.outgoing), []
        assert self.writer is not None
        self.writer.write(data)

    async def put(self, worker: int, key: str, value: str) -> None:
        self.next_id += 1
        rid = self.next_id
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.pending[rid] = future
        if not self.outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self.outgoing.append(f"{rid} {key} {value}\n".encode())
        try:
            answer = await asyncio.wait_for(future, OP_TIMEOUT_S)
        finally:
            self.pending.pop(rid, None)
        if answer != b"ok":
            raise RuntimeError(f"pysyncobj answered {answer!r}")

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


class EtcdDriver(LoadDriver):
    """etcd's v3 JSON gateway over keep-alive HTTP/1.1, one connection per worker."""

    def __init__(self, target: dict[str, Any]) -> None:
        self.host, self.port = target["host"], target["port"]
        self.conns: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
        self.head = (
            f"POST /v3/kv/put HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()

    async def put(self, worker: int, key: str, value: str) -> None:
        conn = self.conns.get(worker)
        if conn is None:
            conn = self.conns[worker] = await asyncio.open_connection(self.host, self.port)
        reader, writer = conn
        body = (
            b'{"key":"'
            + base64.b64encode(key.encode())
            + b'","value":"'
            + base64.b64encode(value.encode())
            + b'"}'
        )
        writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        try:
            async with asyncio.timeout(OP_TIMEOUT_S):
                await self._response(reader)
        except BaseException:
            del self.conns[worker]
            writer.close()
            raise

    @staticmethod
    async def _response(reader: asyncio.StreamReader) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = None
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, content = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(content)
            elif name == b"transfer-encoding" and b"chunked" in content.lower():
                chunked = True
        if chunked:
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")
        elif length:
            await reader.readexactly(length)
        if status != b"200":
            raise RuntimeError(f"etcd answered HTTP {status.decode()}")

    async def close(self) -> None:
        for _, writer in self.conns.values():
            writer.close()
        self.conns.clear()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def put_request(key: bytes, value: bytes) -> bytes:
    """etcd's ``PutRequest`` in protobuf: field 1 the key, field 2 the value (bytes)."""
    return b"\x0a" + _varint(len(key)) + key + b"\x12" + _varint(len(value)) + value


class EtcdGrpcDriver(LoadDriver):
    """etcd's own protocol: gRPC ``etcdserverpb.KV/Put`` on one HTTP/2 connection, as
    etcd's Go client does (grpcio, the request encoded by :func:`put_request`)."""

    def __init__(self, target: dict[str, Any]) -> None:
        self.address = f"{target['host']}:{target['port']}"
        self.channel: Any = None
        self.rpc: Any = None

    async def open(self, clients: int) -> None:
        import grpc

        self.channel = grpc.aio.insecure_channel(self.address)
        self.rpc = self.channel.unary_unary("/etcdserverpb.KV/Put")

    async def put(self, worker: int, key: str, value: str) -> None:
        answer = await self.rpc(put_request(key.encode(), value.encode()), timeout=OP_TIMEOUT_S)
        if not answer:
            raise RuntimeError("etcd answered an empty PutResponse")

    async def close(self) -> None:
        if self.channel is not None:
            await self.channel.close()


DRIVERS: dict[str, type[LoadDriver]] = {
    "smrkit": SmrkitDriver,
    "pysyncobj": LineDriver,
    "etcd-http": EtcdDriver,
    "etcd-grpc": EtcdGrpcDriver,
}


def _emit(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


async def closed_loop(
    driver: LoadDriver, clients: int, warmup_s: float, seconds: float
) -> dict[str, Any]:
    """``clients`` workers, each issuing its next put when the last one is answered;
    measures the puts answered in the window after ``warmup_s``."""
    await driver.open(clients)
    loop = asyncio.get_running_loop()
    start = loop.time()
    window_start, window_end = start + warmup_s, start + warmup_s + seconds
    latencies: list[float] = []
    errors = [0]
    cpu: dict[str, float] = {}

    async def worker(index: int) -> None:
        j = 0
        while loop.time() < window_end:
            j += 1
            key = f"k{(index * 7919 + j) % KEYS}"
            value = f"{j:0{VALUE_BYTES}d}"[-VALUE_BYTES:]
            issued = loop.time()
            try:
                await driver.put(index, key, value)
            except Exception:
                if window_start <= loop.time() < window_end:
                    errors[0] += 1
                await asyncio.sleep(ERROR_PAUSE_S)
                continue
            done = loop.time()
            if window_start <= done < window_end:
                latencies.append(done - issued)

    async def clock() -> None:
        await asyncio.sleep(max(0.0, window_start - loop.time()))
        cpu["start"] = time.process_time()
        _emit({"event": "window_start", "clients": clients})
        await asyncio.sleep(max(0.0, window_end - loop.time()))
        cpu["end"] = time.process_time()
        _emit({"event": "window_end", "clients": clients})

    await asyncio.gather(clock(), *(worker(i) for i in range(clients)))
    await driver.close()
    result = level_summary(clients, latencies, errors[0], seconds)
    result["load_cpu_cores"] = round((cpu["end"] - cpu["start"]) / seconds, 3)
    return result


def load_process(spec: dict[str, Any]) -> None:
    """The load process: each level in turn, one JSON event line per step."""
    for clients in spec["clients"]:
        driver = DRIVERS[spec["target"]["driver"]](spec["target"])
        level = asyncio.run(closed_loop(driver, clients, spec["warmup_s"], spec["seconds"]))
        _emit({"event": "level", **level})


# --- PySyncObj: a node process with its TCP front end ------------------------------------


def pysyncobj_node(spec: dict[str, Any]) -> None:
    """One PySyncObj replica and its front end (see the module docstring)."""
    from pysyncobj import SyncObj, SyncObjConf, replicated

    fsync, batch = spec["fsync"], spec["batch"]

    class Store(SyncObj):  # type: ignore[misc]
        def __init__(self, me: str, others: list[str], journal: str) -> None:
            conf = SyncObjConf(
                dynamicMembershipChange=False,
                journalFile=journal,
                appendEntriesUseBatch=batch,
            )
            self.data: dict[str, str] = {}
            self.dirty = False
            self.syncs = 0
            self.held: list[tuple[Any, Any]] = []
            super().__init__(me, others, conf=conf)  # starts the tick thread
            if fsync:
                log = self._SyncObj__raftLog
                for name in ("add", "deleteEntriesFrom"):
                    original = getattr(log, name)
                    setattr(log, name, self._marking(original))

        def _marking(self, method: Any) -> Any:
            def marked(*args: Any) -> Any:
                self.dirty = True
                return method(*args)

            return marked

        def sync_journal(self) -> None:
            if self.dirty:
                self.dirty = False
                self._SyncObj__raftLog.flush()  # mmap.flush: msync(MS_SYNC)
                self.syncs += 1

        def _SyncObj__sendNextNodeIdx(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
            """A follower's "I hold up to N": held until the journal is synced."""
            if self.dirty or self.held:
                self.held.append((args, kwargs))
            else:
                SyncObj._SyncObj__sendNextNodeIdx(self, *args, **kwargs)

        def _onTick(self, timeToWait: float = 0.0) -> None:  # noqa: N802, N803
            self.sync_journal()  # the leader's own copy, before it counts or sends it
            super()._onTick(timeToWait)  # ends polling: handles what peers sent
            self.sync_journal()  # one sync for all the entries appended meanwhile
            held, self.held = self.held, []
            for args, kwargs in held:
                SyncObj._SyncObj__sendNextNodeIdx(self, *args, **kwargs)

        @replicated  # type: ignore[misc]
        def put(self, key: str, value: str) -> None:
            self.data[key] = value

    index = spec["index"]
    addresses = [f"127.0.0.1:{p}" for p in spec["raft_ports"]]
    node = Store(
        addresses[index],
        [a for i, a in enumerate(addresses) if i != index],
        str(Path(spec["dir"]) / f"journal{index}"),
    )
    asyncio.run(_front_end(node, spec["front_ports"][index]))


async def _front_end(node: Any, port: int) -> None:
    loop = asyncio.get_running_loop()
    done: deque[tuple[asyncio.StreamWriter, bytes]] = deque()
    wake = threading.Event()  # set while a drain is scheduled

    def drain() -> None:
        wake.clear()
        batches: dict[asyncio.StreamWriter, list[bytes]] = {}
        while done:
            writer, line = done.popleft()
            batches.setdefault(writer, []).append(line)
        for writer, lines in batches.items():
            if not writer.is_closing():
                writer.write(b"".join(lines))

    def answer(writer: asyncio.StreamWriter, rid: bytes, error: int) -> None:
        """PySyncObj's callback, in its own thread: hand the reply to the event loop."""
        done.append((writer, rid + (b" ok\n" if error == 0 else b" error%d\n" % error)))
        if not wake.is_set():
            wake.set()
            loop.call_soon_threadsafe(drain)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                parts = line.split()
                if parts == [b"?"]:
                    leading = node._isLeader() and node.isReady()
                    writer.write(b"%d %d\n" % (leading, node.syncs))
                    continue
                rid, key, value = parts

                def callback(result: Any, error: int, rid: bytes = rid) -> None:
                    answer(writer, rid, error)

                node.put(key.decode(), value.decode(), callback=callback)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


# --- the systems -----------------------------------------------------------------------


class Missing(Exception):  # noqa: N818
    """A system that cannot be measured; the message says why."""


@dataclass
class Running:
    target: dict[str, Any]
    pids: list[int]
    syncs: Callable[[], int] | None = None
    """PySyncObj's journal syncs so far, over its nodes (the bench adds them)."""


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` so far (those gone count 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for p in processes:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextlib.contextmanager
def smrkit_system(tmp: Path, protocol: str, fsync: str) -> Iterator[Running]:
    from smrkit.net.client import BlockingClient, OutcomeUnknownError
    from smrkit.net.cluster import (
        ClusterError,
        down_cluster,
        init_cluster,
        replica_pid,
        supervisor_pid,
        up_cluster,
    )

    try:
        config = init_cluster(tmp / "smrkit", protocol=protocol, replicas=3, app="kv", fsync=fsync)
    except ClusterError as error:
        raise Missing(f"smrkit cannot run {protocol}: {error}") from None
    try:
        up_cluster(config)
        # Serving is not leading: wait until a put is answered (a raft cluster elects).
        try:
            with BlockingClient(config, op_timeout_s=START_TIMEOUT_S) as client:
                client.put("ready", "1")
        except OutcomeUnknownError:
            print(f"smrkit answered no put in {START_TIMEOUT_S:.0f} s; measuring anyway")
        pids = [
            pid
            for r in config.servers
            for pid in (replica_pid(config, r), supervisor_pid(config, r))
            if pid is not None
        ]
        yield Running({"driver": "smrkit", "cluster": str(config.base)}, pids)
    finally:
        down_cluster(config)


def ensure_module(requirement: str, module: str, install: bool) -> str | None:
    """Why ``module`` cannot be imported (``None`` when it can), after installing
    ``requirement`` with pip into this interpreter's environment if allowed."""
    if importlib.util.find_spec(module) is not None:
        return None
    if not install:
        return f"{module} is not installed (--no-install)"
    print(f"installing {requirement} with pip into {sys.prefix}", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", requirement],
        capture_output=True,
        text=True,
        check=False,
    )
    importlib.invalidate_caches()
    if done.returncode != 0 or importlib.util.find_spec(module) is None:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"pip could not install {requirement}: {last}"
    return None


def ensure_pysyncobj(install: bool) -> str:
    """PySyncObj's version, installing it with pip if it is missing and allowed."""
    why = ensure_module(f"pysyncobj=={PYSYNCOBJ_VERSION}", "pysyncobj", install)
    if why is not None:
        raise Missing(why)
    return importlib.metadata.version("pysyncobj")


def _ask_line(port: int, line: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
        sock.sendall(line)
        return sock.recv(16)


@contextlib.contextmanager
def pysyncobj_system(tmp: Path, fsync: bool, batch: bool) -> Iterator[Running]:
    from smrkit.net.cluster import free_ports

    ports = free_ports(6)
    directory = tmp / "pysyncobj"
    directory.mkdir()
    processes = []
    try:
        for index in range(3):
            spec = {
                "index": index,
                "raft_ports": ports[:3],
                "front_ports": ports[3:],
                "dir": str(directory),
                "fsync": fsync,
                "batch": batch,
            }
            log = (directory / f"node{index}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--pysyncobj-node", json.dumps(spec)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            for p in processes:
                if p.poll() is not None:
                    raise Missing(f"a PySyncObj node exited at start-up; see {directory}")
            leaders = []
            for port in ports[3:]:
                with contextlib.suppress(OSError):
                    if _ask_line(port, b"?\n").startswith(b"1 "):
                        leaders.append(port)
            if len(leaders) == 1:
                break
            if time.monotonic() > deadline:
                raise Missing(f"PySyncObj elected no leader in {START_TIMEOUT_S:.0f} s")
            time.sleep(0.1)
        target = {"driver": "pysyncobj", "host": "127.0.0.1", "port": leaders[0]}

        def syncs() -> int:
            return sum(int(_ask_line(port, b"?\n").split()[1]) for port in ports[3:])

        yield Running(target, [p.pid for p in processes], syncs)
    finally:
        _stop(processes)


def etcd_version(etcd: str) -> str:
    if shutil.which(etcd) is None:
        raise Missing(
            f"no etcd at {etcd}; install Debian's etcd-server (apt-get install etcd-server) "
            "or give --etcd PATH"
        )
    out = subprocess.run([etcd, "--version"], capture_output=True, text=True, check=False).stdout
    first = out.splitlines()[0] if out else ""
    return first.rpartition(":")[2].strip() or "unknown"


def _etcd_post(port: int, path: str) -> dict[str, Any]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=1.0) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


@contextlib.contextmanager
def etcd_system(tmp: Path, etcd: str, client: str) -> Iterator[Running]:
    from smrkit.net.cluster import free_ports

    ports = free_ports(6)
    client_ports, peer_ports = ports[:3], ports[3:]
    names = [f"m{i + 1}" for i in range(3)]
    initial = ",".join(f"{n}=http://127.0.0.1:{p}" for n, p in zip(names, peer_ports, strict=True))
    processes = []
    try:
        for name, port, peer in zip(names, client_ports, peer_ports, strict=True):
            data = tmp / "etcd" / name
            data.mkdir(parents=True)
            command = [
                etcd,
                f"--name={name}",
                f"--data-dir={data}",
                f"--listen-client-urls=http://127.0.0.1:{port}",
                f"--advertise-client-urls=http://127.0.0.1:{port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster={initial}",
                "--initial-cluster-state=new",
                "--initial-cluster-token=vs-peers",
                "--logger=zap",
                "--log-level=error",
            ]
            log = (tmp / "etcd" / f"{name}.log").open("wb")
            processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            for p in processes:
                if p.poll() is not None:
                    raise Missing(f"an etcd member exited at start-up; see {tmp / 'etcd'}")
            leader = None
            with contextlib.suppress(OSError, ValueError):
                statuses = [_etcd_post(port, "/v3/maintenance/status") for port in client_ports]
                for port, status in zip(client_ports, statuses, strict=True):
                    if status.get("leader") and status["leader"] == status["header"]["member_id"]:
                        leader = port
            if leader is not None:
                break
            if time.monotonic() > deadline:
                raise Missing(f"etcd elected no leader in {START_TIMEOUT_S:.0f} s")
            time.sleep(0.1)
        target = {"driver": f"etcd-{client}", "host": "127.0.0.1", "port": leader}
        yield Running(target, [p.pid for p in processes])
    finally:
        _stop(processes)


# --- the orchestration -------------------------------------------------------------------


def measure(
    system: str, running: Running, clients: list[int], warmup_s: float, seconds: float
) -> list[dict[str, Any]]:
    """Run the load process against one running system; each level with the CPU the
    system's processes used in its window."""
    spec = {
        "system": system,
        "target": running.target,
        "clients": clients,
        "warmup_s": warmup_s,
        "seconds": seconds,
    }
    process = subprocess.Popen(
        [sys.executable, __file__, "--load", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    levels = []
    cpu_start = 0.0
    server_cpu = 0.0
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] == "window_start":
            cpu_start = cpu_seconds(running.pids)
        elif event["event"] == "window_end":
            server_cpu = cpu_seconds(running.pids) - cpu_start
        elif event["event"] == "level":
            del event["event"]
            event["server_cpu_cores"] = round(server_cpu / seconds, 3)
            levels.append(event)
            print(f"  {system:<9} {_row(event)}", flush=True)
    if process.wait() != 0:
        raise RuntimeError(f"the load process against {system} failed")
    return levels


def _row(level: dict[str, Any]) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    if "sustained_runs" in level:  # a row of medians
        mark = f"  sustained in {level['sustained_runs']} of {level['runs']}"
    else:
        mark = "" if is_sustained(level) else "  (not sustained)"
    system, load = level.get("server_cpu_cores") or 0.0, level.get("load_cpu_cores") or 0.0
    return (
        f"{level['clients']:>4} clients  {level['ops_s']:>9.1f} ops/s  "
        f"p50 {ms(level['p50_ms'])} ms  p99 {ms(level['p99_ms'])} ms  "
        f"errors {level.get('errors', 0)}  cpu: system {system:.2f} load {load:.2f} cores{mark}"
    )


def _clients(text: str) -> list[int]:
    try:
        values = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--clients {text!r}: give counts like 1,8,64") from None
    if not values or values[0] < 1 or values[-1] > 4096:
        raise argparse.ArgumentTypeError(f"--clients {text!r}: each between 1 and 4096")
    return values


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0 or value > 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds above 0, at most 3600")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=_clients, default=list(CLIENTS_DEFAULT))
    parser.add_argument("--seconds", type=_positive, default=5.0, help="measured per level")
    parser.add_argument("--warmup", type=_positive, default=1.0, help="unmeasured, per level")
    parser.add_argument("--repeat", type=int, default=3, help="each system started anew")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1,8,64, 1 s")
    parser.add_argument("--protocol", default="raft", help="smrkit's protocol")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--etcd", default=ETCD_DEFAULT, help="the etcd binary")
    parser.add_argument("--no-install", action="store_true", help="never pip-install pysyncobj")
    parser.add_argument(
        "--smrkit-fsync",
        choices=("batch", "always", "never"),
        default="batch",
        help="smrkit's fsync policy (never: a diagnostic, not the comparison)",
    )
    parser.add_argument("--pysyncobj-fsync", choices=("on", "off"), default="on")
    parser.add_argument(
        "--pysyncobj-batch",
        choices=("on", "off"),
        default="off",
        help="appendEntriesUseBatch (PySyncObj's default is on: entries wait for the next "
        "0.1 s append period)",
    )
    parser.add_argument(
        "--etcd-client",
        choices=("grpc", "http"),
        default="grpc",
        help="gRPC with grpcio (pip-installed if missing), or the v3 JSON gateway",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--load"]:
        load_process(json.loads(args[1]))
        return 0
    if args[:1] == ["--pysyncobj-node"]:
        pysyncobj_node(json.loads(args[1]))
        return 0
    parser = _parser()
    options = parser.parse_args(args)
    if options.quick:
        options.clients, options.seconds, options.warmup, options.repeat = [1, 8, 64], 1.0, 0.5, 1
    wanted = [s.strip() for s in options.systems.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SYSTEMS]
    if unknown or "smrkit" not in wanted:
        parser.error(f"--systems {options.systems!r}: smrkit and any of pysyncobj, etcd")
    if options.repeat < 1 or options.repeat > 100:
        parser.error(f"--repeat {options.repeat}: between 1 and 100")
    headline = HEADLINE_CLIENTS if HEADLINE_CLIENTS in options.clients else max(options.clients)
    fsync_pso = options.pysyncobj_fsync == "on"
    systems = {
        "smrkit": SystemRuns(
            "smrkit",
            options.protocol,
            fsync=(
                f"{options.smrkit_fsync}: an append-only log file, "
                + {
                    "batch": "one write+fdatasync per batch of steps before any of their "
                    "messages leaves",
                    "always": "one write+fdatasync per step",
                    "never": "no fdatasync",
                }[options.smrkit_fsync]
            ),
        ),
        "pysyncobj": SystemRuns(
            "pysyncobj",
            "pysyncobj",
            fsync=(
                "journalFile, one msync(MS_SYNC) per tick: a follower's acknowledgements "
                "held until it, the leader's copy counted after it (added by this bench; "
                "0.3.17 itself never syncs); term and vote renamed unsynced"
                if fsync_pso
                else "journalFile as shipped: an mmap never synced (no fsync)"
            ),
        ),
        "etcd": SystemRuns(
            "etcd", "etcd", fsync="default: WAL fdatasync before a member acknowledges"
        ),
    }
    from smrkit import __version__ as smrkit_version

    systems["smrkit"].version = smrkit_version
    for name in ("pysyncobj", "etcd"):
        if name not in wanted:
            systems[name].missing = "not measured (--systems)"
    try:
        if systems["pysyncobj"].missing is None:
            systems["pysyncobj"].version = ensure_pysyncobj(not options.no_install)
            if systems["pysyncobj"].version != PYSYNCOBJ_VERSION:
                print(f"note: pysyncobj {systems['pysyncobj'].version}, not {PYSYNCOBJ_VERSION}")
    except Missing as error:
        systems["pysyncobj"].missing = str(error)
    try:
        if systems["etcd"].missing is None:
            systems["etcd"].version = etcd_version(options.etcd)
            why = None
            if options.etcd_client == "grpc":
                why = ensure_module("grpcio", "grpc", not options.no_install)
            if why is not None:
                print(f"etcd: {why}; the load goes through the JSON gateway", flush=True)
                options.etcd_client = "http"
    except Missing as error:
        systems["etcd"].missing = str(error)
    for system in systems.values():
        if system.missing is not None and system.name != "smrkit":
            print(f"{system.name}: not measured: {system.missing}", flush=True)

    def start(name: str, tmp: Path) -> contextlib.AbstractContextManager[Running]:
        if name == "smrkit":
            return smrkit_system(tmp, options.protocol, options.smrkit_fsync)
        if name == "pysyncobj":
            return pysyncobj_system(tmp, fsync_pso, options.pysyncobj_batch == "on")
        return etcd_system(tmp, options.etcd, options.etcd_client)

    order = [s for s in SYSTEMS if s in wanted]
    print(
        f"closed loop, clients {','.join(map(str, options.clients))}; "
        f"{options.warmup:g} s warm-up + {options.seconds:g} s measured per level; "
        f"{options.repeat} repetition(s); smrkit runs {options.protocol}",
        flush=True,
    )
    for rep in range(options.repeat):
        for name in order[rep % len(order) :] + order[: rep % len(order)]:
            system = systems[name]
            if system.missing is not None:
                continue
            print(f"repetition {rep + 1}: {system.label}", flush=True)
            try:
                with (
                    tempfile.TemporaryDirectory(prefix="vs-peers-") as tmp,
                    start(name, Path(tmp)) as running,
                ):
                    system.runs.append(
                        measure(name, running, options.clients, options.warmup, options.seconds)
                    )
                    if running.syncs is not None:
                        system.syncs.append(running.syncs())
                        print(f"  {name}: {system.syncs[-1]} journal syncs", flush=True)
            except Missing as error:
                system.missing = str(error)
                system.runs.clear()
                print(f"{name}: not measured: {error}", flush=True)
    settings = {
        "repeat": options.repeat,
        "warmup_s": options.warmup,
        "seconds": options.seconds,
        "cores": os.cpu_count(),
        "etcd_client": "gRPC (grpcio)" if options.etcd_client == "grpc" else "v3 JSON gateway",
        "pysyncobj_append_entries_batch": options.pysyncobj_batch == "on",
    }
    result = summary(systems, options.clients, headline, settings)
    _print_table(result)
    print(json.dumps(result), flush=True)
    return 0


def _print_table(result: dict[str, Any]) -> None:
    print("medians over the repetitions (ops/s, p50 ms, p99 ms, CPU cores: system/load):")
    for name, rows in result["table"].items():
        for row in rows:
            print(f"  {name:<9} {_row(row)}")
    for name, reason in result["missing"].items():
        print(f"  {name:<9} not measured: {reason}")


if __name__ == "__main__":
    sys.exit(main())
