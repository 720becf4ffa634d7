"""Runs pinned bit for bit: the same configuration and seed give the same ``trace_hash``.

These hashes were taken from the simulator *before* it became a driver over the world
kernel (issue 10), and every refactoring since must reproduce them exactly: every
protocol, every fault kind (crash, crash after k sends, link, directed link, send,
receive and general omission, lossy ``~P``, faulty clients), the README's and the demo's
runs, and the three worlds of seed 000. A hash that changes is a change of behaviour:
say which and why in the change's notes.

There are no restarts in the simulator yet (only the TCP runtime restarts replicas), so
none is pinned. To print the current hashes (for instance in a worktree of an older
commit, to regenerate the table when a protocol legitimately changes there)::

    .venv/bin/python tests/sim/test_pinned_traces.py
"""

from __future__ import annotations

import sys

import pytest

from smrkit.explore.worlds import build_worlds, run_world, split_servers
from smrkit.protocols.registry import get_protocol
from smrkit.sim.world import SimConfig, run_simulation

RUNS: dict[str, SimConfig] = {
    # The README's first run, and its split-brain example.
    "readme-first-run": SimConfig(
        protocol="pb-crash", replicas=3, clients=4, ops=2000, faults=("crash:p1@1.0",), seed=7
    ),
    "readme-pb-crash-link": SimConfig(protocol="pb-crash", faults=("link:p1-p2@1.0",), seed=7),
    "readme-pb-simple-split": SimConfig(
        protocol="pb-simple", faults=("link:p1-p2@0.5",), ops=500, seed=1
    ),
    # The README's replayed bounds counterexample (pb-link with one server too few).
    "readme-bounds-pb-link-n2": SimConfig(
        protocol="pb-link", replicas=2, clients=3, ops=300, faults=("link:p1-p2@0.5",), seed=0
    ),
    # The demo's part 1.
    "demo-crash": SimConfig(
        protocol="pb-crash", replicas=3, clients=4, ops=2000, faults=("crash:p1@1.02",), seed=7
    ),
    "pb-crash-after-k-sends": SimConfig(
        protocol="pb-crash",
        replicas=4,
        ops=600,
        faults=("crash:p1@0.31/1", "crash:p2@0.62/0"),
        seed=5,
    ),
    "pb-link-directed": SimConfig(
        protocol="pb-link",
        replicas=4,
        ops=600,
        faults=("link:p2->p3@0.2..0.6", "crash:p1@0.4"),
        seed=2,
    ),
    "pb-link-lossy": SimConfig(
        protocol="pb-link", ops=600, faults=("link:p1-p3@0.1..0.9~0.3",), seed=4
    ),
    "pb-send-omission": SimConfig(
        protocol="pb-send-omission", ops=600, faults=("send-omission:p1->p2@0.3..0.8",), seed=3
    ),
    "pb-send-omission-lossy": SimConfig(
        protocol="pb-send-omission",
        replicas=5,
        ops=600,
        faults=("send-omission:p1@0.3~0.5",),
        seed=8,
    ),
    "pb-receive-omission": SimConfig(
        protocol="pb-receive-omission", ops=600, faults=("receive-omission:p2<-p1@0.2..",), seed=6
    ),
    "pb-general-omission": SimConfig(
        protocol="pb-general-omission",
        replicas=5,
        ops=600,
        faults=("general-omission:p1@0.4..0.9", "crash:p3@0.7"),
        seed=9,
    ),
    "faulty-client-sends": SimConfig(
        protocol="pb-general-omission",
        ops=400,
        faults=("send-omission:c1->p1@0.2..0.5",),
        seed=10,
    ),
    "faulty-client-receives": SimConfig(
        protocol="pb-crash", ops=400, faults=("receive-omission:c2<-p1@0.1..0.3",), seed=10
    ),
    "register-with-think-time": SimConfig(
        protocol="pb-simple",
        app="register",
        clients=3,
        ops=300,
        think_s=0.02,
        faults=("crash:p1@0.5",),
        seed=12,
    ),
    "counter-mix-timeout": SimConfig(
        protocol="pb-crash",
        app="counter",
        mix=(("add", 3.0), ("read", 1.0)),
        clients=2,
        ops=300,
        client_timeout_s=0.025,
        faults=("crash:p1@0.2/3",),
        seed=13,
    ),
}

PINNED: dict[str, str] = {
    "readme-first-run": "dd2f78c7aae3a4cb9dfd7d12979b0a727f4d5bc17a869cd6b0f3417b9c0e4828",
    "readme-pb-crash-link": "fc802ea641811f4dd6af5741c522336e06909a41c19f4958ade5d79308b57ba4",
    "readme-pb-simple-split": "e89408748e31f0a3d0890c3970bf387063b1945d3c7755211df3922e69ed53ec",
    "readme-bounds-pb-link-n2": "52a150dd8706b12bd57cd293455791b378f50f6ad19459c84a43bfefa38291ed",
    "demo-crash": "8a6854cb6b72bbda617f506eea13dc54fb9ef3ac21068828023ec4aab5e04196",
    "pb-crash-after-k-sends": "e85d78ef7ced0293a60de2aba9e79f9a3860ce9be5cc77e14a13c220805c1c2f",
    "pb-link-directed": "cc9336f4165c0f322eb7e139905ee364abfd071ab7a00514d0140c13dd63051a",
    "pb-link-lossy": "1c57e45eb60959bef605c23518d0706fc7e97c31e62d961413cda713d0a2ec36",
    "pb-send-omission": "219bd9073b5da1f98453ffabfb67506c3c9bb14bf252035d283b5df4526779ec",
    "pb-send-omission-lossy": "6729785d7ecbddcb7e256bbd8242aa12e2e2282f39c8b600541a4733112126db",
    "pb-receive-omission": "c4e0d4163e23e201b887321fd7effab0e5365651907a8101ec854b2b3d8b0b11",
    "pb-general-omission": "948ffd91c298a1fd58816bf23e1ae9989153cc773ac52463f5e1e025b574b6c8",
    "faulty-client-sends": "537064ca9294281c3d07ad03f3e05120203f6357bdbad3727833f4a64335b464",
    "faulty-client-receives": "3480e70f6788339ac7622e814d91ba4635139bfb6401db6a60d49402ccca7e77",
    "register-with-think-time": "375e6c0c4a3949820fa248aba927bbe8b951acd23bc2c9827946cac43d3e6137",
    "counter-mix-timeout": "f2d80f3959d9a0017a628d9cab3cee95e1f14172bee29836c0c314a5cff0f4e8",
    "worlds-pb-crash-A": "f77a36c0abceee20bb522cc43ca11dec7504a8ce5a314af3e71e40f08b90c8f4",
    "worlds-pb-crash-B": "f9efa8474d7df0321966e047afe5e0cbde3225fde9e3234170e23b4e472e9fed",
    "worlds-pb-crash-C": "421ccb1e4e8dfaba4fda033ffa8d7d48161403b8fb297dffb4a655619597c261",
}


def world_hashes() -> dict[str, str]:
    """Seed 000's three worlds for pb-crash (fixed δ, no early stop)."""
    first, second = split_servers(2, 1)
    spec = get_protocol("pb-crash")
    hashes = {}
    for name, world in build_worlds(first, second).items():
        run = run_world(spec, world, (*first, *second), delta_s=0.01, tau_s=0.05, horizon_s=1.0)
        hashes[f"worlds-pb-crash-{name}"] = run.trace.trace_hash()
    return hashes


def current_hashes() -> dict[str, str]:
    hashes = {name: run_simulation(config).trace.trace_hash() for name, config in RUNS.items()}
    hashes.update(world_hashes())
    return hashes


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_pinned_run_reproduces_its_trace_hash(name: str) -> None:
    assert run_simulation(RUNS[name]).trace.trace_hash() == PINNED[name]


def test_the_worlds_of_seed_000_reproduce_their_trace_hashes() -> None:
    hashes = world_hashes()
    assert hashes == {name: PINNED[name] for name in hashes}


def test_every_pin_has_a_run() -> None:
    assert set(PINNED) == set(RUNS) | set(world_hashes())


if __name__ == "__main__":
    for pin, digest in current_hashes().items():
        sys.stdout.write(f'    "{pin}": "{digest}",\n')
