"""A user's protocol named as ``module.path:Name`` in ``bounds`` and in a cluster's
configuration, as ``sim``, ``sweep`` and ``worlds`` take it (issue 9, §5)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
from cli_helpers import assert_usage_error, run_cli

from echo_protocol import ECHO_SOURCE
from smrkit.net.config import ClusterConfig, ConfigError, protocol_spec, validate_config

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("restore_registry")


@pytest.fixture
def echo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "user_echo.py").write_text(ECHO_SOURCE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_bounds_measures_a_user_spec_on_its_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    ref = "tests.protocols.broken_variants:SPEC"
    argv = ["bounds", "--protocol", ref, "--seeds", "2", "--workers", "1"]
    code, out, _ = run_cli([*argv, "--traces", str(tmp_path), "--json"], capsys)
    rows = json.loads(out)["rows"]
    assert [(r["model"], r["protocol"]) for r in rows] == [("crash", ref)]
    assert code in (0, 1)
    assert rows[0]["below_bound"]["violation"] is not None


def test_bounds_refuses_a_bare_replica_class(
    echo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_usage_error(
        "bounds", ["--protocol", "user_echo:Echo"], "states no failure model", capsys
    )
    assert_usage_error("bounds", ["--protocol", "no_such_module:X"], "no module named", capsys)


def test_sim_builds_a_replica_without_an_init_of_its_own(
    echo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["sim", "--protocol", "user_echo:Echo", "--replicas", "1",
                              "--ops", "50", "--json"], capsys)  # fmt: skip
    assert code == 1 and "Traceback" not in err
    assert json.loads(out)["checks"]["linearizable"]["ok"] is False


def test_a_cluster_configuration_resolves_a_user_protocol(echo_dir: Path) -> None:
    spec = protocol_spec("user_echo:Echo")
    assert spec.name == "user_echo:Echo"
    with pytest.raises(ConfigError, match="no module named"):
        protocol_spec("no_such_module:Echo")
    config = ClusterConfig(
        replicas={"p1": ("127.0.0.1", 1), "p2": ("127.0.0.1", 2)},
        protocol="user_echo:Echo",
        app="kv",
        path=echo_dir / "cluster.json",
    )
    validate_config(config)
    with pytest.raises(ConfigError, match="finite"):
        validate_config(replace(config, delta_s=math.nan))


def test_an_undecodable_cluster_configuration_is_named(tmp_path: Path) -> None:
    """Was a traceback: ``'utf-8' codec can't decode byte 0x92``, no file name."""
    from smrkit.net.config import load_config

    (tmp_path / "cluster.json").write_bytes(b"\x92\xff")
    with pytest.raises(ConfigError, match=r"cluster\.json is not UTF-8 text"):
        load_config(tmp_path)


def test_an_undecodable_secret_is_named(tmp_path: Path) -> None:
    from smrkit.net.auth import SecretError, read_secret

    secret = tmp_path / "secret"
    secret.write_bytes(b"\x92\xff")
    secret.chmod(0o600)
    with pytest.raises(SecretError, match=f"the secret {secret} is not hex text"):
        read_secret(secret, "SMRKIT_TEST_NO_SUCH_VARIABLE")
