"""The world's keyring: who may sign, and which signatures are genuine.

Each :class:`~smrkit.sim.kernel.world.World` has one :class:`Keyring`. When the world is
built, the keyring gives every node a signer of its own (``out.sign`` signs as that node
and no other) and then closes: no signer for anyone can be had afterwards. Signing
``value`` as ``p1`` returns ``Signed("p1", value, seal)`` where the seal
(:mod:`~smrkit.sim.kernel.seal`) names p1 and the value's canonical text; the keyring
mints one seal per signer and text and remembers it.

**Verification** (``keyring.verify``, which every node's ``out.verify`` is) holds a
signature genuine when its seal is *the very object* the keyring issued for that signer
and that text, and the value's canonical text is that text. Plain Python code cannot
forge one:

====================================================  ===================================
the attempt                                           why it fails
====================================================  ===================================
``Signed("p1", v, None)``, or a seal-like object      not a seal this keyring issued
``Seal("p1", text)``                                  refused: only the keyring mints
``object.__new__(Seal)`` and slot setting             an object the keyring never issued
p1's seal for ``v`` on another value ``w``            the seal is for ``v``'s text
``object.__setattr__(signed, "value", w)``            the same: the value changed
``copy.copy``/``deepcopy`` of a seal                  returns the seal itself (a relay)
``pickle`` of a seal                                  refused
a seal kept from another run (a class attribute)      another world's keyring issued it
signing as p1 through one's own ``out``               ``out`` signs as its own node only
====================================================  ===================================

What is left is reaching past the node interface: importing the kernel, or reading a
closure, a frame or the garbage collector. Built-in adversaries live in the protocol
layer, which may not import the simulator (``tests/test_purity.py``); a user's adversary
module is checked for all of these when it is loaded (:mod:`smrkit.sim.adversary`).

A copy of a world shares its keyring (seals are immutable and issued once per text, so
every branch of a search mints the same seal for the same signature), and fingerprints
see a seal as its signer and text: two worlds that hold the same signatures meet.
"""

from __future__ import annotations

from typing import Any

from smrkit.core.ids import NodeId
from smrkit.core.signatures import Signed, Signer, Verifier
from smrkit.sim.kernel.fingerprint import canonical
from smrkit.sim.kernel.seal import Seal, mint


class Keyring:
    """Mints and checks the signatures of one world (and of its copies)."""

    def __init__(self) -> None:
        issued: dict[tuple[NodeId, str], Seal] = {}
        self._issued = issued
        self._closed = False

        def verify(signed: Signed[Any]) -> bool:
            if type(signed) is not Signed:
                return False
            seal = signed.seal
            if type(seal) is not Seal or seal.signer != signed.signer:
                return False
            if issued.get((seal.signer, seal.text)) is not seal:
                return False
            try:
                return canonical(signed.value, "a signed value") == seal.text
            except TypeError:  # not plain data any more: not what was signed
                return False

        self.verify: Verifier = verify
        """Whether a signed value is genuine: a pure function (see the module docstring)."""

    def signer(self, node: NodeId) -> Signer:
        """The signing function of ``node``; only while the world is being built."""
        if self._closed:
            raise RuntimeError(
                "the keyring is closed: every node got its signer when the world was built"
            )
        issued = self._issued

        def sign(value: Any) -> Signed[Any]:
            text = canonical(value, f"the value {node} signs")
            seal = issued.get((node, text))
            if seal is None:
                seal = issued[(node, text)] = mint(node, text)
            return Signed(node, value, seal)

        return sign

    def close(self) -> None:
        """No more signers: every node of the world has its own."""
        self._closed = True

    @property
    def issued(self) -> int:
        """How many distinct signatures were minted (for reports and tests)."""
        return len(self._issued)
