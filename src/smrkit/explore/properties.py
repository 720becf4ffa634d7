"""What a search checks in each state: Stateright's three kinds of property.

* ``always`` — an invariant; a state where it fails is a counterexample.
* ``sometimes`` — reachability; a state where it holds is an example (its absence, once
  the search is complete, is the finding).
* ``eventually`` — liveness, checked on paths: a path that ends (no move leaves its last
  state) or is cut by a bound (``--max-depth``, a timed world's horizon) without the
  condition having held on it is a counterexample. A bound makes this *bounded
  liveness*: "within D steps" or "by the horizon".

A condition reads a :class:`View` of the state — a node's state, the messages in flight,
the model's auxiliary state (a history) — and must not change anything it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from smrkit.core.ids import NodeId
from smrkit.core.messages import Message
from smrkit.core.node import Node
from smrkit.explore.space import AUX, CLOCK, DOWN, LIVE, NODES, POOL, SYNCHRONOUS, Space, State
from smrkit.sim.kernel.world import DELIVER_CLASS

ALWAYS = "always"
SOMETIMES = "sometimes"
EVENTUALLY = "eventually"
EXPECTATIONS = (ALWAYS, SOMETIMES, EVENTUALLY)


class View:
    """Read access to one state of a :class:`~smrkit.explore.space.Space`."""

    __slots__ = ("space", "state")

    def __init__(self, space: Space, state: State) -> None:
        self.space = space
        self.state = state

    def node(self, node_id: NodeId) -> Node:
        """The node's state, thawed into a scratch node: read it, do not keep it."""
        i = self.space.index[node_id]
        return self.space.thawed(i, self.state[NODES][i])

    def is_down(self, node_id: NodeId) -> bool:
        return bool(self.state[DOWN][self.space.index[node_id]] != LIVE)

    def messages(self) -> Iterator[tuple[NodeId, NodeId, Message]]:
        """The messages in flight, with repetitions (``synchronous``: in agenda order)."""
        space = self.space
        if space.config.timing == SYNCHRONOUS:
            for _, klass, item in self.state[POOL]:
                if klass == DELIVER_CLASS:
                    yield space.envelope(item)
        else:
            for env in self.state[POOL]:
                yield space.envelope(env)

    @property
    def aux(self) -> Any:
        return self.space.auxes.values[self.state[AUX]]

    def node_fact(self, node_id: NodeId, fact: Callable[[Node], Any]) -> Any:
        """``fact(node)`` of the node's state, computed once per distinct state of it."""
        i = self.space.index[node_id]
        key = (fact, i, self.state[NODES][i])
        facts = self.space.facts
        if key not in facts:
            facts[key] = fact(self.space.thawed(i, self.state[NODES][i]))
        return facts[key]

    def aux_fact(self, fact: Callable[[Any], Any]) -> Any:
        """``fact(self.aux)``, computed once per distinct auxiliary value of the search."""
        key = (fact, self.state[AUX])
        facts = self.space.facts
        if key not in facts:
            facts[key] = fact(self.aux)
        return facts[key]

    def any_message(self, test: Callable[[Message], bool]) -> bool:
        """Whether some message in flight passes ``test`` (computed once per message)."""
        space = self.space
        facts = space.facts
        envs = space.envs.values
        if space.config.timing == SYNCHRONOUS:
            items = [item for _, klass, item in self.state[POOL] if klass == DELIVER_CLASS]
        else:
            items = self.state[POOL]
        for env in items:
            key = (test, env)
            passed = facts.get(key)
            if passed is None:
                passed = facts[key] = bool(test(envs[env][2]))
            if passed:
                return True
        return False

    @property
    def now(self) -> float:
        return float(self.state[CLOCK])


@dataclass(frozen=True)
class Property:
    expectation: str
    name: str
    condition: Callable[[View], bool]

    def __post_init__(self) -> None:
        if self.expectation not in EXPECTATIONS:
            raise ValueError(f"unknown expectation {self.expectation!r}: {EXPECTATIONS}")


def always(name: str, condition: Callable[[View], bool]) -> Property:
    return Property(ALWAYS, name, condition)


def sometimes(name: str, condition: Callable[[View], bool]) -> Property:
    return Property(SOMETIMES, name, condition)


def eventually(name: str, condition: Callable[[View], bool]) -> Property:
    return Property(EVENTUALLY, name, condition)
