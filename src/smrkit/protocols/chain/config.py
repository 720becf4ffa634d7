"""The chain's configuration, the state the master replicates, and how it changes.

A :class:`ChainConfig` is plain data: the epoch, the chain from head to tail, and the
replica joining as the new tail (waiting for its state transfer), if any.
:class:`ChainConfigMachine` is the deterministic state machine the master's Raft group
replicates; :func:`next_config` is the master's deterministic decision: given what a master node
observed (who is silent, who is suspected by its predecessor, who asks to join), the
configuration of the next epoch, or ``None`` when nothing needs to change.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.ops import Op, Value
from smrkit.core.state_machine import InvalidOperationError


@dataclass(frozen=True, slots=True)
class ChainConfig(Message):
    """Plain data; a :class:`Message` only so that the codec and traces, which rebuild
    nothing but registered message classes, carry it inside ``NewConfig``."""

    epoch: int
    chain: tuple[NodeId, ...]
    joining: NodeId | None = None
    """The new tail (``chain[-1]``) until it has the old tail's state."""

    def well_formed(self) -> bool:
        """Distinct replicas, the joining one (if any) last: what a peer's message must
        hold before a replica adopts it (a malformed one is counted and dropped)."""
        return (
            isinstance(self.epoch, int)
            and isinstance(self.chain, tuple)
            and all(isinstance(n, str) for n in self.chain)
            and len(set(self.chain)) == len(self.chain)
            and (self.joining is None or (bool(self.chain) and self.chain[-1] == self.joining))
        )

    @property
    def head(self) -> NodeId | None:
        return self.chain[0] if self.chain else None

    @property
    def tail(self) -> NodeId | None:
        return self.chain[-1] if self.chain else None

    def successor(self, node: NodeId) -> NodeId | None:
        i = self.chain.index(node)
        return self.chain[i + 1] if i + 1 < len(self.chain) else None

    def predecessor(self, node: NodeId) -> NodeId | None:
        i = self.chain.index(node)
        return self.chain[i - 1] if i > 0 else None


def next_config(
    config: ChainConfig,
    *,
    silent: Collection[NodeId],
    suspected: Collection[NodeId],
    fresh: Collection[NodeId],
    installing: Collection[NodeId] = (),
) -> ChainConfig | None:
    """The next configuration, or ``None`` if this one stands.

    * Members that are silent (no heartbeat within the detection time-out) or came back
      as a fresh incarnation (they lost their state) are removed — head, middle or tail
      (not the joining tail: it is fresh until it hears of its epoch).
    * Only if none is, a member suspected by its predecessor (acknowledgements stopped
      coming back) is removed: the most downstream suspect, since every replica above a
      broken link suspects its own successor.
    * A joining tail still ``installing`` the old tail's state goes with any other
      removal: its state comes from its predecessor, and a chain must never be left
      to replicas that lack what was committed.
    * Otherwise one fresh replica that is not a member joins as the new tail (it serves
      once the old tail's state has reached it).
    A chain never becomes empty: its last member stays (the chain stops; it does not
    forget what it committed).
    """
    chain = config.chain
    # A joining tail reports itself fresh until it hears of the epoch that adds it.
    removed = [n for n in chain if n in silent or (n in fresh and n != config.joining)]
    if not removed:
        removed = [n for n in reversed(chain) if n in suspected][:1]
    if removed and config.joining is not None and config.joining in installing:
        removed.append(config.joining)
    kept = tuple(n for n in chain if n not in removed)
    if not kept:
        return None
    if removed:
        return ChainConfig(config.epoch + 1, kept)
    joiners = sorted(n for n in fresh if n not in kept)
    if not joiners:
        return None
    return ChainConfig(config.epoch + 1, (*kept, joiners[0]), joiners[0])


RECONFIGURE = "reconfigure"
"""The one op of :class:`ChainConfigMachine`: ``Op(RECONFIGURE, None, (epoch, chain,
joining))``."""


def reconfigure_op(config: ChainConfig) -> Op:
    return Op(RECONFIGURE, None, (config.epoch, tuple(config.chain), config.joining))


def config_of(op: Op) -> ChainConfig:
    """The configuration a ``reconfigure`` op proposes; :class:`InvalidOperationError`
    if it is not one."""
    value = op.value
    if op.f != RECONFIGURE or not isinstance(value, tuple | list) or len(value) != 3:
        raise InvalidOperationError(f"not a chain reconfiguration: {op}")
    epoch, chain, joining = value
    if not isinstance(epoch, int) or not isinstance(chain, tuple | list):
        raise InvalidOperationError(f"a reconfiguration needs an epoch and a chain: {op}")
    if not all(isinstance(n, str) for n in chain) or len(set(chain)) != len(chain):
        raise InvalidOperationError(f"a chain lists distinct replicas: {op}")
    if joining is not None and (not chain or chain[-1] != joining):
        raise InvalidOperationError(f"the joining replica must be the new tail: {op}")
    names = tuple(str(n) for n in chain)
    return ChainConfig(epoch, names, None if joining is None else str(joining))


class ChainConfigMachine:
    """The master's replicated state machine: the chain's configuration. A
    reconfiguration to epoch e + 1 applies only on top of epoch e (it answers ``True``);
    any other is a no-op answering ``False`` — two master leaders that both proposed an
    epoch's successor cannot both win."""

    name = "chain-config"

    def __init__(self, initial: ChainConfig) -> None:
        self.config = initial

    def apply(self, op: Op) -> Value:
        proposed = config_of(op)
        if proposed.epoch != self.config.epoch + 1:
            return False
        self.config = proposed
        return True

    def snapshot(self) -> Value:
        return (self.config.epoch, self.config.chain, self.config.joining)

    def restore(self, snapshot: Value) -> None:
        self.config = config_of(Op(RECONFIGURE, None, snapshot))
