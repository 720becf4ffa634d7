"""Seed 002's specifications as checkers: reliable broadcast, terminating reliable
broadcast and consensus, over any run's records.

A checker reads a run's record sequence (the kernel's :class:`~smrkit.sim.kernel.
records.Record` s, as in a trace: ``trace.events``, or ``world.log``) and the set of
*correct* processes — the ones the specification binds. Only these records matter:

* ``proposed`` (node, round, value): the process proposed ``value`` (consensus); for the
  broadcast specifications, the **sender's** ``proposed`` record is its *broadcast(m)*;
* ``delivered`` (node, sender, round, value): *deliver(m)* of a value broadcast by
  ``sender``;
* ``decided`` (node, round, value): *decide(v)*.

The specifications, as the seed states them (each is one :class:`PropertyCheck`):

========================  ==============================================================
consensus                 termination (every correct process decides), validity (if
                          every process that proposes proposes v, every correct process
                          decides v), agreement (if a correct process decides v, every
                          correct process decides v), integrity (a correct process
                          decides at most once, and a value ≠ :data:`NU` that some
                          process proposed)
reliable broadcast        validity (a correct sender's m is delivered by every correct
                          process), agreement (m delivered by a correct process is
                          delivered by every correct process), integrity (a correct
                          process delivers at most one message, one the sender broadcast)
uniform                   agreement and integrity bind faulty processes too: a message a
                          crashed process delivered must reach every correct process
terminating (TRB)         termination (every correct process delivers something) and the
                          three above, where delivering :data:`SF` ("sender faulty")
                          needs no broadcast
========================  ==============================================================

"Eventually" is judged at the end of the run: a run that stopped before a process
decided is judged as if it never would. **Byzantine versions**: pass only the honest
processes as ``correct`` — only they are bound — and name the Byzantine ones in
``byzantine=`` so that their proposals (which mean nothing) are left out of validity.

Each verdict names the processes, rounds and values involved (``detail``, one line, and
the same as data in :meth:`PropertyCheck.to_json`), like the linearizability witness.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from smrkit.core.agreement import NU, SF
from smrkit.sim.kernel.records import CRASH, DECIDED, DELIVERED, HALT, PROPOSED, Record

__all__ = [
    "NU",
    "SF",
    "PropertyCheck",
    "consensus_checks",
    "correct_processes",
    "reliable_broadcast_checks",
    "trb_checks",
]

CONSENSUS_PROPERTIES = ("termination", "validity", "agreement", "integrity")
BROADCAST_PROPERTIES = ("validity", "agreement", "integrity")


@dataclass(frozen=True)
class PropertyCheck:
    """One property's verdict over one run.

    ``detail`` is one line for a person; ``processes``, ``rounds`` and ``values`` say
    the same as data (the processes at fault, the rounds of the records involved, the
    values, as ``repr``)."""

    name: str
    ok: bool
    detail: str
    processes: tuple[str, ...] = ()
    rounds: tuple[int | None, ...] = ()
    values: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """``detail``, under the name the other checks' verdicts use."""
        return self.detail

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "detail": self.detail,
            "processes": list(self.processes),
            "rounds": list(self.rounds),
            "values": list(self.values),
        }


@dataclass
class _Event:
    node: str
    round: int | None
    value: Any
    sender: str | None = None


@dataclass
class _Run:
    """The agreement records of a run, per process, in order."""

    proposed: dict[str, list[_Event]] = field(default_factory=dict)
    delivered: dict[str, list[_Event]] = field(default_factory=dict)
    decided: dict[str, list[_Event]] = field(default_factory=dict)

    @property
    def processes(self) -> list[str]:
        seen: dict[str, None] = {}
        for table in (self.proposed, self.delivered, self.decided):
            seen.update(dict.fromkeys(table))
        return list(seen)


def _read(records: Iterable[Record]) -> _Run:
    run = _Run()
    for record in records:
        kind = record[1]
        if kind == PROPOSED:
            table, sender = run.proposed, None
        elif kind == DELIVERED:
            table, sender = run.delivered, record[3]
        elif kind == DECIDED:
            table, sender = run.decided, None
        else:
            continue
        node = record[2]
        table.setdefault(node, []).append(_Event(node, record[4], record[5], sender))
    return run


def correct_processes(
    records: Iterable[Record], processes: Iterable[str], byzantine: Collection[str] = ()
) -> list[str]:
    """Those of ``processes`` that neither crashed nor halted in the run, nor are
    Byzantine: the processes a (non-uniform) specification binds."""
    down = {record[2] for record in records if record[1] in (CRASH, HALT)}
    return [p for p in processes if p not in down and p not in byzantine]


def _show(value: Any) -> str:
    return repr(value)


def _where(event: _Event) -> str:
    return "" if event.round is None else f" in round {event.round}"


def _passed(name: str, detail: str) -> PropertyCheck:
    return PropertyCheck(name, True, detail)


def _failed(
    name: str, detail: str, events: Iterable[_Event], missing: Iterable[str] = ()
) -> PropertyCheck:
    found = list(events)
    return PropertyCheck(
        name,
        False,
        detail,
        tuple(dict.fromkeys([e.node for e in found] + list(missing))),
        tuple(e.round for e in found),
        tuple(dict.fromkeys(_show(e.value) for e in found)),
    )


def _names(processes: Iterable[str]) -> str:
    return ", ".join(processes)


# --- consensus ------------------------------------------------------------------------


def consensus_checks(
    records: Iterable[Record],
    correct: Collection[str],
    *,
    values: Mapping[str, Any] | Collection[Any] | None = None,
    byzantine: Collection[str] = (),
) -> dict[str, PropertyCheck]:
    """Termination, validity, agreement and integrity of consensus over ``records``,
    binding the ``correct`` processes. The proposals that validity and integrity judge
    by are the ``proposed`` records, less those of the ``byzantine`` processes — or
    ``values`` when given: each process's proposal (a mapping), or just the values
    proposed (any other collection), for runs whose records do not hold them."""
    run = _read(records)
    proposals: dict[str, list[_Event]]
    if values is None:
        proposals = {p: e for p, e in run.proposed.items() if p not in byzantine}
    elif isinstance(values, Mapping):
        proposals = {p: [_Event(p, None, v)] for p, v in values.items()}
    else:
        proposals = {"?": [_Event("?", None, v) for v in values]}
    bound = list(correct)
    return {
        "termination": _termination(run.decided, bound, "decided", "decide"),
        "validity": _consensus_validity(run, proposals, bound),
        "agreement": _agreement(run.decided, bound, bound, "decided", "decide"),
        "integrity": _consensus_integrity(run, proposals, bound),
    }


def _termination(
    table: Mapping[str, list[_Event]], bound: list[str], did: str, do: str
) -> PropertyCheck:
    name = "termination"
    if not bound:
        return PropertyCheck(name, False, "no correct process: nothing is bound to " + do)
    missing = [p for p in bound if not table.get(p)]
    if missing:
        return PropertyCheck(
            name,
            False,
            f"{len(missing)} of {len(bound)} correct processes never {did}: {_names(missing)}",
            tuple(missing),
        )
    rounds = [r for p in bound if (r := table[p][0].round) is not None]
    last = max(rounds, default=None)
    by = "" if last is None else f" (the last in round {last})"
    return _passed(name, f"all {len(bound)} correct processes {did}{by}")


def _consensus_validity(
    run: _Run, proposals: Mapping[str, list[_Event]], bound: list[str]
) -> PropertyCheck:
    name = "validity"
    proposed = {_show(e.value): e.value for events in proposals.values() for e in events}
    if len(proposed) != 1:
        what = "nothing was proposed" if not proposed else f"{len(proposed)} values proposed"
        return _passed(name, f"holds vacuously: {what}")
    (v,) = proposed.values()
    wrong = [e for p in bound for e in run.decided.get(p, [])[:1] if e.value != v]
    missing = [p for p in bound if not run.decided.get(p)]
    if wrong or missing:
        parts = [f"{e.node} decided {_show(e.value)}{_where(e)}" for e in wrong]
        parts += [f"{p} never decided" for p in missing]
        return _failed(
            name,
            f"every process proposed {_show(v)}, but " + "; ".join(parts),
            wrong,
            missing,
        )
    return _passed(name, f"every process proposed {_show(v)}; every correct process decided it")


def _agreement(
    table: Mapping[str, list[_Event]],
    deciders: list[str],
    bound: list[str],
    did: str,
    do: str,
    *,
    of: str = "",
) -> PropertyCheck:
    """No two of ``deciders`` (correct processes, or all processes for a uniform
    specification) ``did`` different values, and once one of them did, every one of
    ``bound`` did too."""
    name = "agreement"
    firsts = [table[p][0] for p in deciders if table.get(p)]
    distinct = list(dict.fromkeys(_show(e.value) for e in firsts))
    if len(distinct) > 1:
        groups = "; ".join(
            f"{v} by " + _names(f"{e.node}{_where(e)}" for e in firsts if _show(e.value) == v)
            for v in distinct
        )
        return _failed(name, f"processes {did} differently{of}: {groups}", firsts)
    if firsts:
        missing = [p for p in bound if not table.get(p)]
        if missing:
            first = firsts[0]
            return _failed(
                name,
                f"{first.node} {did} {distinct[0]}{of}{_where(first)}, but "
                f"{_names(missing)} never did",
                [first],
                missing,
            )
        return _passed(name, f"{len(firsts)} processes {did} {distinct[0]}{of}")
    return _passed(name, f"holds vacuously: no process {did}{of}")


def _consensus_integrity(
    run: _Run, proposals: Mapping[str, list[_Event]], bound: list[str]
) -> PropertyCheck:
    name = "integrity"
    proposed = {_show(e.value) for events in proposals.values() for e in events}
    twice = [e for p in bound for e in run.decided.get(p, [])[1:]]
    if twice:
        first = [run.decided[e.node][0] for e in twice]
        parts = [f"{a.node} decided {_show(a.value)}{_where(a)} and again" for a in first]
        parts = [
            f"{part} {_show(b.value)}{_where(b)}" for part, b in zip(parts, twice, strict=True)
        ]
        return _failed(name, "decided more than once: " + "; ".join(parts), first + twice)
    invented = [
        e
        for p in bound
        for e in run.decided.get(p, [])
        if e.value != NU and _show(e.value) not in proposed
    ]
    if invented:
        parts = [f"{e.node} decided {_show(e.value)}{_where(e)}" for e in invented]
        return _failed(name, "decided a value no process proposed: " + "; ".join(parts), invented)
    return _passed(name, "each correct process decided at most once, a proposed value or NU")


# --- reliable broadcast and TRB ---------------------------------------------------------


def reliable_broadcast_checks(
    records: Iterable[Record], correct: Collection[str], sender: str, *, uniform: bool = False
) -> dict[str, PropertyCheck]:
    """Validity, agreement and integrity of ``sender``'s reliable broadcast (its
    ``proposed`` record is *broadcast(m)*), binding the ``correct`` processes — and
    all processes' deliveries, ``uniform``."""
    return _broadcast(_read(records), list(correct), sender, uniform=uniform, sf=None)


def trb_checks(
    records: Iterable[Record], correct: Collection[str], sender: str, *, sf: Any = SF
) -> dict[str, PropertyCheck]:
    """Termination, validity, agreement and integrity of terminating reliable broadcast
    from ``sender``: delivering ``sf`` ("sender faulty") needs no broadcast."""
    run = _read(records)
    table = _from(run, sender)
    bound = list(correct)
    checks = {"termination": _termination(table, bound, "delivered", "deliver")}
    checks.update(_broadcast(run, bound, sender, uniform=False, sf=sf))
    return checks


def _from(run: _Run, sender: str) -> dict[str, list[_Event]]:
    """Each process's deliveries of ``sender``'s messages."""
    table: dict[str, list[_Event]] = {}
    for p, events in run.delivered.items():
        mine = [e for e in events if e.sender == sender]
        if mine:
            table[p] = mine
    return table


def _broadcast(
    run: _Run, bound: list[str], sender: str, *, uniform: bool, sf: Any
) -> dict[str, PropertyCheck]:
    table = _from(run, sender)
    broadcast = run.proposed.get(sender, [])
    of = f" from {sender}"
    deciders = list(dict.fromkeys(bound + list(table))) if uniform else bound
    return {
        "validity": _broadcast_validity(table, bound, sender, broadcast),
        "agreement": _agreement(table, deciders, bound, "delivered", "deliver", of=of),
        "integrity": _broadcast_integrity(table, deciders, sender, broadcast, sf),
    }


def _broadcast_validity(
    table: Mapping[str, list[_Event]], bound: list[str], sender: str, broadcast: list[_Event]
) -> PropertyCheck:
    name = "validity"
    if sender not in bound:
        return _passed(name, f"holds vacuously: the sender {sender} is not correct")
    if not broadcast:
        return _passed(name, f"holds vacuously: {sender} broadcast nothing")
    m = broadcast[0].value
    missing = [p for p in bound if not any(e.value == m for e in table.get(p, []))]
    if missing:
        return _failed(
            name,
            f"correct {sender} broadcast {_show(m)}{_where(broadcast[0])}, but "
            f"{_names(missing)} never delivered it",
            [broadcast[0]],
            missing,
        )
    return _passed(
        name, f"correct {sender} broadcast {_show(m)}; every correct process delivered it"
    )


def _broadcast_integrity(
    table: Mapping[str, list[_Event]],
    bound: list[str],
    sender: str,
    broadcast: list[_Event],
    sf: Any,
) -> PropertyCheck:
    name = "integrity"
    of = f" from {sender}"
    twice = [e for p in bound for e in table.get(p, [])[1:]]
    if twice:
        parts = [f"{e.node} delivered {_show(e.value)}{_where(e)} a second time" for e in twice]
        return _failed(name, f"delivered more than one message{of}: " + "; ".join(parts), twice)
    sent = {_show(e.value) for e in broadcast}
    free = () if sf is None else (_show(sf),)
    invented = [
        e for p in bound for e in table.get(p, []) if _show(e.value) not in sent | set(free)
    ]
    if invented:
        parts = [f"{e.node} delivered {_show(e.value)}{_where(e)}" for e in invented]
        return _failed(
            name, f"delivered a message {sender} never broadcast: " + "; ".join(parts), invented
        )
    allowed = "" if sf is None else f" (or {_show(sf)})"
    return _passed(
        name, f"each process delivered at most one message{of}, one it broadcast{allowed}"
    )
