"""A user's own protocol (``module.path:Name``) runs as a real cluster (issue 9, §5).

``cluster init`` resolves it from the current directory and records that directory in
``cluster.json``; every replica process — started later by a supervisor, from anywhere —
imports it from there. Before, ``cluster init --protocol`` took only registered names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests_net_support import cli, running_cluster

from echo_protocol import ECHO_SOURCE
from smrkit.net.client import BlockingClient

pytestmark = pytest.mark.usefixtures("restore_registry")


def test_a_cluster_runs_a_user_protocol_imported_from_where_init_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code_dir = tmp_path / "code"
    code_dir.mkdir()
    (code_dir / "user_echo_net.py").write_text(ECHO_SOURCE)
    monkeypatch.chdir(code_dir)
    cluster_dir = tmp_path / "cluster"
    with running_cluster(cluster_dir, protocol="user_echo_net:Echo") as config:
        saved = json.loads(config.path.read_text())
        assert saved["protocol"] == "user_echo_net:Echo"
        assert saved["protocol_path"] == str(code_dir)
        monkeypatch.chdir(tmp_path)  # clients and the nemesis run from anywhere
        with BlockingClient(config) as client:
            assert client.get("echo-me") is None  # a get carries no value: echoed back


def test_cluster_init_names_what_is_wrong_with_a_protocol(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for protocol, message in [
        ("no_such_module_here:Echo", "no module named"),
        ("floodset", "not a service protocol"),
        ("pb-nonsense", "not a service protocol"),
    ]:
        code, _, err = cli(capsys, "cluster", "init", str(tmp_path / "c"), "--protocol", protocol)
        assert code == 2, (protocol, err)
        assert message in err.lower() and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c" / "cluster.json").exists()
