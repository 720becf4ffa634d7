"""Binary consensus by waiting for k values: ``wait-majority``, ``floodset-all`` and
``floodset-n-1`` — the protocols on which FLP's search shows its first two faces.

The algorithm. Each process sends its input to every other process, then waits until
it holds k values (its own included), and decides by a fixed rule over the values it
holds: ``wait-majority`` waits for n − 1 values (one process may have crashed) and
decides their majority (a tie goes to 0); floodset (seed 002's), moved from lock-step
rounds to asynchrony, decides the minimum, waiting for all n values (``floodset-all``)
or for n − 1 (``floodset-n-1``).

Failure and timing model: asynchronous delivery, at most one crash (seed 004's
adversary). Bounds: n − 1 messages sent by each process, a decision after at most n − 1
deliveries at it.

What FLP's search finds. Waiting for all n values blocks as soon as one process crashes
— the run in which Lemma 1's pivot is crashed from the start decides nothing. Waiting
for n − 1 values terminates but cannot agree: two processes that miss different values
decide differently (the search reports the run that breaks agreement).
"""

from __future__ import annotations

from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out
from smrkit.protocols.consensus.binary import BinaryProcess


@dataclass(frozen=True, slots=True)
class Value(Message):
    """A process's input, sent to every other process."""

    value: int


class WaitForValues(BinaryProcess):
    """Send the input to all; decide by :meth:`rule` once :meth:`needed` values are held."""

    def __init__(self, node_id: NodeId, processes: tuple[NodeId, ...], value: int) -> None:
        super().__init__(node_id, processes, value)
        self.values: dict[NodeId, int] = {}

    def needed(self) -> int:
        raise NotImplementedError

    def rule(self, values: list[int]) -> int:
        raise NotImplementedError

    def begin(self, out: Out) -> None:
        self.values = {self.id: self.input}
        out.send_all(self.others, Value(self.input))
        self._check()

    def receive(self, src: NodeId, msg: Message, out: Out) -> None:
        if isinstance(msg, Value) and not self.decided and src not in self.values:
            self.values = dict(sorted({**self.values, src: msg.value}.items()))
            self._check()

    def _check(self) -> None:
        if not self.decided and len(self.values) >= self.needed():
            self.decide(self.rule(list(self.values.values())))
            self.done = True


class WaitMajority(WaitForValues):
    """Wait for n − 1 values; decide their majority, a tie going to 0."""

    def needed(self) -> int:
        return self.config.n - 1

    def rule(self, values: list[int]) -> int:
        return 1 if 2 * sum(values) > len(values) else 0


class FloodsetAll(WaitForValues):
    """Floodset in asynchrony, waiting for all n values; decides the minimum."""

    def needed(self) -> int:
        return self.config.n

    def rule(self, values: list[int]) -> int:
        return min(values)


class FloodsetNMinus1(FloodsetAll):
    """Floodset in asynchrony, waiting for n − 1 values; decides the minimum."""

    def needed(self) -> int:
        return self.config.n - 1
