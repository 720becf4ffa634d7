"""``trb``: terminating reliable broadcast in lock-step rounds, with early stopping.

Specification (seed 002). A designated sender broadcasts m; every correct process
delivers exactly one message — m, or SF ("sender faulty") — and: every correct process
delivers something (termination); if the sender is correct, every correct process
delivers m (validity); if a correct process delivers m, every correct one does
(agreement); a process delivers at most once, and anything but SF only if the sender
broadcast it (integrity). :func:`smrkit.check.agreement.trb_checks` judges a run.

Algorithm. Floodset-early (:mod:`~smrkit.protocols.agreement.floodset`) over the set W
of what a process knows of the sender's message: {m} at the sender, empty elsewhere.
Every round a process sends W to every other process. It delivers m as soon as m is in
W — m exists, so no process can ever deliver SF once a correct process relayed it — and
then sends ``Decided(m)`` once and stops; a process receiving ``Decided(v)`` delivers v
at once, relays it once and stops. A process that heard the same senders in two
consecutive rounds without learning m knows no live process holds m and delivers SF
(relaying ``Decided(SF)`` once); so does one that reaches round f + 1 without m. Each
delivery is also recorded as the process's decision, so its round is on record.

Failure and timing model. Lock-step rounds; up to f < n processes crash, the sender
included, each in some round with only some of that round's messages leaving.

Bounds. If the sender is correct every correct process delivers m in round 1. In a run
with f' crashes every correct process delivers by round min(f' + 2, f + 1); f + 1
rounds are needed in the worst case (a chain of f crashes can carry m to a correct
process in round f).
"""

from __future__ import annotations

from smrkit.core.agreement import SF
from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out
from smrkit.core.ops import Value
from smrkit.protocols.agreement.floodset import EarlyFloodSet
from smrkit.protocols.agreement.rounds import RoundConfig


class TerminatingBroadcast(EarlyFloodSet):
    """Floodset-early over the sender's message: deliver m once known, else SF."""

    def __init__(self, node_id: NodeId, config: RoundConfig) -> None:
        if config.sender is None or config.sender not in config.peers:
            raise ValueError(f"TRB needs a sender among the peers, got {config.sender!r}")
        super().__init__(node_id, config)

    def on_start(self, out: Out) -> None:
        if self.id == self.config.sender:
            self.propose(self.config.value)  # broadcast(m), as the checkers read it
            self.known = frozenset([self.config.value])
            self.conclude(self.config.value)
            self.decided_in = 0

    def _receive(self, round_: int, inbox: tuple[tuple[NodeId, Message], ...]) -> None:
        super()._receive(round_, inbox)
        if not self.decided and self.known:
            self.conclude(self.choice())

    def choice(self) -> Value:
        return next(iter(self.known)) if self.known else SF

    def conclude(self, value: Value) -> None:
        sender = self.config.sender
        assert sender is not None
        self.deliver(sender, value)
        self.decide(value)
