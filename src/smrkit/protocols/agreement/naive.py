"""``consensus-naive``: the seed's "simple consensus algorithm", one round.

Algorithm. Each process p_i starts with V = {v_i}; in round 1 it sends {v_i} to every
other process; at the end of round 1 it adds what it received to V and decides min(V).

Failure and timing model. Lock-step rounds, no failures. Without crashes every process
receives every proposal, so all decide the least one in round 1 (termination,
validity, agreement and integrity hold). **One crash breaks it**: a process that
crashes in round 1 after its message reached only some processes leaves them with a
smaller minimum than the others — ``--fault crash:p1@r1/p2`` makes p2 decide 0 and p3
decide 1, and the agreement checker says so. It tolerates f = 0; the f + 1 round lower
bound (seed 002: "it is safe to decide by the end of round f + 1", and not before)
says one round cannot tolerate one crash.
"""

from __future__ import annotations

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Out
from smrkit.protocols.agreement.rounds import Known, ValueSetProcess, least


class NaiveConsensus(ValueSetProcess):
    """Send your value to all in round 1; decide the least value seen."""

    def on_round(self, r: int, inbox: tuple[tuple[NodeId, Message], ...], out: Out) -> None:
        if r == 1:
            out.send_all(self.config.others(self.id), Known(self.known))
            return
        for _, msg in inbox:
            if isinstance(msg, Known):
                self.known |= msg.values
        if not self.decided:
            self.decide(least(self.known))
            self.decided_in = r - 1
        self.done = True
