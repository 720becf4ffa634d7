"""The kernel's seal: the proof inside a simulated :class:`~smrkit.core.signatures.Signed`.

A seal names the signer and the canonical text of the value it was minted for. Only
the world's keyring (:mod:`smrkit.sim.kernel.signatures`) can make one: the constructor
wants a token that lives here, in the kernel, out of reach of protocol and adversary
code (which may not import the kernel). A seal is immutable and is never duplicated:
copying or deep-copying it returns the seal itself (a world copy shares its seals as it
shares node configurations), pickling it is refused, and it cannot be subclassed.
"""

from __future__ import annotations

from typing import Any

from smrkit.core.ids import NodeId

_MINTING = object()
"""What the keyring passes to :class:`Seal`; anything else is refused."""


class Seal:
    """Proof that ``signer`` signed a value whose canonical text is ``text``."""

    __slots__ = ("signer", "text")

    signer: NodeId
    text: str

    def __init__(self, signer: NodeId, text: str, minting: object = None) -> None:
        if minting is not _MINTING:
            raise TypeError("a seal is minted by the runtime (out.sign), not constructed")
        object.__setattr__(self, "signer", signer)
        object.__setattr__(self, "text", text)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError("Seal cannot be subclassed")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a seal is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a seal is immutable")

    def __copy__(self) -> Seal:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Seal:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a seal is not pickled (nothing in smrkit is)")

    def __repr__(self) -> str:
        return f"Seal({self.signer})"


def mint(signer: NodeId, text: str) -> Seal:
    """A new seal; for the keyring only."""
    return Seal(signer, text, _MINTING)
