"""The vocabulary every other layer speaks: ids, ops, messages, nodes, state machines,
failure models. Nothing here performs I/O or reads a clock."""

from smrkit.core.byzantine import AdversaryConfig, ByzantineNode
from smrkit.core.failure_models import TABLE_1, FailureModel, LowerBounds, lower_bounds
from smrkit.core.ids import (
    NodeId,
    client_ids,
    is_client,
    is_server,
    rank,
    server_ids,
)
from smrkit.core.messages import ClientReply, ClientRequest, Message, PrimaryHint
from smrkit.core.node import ClientNode, ConsensusProcess, Node, Out, Replica, Timer
from smrkit.core.ops import Command, Op, Value, freeze, thaw
from smrkit.core.signatures import Signed
from smrkit.core.state_machine import InvalidOperationError, StateMachine

__all__ = [
    "TABLE_1",
    "AdversaryConfig",
    "ByzantineNode",
    "ClientNode",
    "ClientReply",
    "ClientRequest",
    "Command",
    "ConsensusProcess",
    "FailureModel",
    "InvalidOperationError",
    "LowerBounds",
    "Message",
    "Node",
    "NodeId",
    "Op",
    "Out",
    "PrimaryHint",
    "Replica",
    "Signed",
    "StateMachine",
    "Timer",
    "Value",
    "client_ids",
    "freeze",
    "is_client",
    "is_server",
    "lower_bounds",
    "rank",
    "server_ids",
    "thaw",
]
