"""``floodset`` and ``floodset-early``: consensus in lock-step rounds under crash failures.

Algorithm (floodset). Each process keeps W, the set of values it knows, initially its
own proposal. In every round 1 … R it sends W to every other process and adds what it
receives to W ("a process that receives a proposal in round 1 relays it in round 2").
At the end of round R = f + 1 it decides min(W).

Why f + 1 rounds (seed 002, "dangerous chains"). A correct process that has not heard a
value by the end of round r cannot tell whether another process got it in round r and
will relay it in round r + 1. A value can stay hidden only along a *dangerous chain* —
each process in it crashes right after passing the value to the next one only — and
the chain's last process is correct. With f faulty processes a chain has at most f + 1
nodes and spans at most f rounds, so after round f + 1 every correct process has the
same W and decides the same least value. ``smrkit rounds`` builds the chains that break
it with R ≤ f rounds, and explores every crash pattern to show none does with R = f + 1.

Algorithm (floodset-early: early stopping). A process also notes the set of processes
it heard from in each round. Once it heard from the same set in two consecutive rounds
r − 1 and r, no process it depends on crashed in round r − 1 … r: every value still held
by a live process reached it, so it decides min(W) in round r without waiting for round
f + 1. After deciding it sends ``Decided(v)`` once, in the next round, and stops; a
process that receives a ``Decided(v)`` decides v at once (in that round), relays it
once and stops. A process that never sees two equal rounds decides at round f + 1 as
floodset does.

Failure and timing model. Lock-step rounds; up to f < n processes crash, each in some
round after which only some of its messages of that round leave (the kernel's
``crash:p2@r3/p1,p4``). Links are reliable.

Bounds. Floodset: every correct process decides in round f + 1, the lower bound for
consensus under f crashes (no protocol decides in every run by round f). Early stopping:
in a run where f' processes actually crash, every correct process decides by round
min(f' + 2, f + 1) (each round that is not "clean" at a process costs a crash; two
equal rounds need one more) — the bound of early-deciding consensus. n ≥ f + 1.
"""

from __future__ import annotations

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out
from smrkit.core.ops import Value
from smrkit.protocols.agreement.rounds import (
    Decided,
    Known,
    RoundConfig,
    ValueSetProcess,
    least,
)


class FloodSet(ValueSetProcess):
    """Relay every value known for R = ``config.rounds`` rounds, then decide the least."""

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        for _, msg in inbox:
            if isinstance(msg, Known):
                self.known |= msg.values
        if r <= self.config.rounds:
            out.send_all(self.config.others(self.id), Known(self.known))
        elif not self.decided:
            self.decide(least(self.known))  # in round r - 1 = R, the seeds' numbering
            self.decided_in = r - 1
            self.done = True


class EarlyFloodSet(ValueSetProcess):
    """Floodset that decides once two consecutive rounds brought the same senders."""

    def __init__(self, node_id: NodeId, config: RoundConfig) -> None:
        super().__init__(node_id, config)
        self.heard: frozenset[NodeId] | None = None
        """The processes heard from in the last round (``None`` before round 1's)."""

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        if self.done:
            return
        if r > 1 and not self.decided:
            self._receive(r - 1, inbox)
            if self.decided:
                self.decided_in = r - 1
        others = self.config.others(self.id)
        if self.decided:  # tell everyone once, in the round after the decision; then stop
            out.send_all(others, Decided(self.decision))
            self.done = True
        else:
            out.send_all(others, Known(self.known))

    def _receive(self, round_: int, inbox: tuple[tuple[NodeId, Message], ...]) -> None:
        """Round ``round_``'s messages: adopt a decision, or learn values and decide
        when the round was clean (the same senders as the round before) or the last."""
        senders: set[NodeId] = set()
        for src, msg in inbox:
            match msg:
                case Decided(value=v):
                    self.conclude(v)
                    return
                case Known(values=values):
                    self.known |= values
                    senders.add(src)
        heard = frozenset(senders)
        if heard == self.heard or round_ >= self.config.rounds:
            self.conclude(self.choice())
        self.heard = heard

    def choice(self) -> Value:
        """What to decide once every value still held by a live process is known."""
        return least(self.known)

    def conclude(self, value: Value) -> None:
        """Decide ``value`` (a subclass also delivers it)."""
        self.decide(value)
