"""An adversary for the active replication tests: a sender that slips an invented
client request into every batch it orders."""

from __future__ import annotations

from smrkit.core import ByzantineNode, ClientRequest, Op, Out
from smrkit.protocols.byzantine.dolev_strong import Chain, start_chain

FORGED = ClientRequest("c1", 1000, Op("put", "k1", "forged"))


class Inventor(ByzantineNode):
    def tamper(self, out: Out) -> None:
        sends = []
        for dst, msg in out.sends:
            if isinstance(msg, Chain) and msg.signers == (self.id,):
                assert isinstance(msg.value, tuple)
                sends.append((dst, start_chain((*msg.value, FORGED), out, msg.instance)))
            else:
                sends.append((dst, msg))
        out.sends[:] = sends
