"""Log agreement: the commands applied by correct replicas are prefixes of one another.

This is the safety property of state machine replication (seeds 002 and 003: correct
replicas step through the same sequence of state transitions). Replicas that crashed,
halted or ran Byzantine code are not required to agree — a primary may crash after
applying a command it never sent anywhere — but their logs are reported.
"""

from __future__ import annotations

from smrkit.check.verdict import Verdict
from smrkit.core.ops import Command
from smrkit.sim import trace as tr
from smrkit.sim.trace import Trace


def applied_logs(trace: Trace) -> dict[str, list[Command]]:
    """Each server's applied commands, in order, from the trace's ``apply`` events."""
    logs: dict[str, list[Command]] = {server: [] for server in trace.servers}
    for _, kind, node, _, index, command in trace.events:
        if kind == tr.APPLY:
            log = logs.setdefault(node, [])
            if index != len(log) + 1:
                raise ValueError(f"{node} applied entry {index} after {len(log)} entries")
            log.append(command)
    return logs


def check_log_agreement(trace: Trace) -> Verdict:
    logs = applied_logs(trace)
    down = {node for _, kind, node, *_ in trace.select((tr.CRASH, tr.HALT))}
    down |= trace.byzantine
    correct = [s for s in trace.servers if s not in down]
    lengths = {s: len(logs.get(s, [])) for s in trace.servers}
    details: dict[str, object] = {"correct": correct, "lengths": lengths}
    if not correct:
        return Verdict(True, "no correct replica at the end", details)
    longest = max(correct, key=lambda s: len(logs[s]))
    reference = logs[longest]
    for server in correct:
        log = logs[server]
        for index, command in enumerate(log):
            if reference[index] != command:
                details["divergence"] = {
                    "index": index + 1,
                    server: _describe(command),
                    longest: _describe(reference[index]),
                }
                return Verdict(
                    False,
                    f"{server} and {longest} applied different commands at entry {index + 1}",
                    details,
                )
    return Verdict(
        True, f"{len(correct)} correct replicas, logs are prefixes of one another", details
    )


def _describe(command: Command) -> str:
    return f"{command.client}#{command.seq} {command.op}"
