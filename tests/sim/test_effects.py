"""The one effect applier: saves, then sends in order, then timers, then halt — and a
crash in the middle of a step lets only part of the sends leave."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from smrkit.core import Message, NodeId, Out, Timer
from smrkit.sim.kernel.effects import CrashCut, apply_effects


@dataclass(frozen=True, slots=True)
class Note(Message):
    n: int


class RecordingSink:
    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def persist(self, node: NodeId, saves: Sequence[tuple[str, object]]) -> None:
        self.calls.append(("persist", node, tuple(saves)))

    def send(self, src: NodeId, dst: NodeId, msg: Message) -> None:
        self.calls.append(("send", src, dst, msg))

    def set_timer(self, node: NodeId, timer: Timer, at: float | None) -> None:
        self.calls.append(("timer", node, timer, at))

    def stop(self, node: NodeId, kind: str, reason: str) -> None:
        self.calls.append(("stop", node, kind, reason))


def _busy_step() -> Out:
    """A step that asked for everything, in the wrong order on purpose."""
    out = Out(random.Random(0))
    out.now = 1.0
    out.halt("done")
    out.set_timer("t", 0.5)
    out.send("q", Note(1))
    out.save("k", 1)
    out.send_all(["r", "s"], Note(2))
    out.cancel_timer("u")
    out.save("j", 2)
    return out


def test_effects_leave_in_the_ready_order_and_out_is_cleared() -> None:
    sink, out = RecordingSink(), _busy_step()
    apply_effects("p", out, sink)
    assert sink.calls == [
        ("persist", "p", (("k", 1), ("j", 2))),
        ("send", "p", "q", Note(1)),
        ("send", "p", "r", Note(2)),
        ("send", "p", "s", Note(2)),
        ("timer", "p", "t", 1.5),
        ("timer", "p", "u", None),
        ("stop", "p", "halt", "done"),
    ]
    assert not out.saves and not out.sends and not out.timers


def test_a_crash_after_k_sends_keeps_a_prefix_and_wins_over_the_halt() -> None:
    sink = RecordingSink()
    apply_effects("p", _busy_step(), sink, CrashCut("crash:p@1.0/2", after_sends=2))
    sends = [call[2] for call in sink.calls if call[0] == "send"]
    assert sends == ["q", "r"]
    assert sink.calls[-1] == ("stop", "p", "crash", "crash:p@1.0/2")
    assert sink.calls[0][0] == "persist"  # the saves of a crashing step still happened


def test_a_crash_with_receivers_keeps_the_sends_to_them() -> None:
    sink = RecordingSink()
    cut = CrashCut("crash:p@r1/s,q", receivers=frozenset({"s", "q"}))
    apply_effects("p", _busy_step(), sink, cut)
    assert [call[2] for call in sink.calls if call[0] == "send"] == ["q", "s"]
    none_left = RecordingSink()
    apply_effects("p", _busy_step(), none_left, CrashCut("crash:p@1.0"))
    assert not [call for call in none_left.calls if call[0] == "send"]
