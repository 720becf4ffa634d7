"""Signatures: values only the runtime can mint, that any node can relay and check.

A node signs with ``out.sign(value)`` and checks with ``out.verify(signed)``; both are
the runtime's. What comes back is a :class:`Signed` value — ``signer``, ``value`` and a
``seal``, the runtime's proof — which is plain data: it travels in messages, sits in node
state, is copied with a world, fingerprinted and written to traces. A protocol never
looks inside the seal; it only asks ``out.verify``.

* **In the simulator** the seal is a kernel value that only the world's keyring mints,
  and verification asks the keyring whether it issued *this very seal* for this signer
  and this value (:mod:`smrkit.sim.kernel.signatures` says how that shuts out forgery by
  construction, copying, pasting, mutation, pickling and smuggling between runs).
* **A Byzantine node** signs with its own key only — its ``out`` signs as itself — and
  can relay every genuine signature it received: seed 002's message authentication.
* **Verification is a pure function**: ``out.verify(signed)`` depends only on the value
  and on what the run's keyring issued (issued seals are never revoked); it has no
  effect and reads no node state, so every copy of a world agrees on it.
* **Ready for Ed25519.** The TCP runtime will install, per node, a signer that signs the
  UTF-8 bytes of the value's canonical text (:func:`~smrkit.sim.kernel.fingerprint.
  canonical`: independent of the interpreter and its hash seed) with the node's Ed25519
  private key and returns ``Signed(signer, value, seal)`` with the 64 signature bytes as
  the seal, and a verifier that checks those bytes against the signer's public key from
  the cluster configuration; the codec carries ``(signer, value, signature)``. Protocol
  code does not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from smrkit.core.ids import NodeId

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Signed(Generic[V]):
    """``value`` as signed by ``signer``, with the runtime's ``seal``.

    Two genuine signatures of one value by one signer are equal (the runtime mints one
    seal per signer and value); a forged one is not equal to the genuine one. The hash
    leaves the seal out, so sets and dicts of signed values behave alike in every copy
    of a world and in every process."""

    signer: NodeId
    value: V
    seal: object = field(default=None, hash=False)

    def __repr__(self) -> str:
        return f"Signed({self.signer}, {self.value!r})"


Signer = Callable[[Any], Signed[Any]]
"""Mints one node's signature over a value (the runtime gives each node its own)."""

Verifier = Callable[[Signed[Any]], bool]
"""The runtime's verification function."""


def cannot_sign(value: Any) -> Signed[Any]:
    """The signer of an ``Out`` whose runtime holds no keys (a unit test's bare ``Out``;
    the TCP runtime until it gets Ed25519 keys)."""
    raise RuntimeError(
        "this runtime cannot sign: signatures are minted by the simulator's kernel (a "
        "World's keyring); the TCP runtime has no keys yet"
    )


def verifies_nothing(signed: Signed[Any]) -> bool:
    """The verifier of a runtime without keys: no signature is genuine to it."""
    return False
