"""Runs pinned bit for bit: the same configuration and seed give the same ``trace_hash``.

These hashes were taken from the simulator *before* it became a driver over the world
kernel (issue 10), and regenerated there after issue 8 changed the protocols: from
commit 8956807 (main with issue 8's simulator work, the last commit before the kernel
was merged in; 0d4d2b5, with issue 14 too, gives the same table). Every refactoring
since must reproduce them exactly: every protocol, every fault kind (crash, crash after
k sends, link, directed link, send, receive and general omission, lossy ``~P``, faulty
clients, restart), the README's and the demo's runs, and the three worlds of seed 000.
A hash that changes is a change of behaviour: say which and why in the change's notes.

Issue 8's follow-up on Raft's Figure 8 changed the quorum engine: a server saves the
epoch that last installed its log (``save … installed``), votes carry it instead of the
last entry's epoch, and a takeover's part that would shorten a log is held back. Every
run with a takeover saves the new field, so these hashes changed: pb-send-omission-lossy,
pb-general-omission, faulty-client-sends, pb-go-kill-kill-restart, pb-ro-halt-restart,
pb-general-omission-tie, issue8-pb-go-105565 and quorum-takeover-in-parts. Each run's
verdict is what it was before (all pass; pb-go-kill-kill-restart, two crashes with
f = 1, still fails only its failover target, as before).

Issue 8 added runs of its own: a restart fault (a new incarnation recovering from its
saves, the kill-kill-restart election), the quorum engine's catch-up in parts under a small
message limit, 2δ = τ (a round's deadlines due at the next round's start: the rule of
``sim/order.py``), and the seeds whose violations issue 8 fixed. To print the current
hashes (for instance in a worktree of an older commit, to regenerate the table when a
protocol legitimately changes there)::

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
    # Issue 8: a restart fault (kill p2, kill p1, restart p1: the election deadlock).
    "pb-go-kill-kill-restart": SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        clients=3,
        ops=400,
        faults=("crash:p2@0.3", "crash:p1@0.6", "restart:p1@1.0"),
        time_limit_s=5.0,
    ),
    # A primary that halts (its updates went unacknowledged) comes back with its saves.
    "pb-ro-halt-restart": SimConfig(
        protocol="pb-receive-omission",
        ops=600,
        faults=("receive-omission:p1@0.2..0.5", "restart:p1@0.8"),
        seed=11,
    ),
    # 2δ = τ: a round's lease and election deadlines fall due as the next round starts.
    "pb-general-omission-tie": SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        ops=600,
        delta_s=0.025,
        tau_s=0.05,
        faults=("crash:p1@0.4",),
        seed=14,
    ),
    # The seeds of issue 8's violations, replayed by their own commands.
    "issue8-pb-crash-102535": SimConfig(
        protocol="pb-crash",
        replicas=3,
        clients=4,
        ops=300,
        faults=("crash:p1@0.175358/1", "crash:p2@0.221245/2"),
        seed=102535,
    ),
    "issue8-pb-go-105565": SimConfig(
        protocol="pb-general-omission",
        replicas=5,
        clients=4,
        ops=300,
        faults=("general-omission:p2@0.434871..1.116224~0.532", "crash:p1@0.583702"),
        seed=105565,
    ),
}

SMALL_MESSAGE_BYTES = 2048
"""The message limit of the catch-up runs: a gap of some 150 entries takes several parts."""

SMALL_MESSAGE_RUNS: dict[str, SimConfig] = {
    # Issue 8: a follower that missed updates catches up in parts under a small limit,
    # and a takeover brings a lagging follower its gap in parts.
    "quorum-catch-up-in-parts": SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        ops=600,
        faults=("receive-omission:p3@0.2..0.8",),
        seed=3,
    ),
    "quorum-takeover-in-parts": SimConfig(
        protocol="pb-general-omission",
        replicas=3,
        ops=500,
        faults=("receive-omission:p3@0.2..0.7", "crash:p1@0.7"),
        seed=5,
    ),
}

PINNED: dict[str, str] = {
    "readme-first-run": "f100782a6d64cdd89b4335382b0be160f51c61ab8367eca4154a915ada71553d",
    "readme-pb-crash-link": "28c8f8e7a2377cdd4165c4a1cf5285f1728dc37835d10619841228c18e57404f",
    "readme-pb-simple-split": "a53bd1c05edec14691ec39d07b5d0a0922e23f5edcc1b5b60eee31163ae3a747",
    "readme-bounds-pb-link-n2": "52a150dd8706b12bd57cd293455791b378f50f6ad19459c84a43bfefa38291ed",
    "demo-crash": "8bbd99be3f29d8ae691f14bc58043bc17873ab8974ddc6af773fc0155522947d",
    "pb-crash-after-k-sends": "afac97e5b2b1e88880b2b2c6e8684538e12f7c035693e5f3c35b3586dc999b36",
    "pb-link-directed": "83989a3d9f16dca3c12ccafa688f9281eb3e6610f421ad9d31bb1729b9064bdb",
    "pb-link-lossy": "1c57e45eb60959bef605c23518d0706fc7e97c31e62d961413cda713d0a2ec36",
    "pb-send-omission": "2fc2caa7f74d9d404af45e474666ece1e57ea404b921507b4a9accc5f105559b",
    "pb-send-omission-lossy": "e87c80c219b3f679b9b86d35b95c5a08b39ab85ecf3f8c899f7d3f21fb8df2bd",
    "pb-receive-omission": "c4e0d4163e23e201b887321fd7effab0e5365651907a8101ec854b2b3d8b0b11",
    "pb-general-omission": "0b0a54e57fac0e499ce6be3be073dd71a0d6a92a1ec334bcd197a44eb414a703",
    "faulty-client-sends": "b5afcb3d301c7b82bbe78a95bdf9a3a24b3f923b6a04a00da308e6dbf94300a9",
    "faulty-client-receives": "b6bce39d778ffcc07c173fb984438b189551439dc57e5e2dc33a33c6108a88cd",
    "register-with-think-time": "fda64acb42da49e21ceb2985ec09ff24225788db9e15e0d23879f20ee2926aec",
    "counter-mix-timeout": "311f20d2425a7b531504d5317637c775038c04f82029d00bd64133f6189e1449",
    "pb-go-kill-kill-restart": "bef41d28bb1bb8f64245c40251c66b335fd78bd29fe2c7fbf10e96965f0cf293",
    "pb-ro-halt-restart": "511b41ee0e6c0c7b17ed9342860c97374c915e6799710373badefe3c4c4ba72e",
    "pb-general-omission-tie": "8e9e62cce1845d11b79a769201dc6c05e11790a0d985a9404b42bb671f717919",
    "issue8-pb-crash-102535": "3d545496ebb30e25edb899654ccef69f6d556b79db5dfc0a9c0a47a1fa35be18",
    "issue8-pb-go-105565": "0e3827231c79f7bbd30a79e2a3775950802c03919c10fa40b4c4b746becdce68",
    "quorum-catch-up-in-parts": "1d2769095677b0f4de3368bb746ba3190c5545853486a18ea18a98732f3c7c32",
    "quorum-takeover-in-parts": "481260f0f6b8e0e7289f0c9fbc6b98b94c2ae60591bde2f1860e9b72e5de5fa7",
    "worlds-pb-crash-A": "bf199f684f583ef1ff0af1dac79d5c62ff69e115f029c455309dfe1f516e15b3",
    "worlds-pb-crash-B": "30cb637146cf3dc19c97aad7be2319a77a4dc2fa28503bbf1e689e253be2dc46",
    "worlds-pb-crash-C": "225b0c5ce038c61e7113f28c90b7a9d5ac0b714cc11e0ff30e8e5e8151270c3f",
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


def small_message_hash(name: str) -> str:
    config = SMALL_MESSAGE_RUNS[name]
    return run_simulation(config, message_bytes_max=SMALL_MESSAGE_BYTES).trace.trace_hash()


def current_hashes() -> dict[str, str]:
    hashes = {name: run_simulation(config).trace.trace_hash() for name, config in RUNS.items()}
    hashes.update({name: small_message_hash(name) for name in SMALL_MESSAGE_RUNS})
    hashes.update(world_hashes())
    return hashes


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_pinned_run_reproduces_its_trace_hash(name: str) -> None:
    assert run_simulation(RUNS[name]).trace.trace_hash() == PINNED[name]


@pytest.mark.parametrize("name", sorted(SMALL_MESSAGE_RUNS))
def test_a_pinned_run_under_a_small_message_limit_reproduces_its_trace_hash(name: str) -> None:
    assert small_message_hash(name) == PINNED[name]


def test_the_worlds_of_seed_000_reproduce_their_trace_hashes() -> None:
    hashes = world_hashes()
    assert hashes == {name: PINNED[name] for name in hashes}


def test_every_pin_has_a_run() -> None:
    assert set(PINNED) == set(RUNS) | set(SMALL_MESSAGE_RUNS) | set(world_hashes())


if __name__ == "__main__":
    for pin, digest in current_hashes().items():
        sys.stdout.write(f'    "{pin}": "{digest}",\n')
