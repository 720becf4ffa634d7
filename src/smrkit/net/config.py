"""A cluster's configuration file (``cluster.json``): who the replicas are and where,
which protocol and application they run, the timing bounds the protocol is told to
assume, and the runtime's named limits.

The file holds no secret: it names the files that do (relative paths are relative to
the file's directory), and each secret may come from an environment variable instead
(:mod:`smrkit.net.auth`). Every problem with the file is a :class:`ConfigError` whose
message names the file, the problem and the fix.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from smrkit.core.ids import is_server
from smrkit.net import auth
from smrkit.net.frames import FRAME_BYTES_MAX_DEFAULT
from smrkit.net.storage import FSYNC_POLICIES, STORAGE_ENGINES
from smrkit.protocols.registry import ProtocolSpec, get_protocol

DEFAULT_PROTOCOL = "raft"
"""The protocol of ``cluster init`` unless told otherwise. Raft is safe whatever the
timing: a message later than δ, a replica stalled by a busy host, a partition cost it
time (an election) but never a write or a second leader in a term, while the
synchronous primary-backup protocols of seed 001 assume δ holds, and when it does not
(``late msgs`` in ``cluster status``) can end with two primaries. It answers a client
only once a majority holds the write and saves term, vote and log before it says so,
so a ``kill -9`` loses no acknowledged write, and its replicas are restartable (their
supervisor brings them back from their disks). pb-crash answers at once, which TCP does
not make safe under kill -9."""
DELTA_S_DEFAULT = 0.25
"""The message delay bound δ a real cluster's protocol assumes, seconds. The trade-off:
failover and the time to recover after a fault grow with δ (the omission protocols
suspect a primary after a few τ + δ), while a δ shorter than what the host can deliver
breaks the synchronous model the protocols are proved in: the replicas then count late
messages (``timing`` in their status), and pb-crash can end with two primaries. On
loopback a message takes well under a millisecond, but a busy 2-core machine stalls a
process for tens to hundreds of milliseconds (measured: ``bench/cluster_timing.py``)."""
TAU_S_DEFAULT = 0.5
"""The heartbeat period τ, seconds: twice δ, so that a round holds a message each way."""
PARTIAL_SYNC_DELTA_S_DEFAULT = 0.1
PARTIAL_SYNC_TAU_S_DEFAULT = 0.2
"""δ and τ of a new cluster of a protocol whose safety does not rest on timing (Raft):
there δ sets only how soon a silent leader is replaced (Raft's election time-outs are
drawn from [2τ + 2δ, 4τ + 4δ]: 0.6–1.2 s with these, 1.5–3 s with the synchronous
protocols' 0.25 and 0.5), and a host that stalls past it costs an election, not
safety. Measured with ``bench/jepsen_in_a_row.py --protocol raft`` (README, "Raft on
a real cluster"): each fault's longest stretch without an acknowledged op 0.8–2.5 s
with these and 2.0–6.6 s with 0.25 and 0.5 in two runs of it one after the other (with
a heartbeat change since backed out); 1.0–4.3 s with these on the final code."""


def safety_rests_on_timing(protocol: str) -> bool:
    """Whether ``protocol``'s safety needs the message delay bound δ to hold: a protocol
    built for synchronous (or lock-step) timing does; one built for partially synchronous
    or asynchronous timing (Raft) is safe whatever the delays, and only its liveness (an
    election ending, a command committing) waits for them to be bounded again."""
    return get_protocol(protocol).timings[0] in ("synchronous", "lock-step")


def timing_defaults(protocol: str) -> tuple[float, float]:
    """δ and τ, seconds, of a new cluster of ``protocol`` when not given: those the
    synchronous protocols need to stay safe on a busy host, or the shorter ones of a
    protocol that stays safe without them."""
    if safety_rests_on_timing(protocol):
        return DELTA_S_DEFAULT, TAU_S_DEFAULT
    return PARTIAL_SYNC_DELTA_S_DEFAULT, PARTIAL_SYNC_TAU_S_DEFAULT


CONFIG_NAME = "cluster.json"
FORMAT = "smrkit-cluster"
FORMAT_VERSION = 1


class ConfigError(ValueError):
    """A configuration file that cannot be used."""


@dataclass(frozen=True)
class ClusterConfig:
    protocol: str
    app: str
    replicas: dict[str, tuple[str, int]]
    """Replica id → (host, port), in rank order."""
    delta_s: float = DELTA_S_DEFAULT
    """The message delay bound δ the protocol assumes (see :data:`DELTA_S_DEFAULT`)."""
    tau_s: float = TAU_S_DEFAULT
    """The protocol's heartbeat period τ."""
    fsync: str = "batch"
    storage: str = "log"
    """The storage engine (:data:`smrkit.net.storage.STORAGE_FILES`); a cluster.json
    written before there was a choice says nothing, and its replicas go on with the
    SQLite file they have."""
    frame_bytes_max: int = FRAME_BYTES_MAX_DEFAULT
    outbound_queue_max: int = 10_000
    """Frames waiting for one peer; more are dropped (and counted)."""
    inbox_max: int = 1_000
    """Client requests waiting for the node; reading from clients pauses beyond this."""
    client_frame_bytes_max: int = 1024 * 1024
    """The largest frame a client may send (a batch of requests)."""
    client_connections_max: int = 256
    """Client connections open at once, over all clients (they share one token); the
    admin endpoint has its own few, and each peer two."""
    client_buffer_bytes_max: int = 32 * 1024 * 1024
    """Bytes of client and admin frames being read at once, over all connections."""
    sessions_max: int = 10_000
    """Client sessions the replicated service remembers (each one's last reply)."""
    connect_timeout_s: float = 1.0
    secret_file: str = "secret"
    token_file: str = "client-token"
    data_dir: str = "data"
    protocol_path: str | None = None
    """Where a user protocol (``module.path:Name``) is imported from: the directory that
    was current at ``cluster init``, searched first by every replica process (they are
    started elsewhere, by a supervisor). ``None`` for a registered protocol."""
    path: Path = field(default=Path(CONFIG_NAME), compare=False)

    @property
    def servers(self) -> tuple[str, ...]:
        """Every process of the cluster (a chain's master nodes too)."""
        return tuple(self.replicas)

    @property
    def protocol_servers(self) -> tuple[str, ...]:
        """The replicas ``p1 … pn`` the protocol is built with and clients address,
        without the nodes it builds beside them (``ProtocolSpec.auxiliary``)."""
        return tuple(r for r in self.replicas if is_server(r))

    @property
    def base(self) -> Path:
        return self.path.parent

    def secret(self) -> bytes:
        return auth.read_secret(self.base / self.secret_file, auth.SECRET_ENV)

    def token(self) -> bytes:
        return auth.read_secret(self.base / self.token_file, auth.TOKEN_ENV)

    def data_path(self, node_id: str) -> Path:
        return self.base / self.data_dir / node_id

    def client_timeout_s(self) -> float:
        return get_protocol(self.protocol).client_timeout_s(self.delta_s, self.tau_s)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        del data["path"]
        data["replicas"] = {r: {"host": h, "port": p} for r, (h, p) in self.replicas.items()}
        return {"format": FORMAT, "version": FORMAT_VERSION, **data}

    def write(self) -> None:
        self.path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def load_config(path: Path) -> ClusterConfig:
    """Read and validate a configuration file (or ``DIR/cluster.json`` given DIR)."""
    if path.is_dir():
        path = path / CONFIG_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path} is not UTF-8 text (byte {error.start}): not an smrkit cluster configuration"
        ) from None
    except OSError as error:
        raise ConfigError(
            f"cannot read {path}: {error.strerror}; run 'smrkit cluster init --dir DIR' first"
        ) from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path} is not an smrkit cluster configuration")
    if data.get("version") != FORMAT_VERSION:
        raise ConfigError(f"{path} has version {data.get('version')}; expected {FORMAT_VERSION}")
    fields = {k: v for k, v in data.items() if k not in ("format", "version")}
    try:
        raw = fields.pop("replicas")
        replicas = {str(r): (str(a["host"]), int(a["port"])) for r, a in raw.items()}
        config = ClusterConfig(replicas=replicas, path=path, **fields)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ConfigError(f"{path}: bad or missing field ({error})") from None
    validate_config(config)
    return config


def protocol_spec(name: str, search: str | None = None) -> ProtocolSpec:
    """The spec of a cluster's protocol: a registered name, or the user's own
    ``module.path:Name`` (a Replica subclass or a ProtocolSpec, resolved as ``smrkit sim``
    resolves it, the current directory searched first), registered in this process so
    that ``get_protocol(name)`` finds it from then on; ``search`` (a cluster's
    ``protocol_path``) is put first on the import path. :class:`ConfigError` otherwise."""
    if ":" in name:
        if search is not None and search not in sys.path:
            sys.path.insert(0, search)
        from smrkit.explore.protocol_ref import ProtocolRefError, ensure_registered

        try:
            return ensure_registered(name).spec
        except ProtocolRefError as error:
            raise ConfigError(str(error)) from None
    try:
        return get_protocol(name)
    except KeyError as error:
        raise ConfigError(str(error.args[0])) from None


def validate_config(config: ClusterConfig) -> None:
    where = config.path
    try:
        spec = protocol_spec(config.protocol, config.protocol_path)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None
    servers = config.protocol_servers
    auxiliary = spec.auxiliary(len(servers))
    if not servers or not all(is_server(r) or r in auxiliary for r in config.replicas):
        extra = f" (and {', '.join(auxiliary)})" if auxiliary else ""
        raise ConfigError(f"{where}: replicas must be named p1, p2, …{extra}")
    problem = spec.replicas_problem(len(servers))
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")
    if config.fsync not in FSYNC_POLICIES:
        raise ConfigError(f"{where}: fsync must be one of {', '.join(FSYNC_POLICIES)}")
    if config.storage not in STORAGE_ENGINES:
        raise ConfigError(f"{where}: storage must be one of {', '.join(STORAGE_ENGINES)}")
    if not all(
        isinstance(x, int | float) and math.isfinite(x) and x > 0
        for x in (config.delta_s, config.tau_s, config.connect_timeout_s)
    ):
        raise ConfigError(
            f"{where}: delta_s, tau_s and connect_timeout_s must be positive, finite seconds"
        )
    if config.frame_bytes_max < 1024 or config.outbound_queue_max < 1 or config.inbox_max < 1:
        raise ConfigError(f"{where}: frame_bytes_max >= 1024, queue limits >= 1")
    if not 1024 <= config.client_frame_bytes_max <= config.client_buffer_bytes_max:
        raise ConfigError(
            f"{where}: client_frame_bytes_max must be >= 1024 and <= client_buffer_bytes_max"
        )
    if config.client_connections_max < 1 or config.sessions_max < 1:
        raise ConfigError(f"{where}: client_connections_max and sessions_max must be >= 1")
