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


def applied_logs(trace: Trace) -> dict[str, list[Command | None]]:
    """Each server's applied commands, in order, from the trace's ``apply`` events;
    ``None`` for the commands a replica took over in a snapshot instead of applying
    them (its records resume after them)."""
    logs: dict[str, list[Command | None]] = {server: [] for server in trace.servers}
    for _, kind, node, _, index, command in trace.events:
        if kind == tr.APPLY:
            log = logs.setdefault(node, [])
            if index <= len(log):
                raise ValueError(f"{node} applied entry {index} after {len(log)} entries")
            log.extend([None] * (index - len(log) - 1))
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
    # Each entry is compared with the first correct replica that applied it one by one
    # (a replica that took it over in a snapshot has ``None`` there).
    first: dict[int, tuple[str, Command]] = {}
    for server in correct:
        for index, command in enumerate(logs[server]):
            if command is None:
                continue
            seen = first.setdefault(index, (server, command))
            if seen[1] != command:
                details["divergence"] = {
                    "index": index + 1,
                    server: _describe(command),
                    seen[0]: _describe(seen[1]),
                }
                return Verdict(
                    False,
                    f"{server} and {seen[0]} applied different commands at entry {index + 1}",
                    details,
                )
    return Verdict(
        True, f"{len(correct)} correct replicas, logs are prefixes of one another", details
    )


def _describe(command: Command | None) -> str:
    if command is None:
        return "(in a snapshot)"
    return f"{command.client}#{command.seq} {command.op}"
