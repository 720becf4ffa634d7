"""What a step leaves behind: typed records, one per thing that happened.

A :class:`Record` is a ``NamedTuple`` — as cheap to build and compare as the plain tuple
it replaces, but readable: ``r.kind == HALT``, not ``r[1]``. Every record of a run, in
order, is the run's trace (:mod:`smrkit.sim.trace` writes them as JSON Lines and hashes
them); the kernel writes the network and fault records, the observers
(:mod:`smrkit.sim.observers`) the records of what nodes expose.

====================  ======  ==========  ======  =====================================
kind                  node    other       num     data
====================  ======  ==========  ======  =====================================
``start``             node    —           —       —
``send``              src     dst         msg id  the message
``deliver``           dst     src         msg id  the message
``drop``              dst     src         msg id  the cause (``crashed``, ``link``, …)
``timer``             node    —           —       the timer
``crash``             node    —           —       the fault spec
``halt``              node    —           —       the reason
``save``              node    —           —       the key
``fault``             —       —           —       ``(phase, spec)``: begin / end
``round``             —       —           r       — (lock-step: round r begins)
``act``               node    —           —       the move (a Byzantine node's free step)
``end``               —       —           —       —
``primary``           node    —           —       True / False (the predicate Prmy)
``dest``              client  new Dest    —       —
``invoke``            client  —           seq     the op
``complete``          client  —           seq     ``(status, result)``
``apply``             replica —           index   the command
``proposed``          node    —           round   the value it proposed
``delivered``         node    sender      round   the value it delivered (broadcast)
``decided``           node    —           round   the value it decided
``elected``           node    —           term    its log: ``(base_index, base_term, terms)``
``committed``         node    —           index   ``(term, first, entries)``, see below
====================  ======  ==========  ======  =====================================

The last seven are observers' records: ``primary``, ``dest`` and ``apply`` come from the
primary-backup observer, ``invoke`` and ``complete`` from the history observer,
``proposed``, ``delivered`` and ``decided`` from the consensus observer (their round is
the seeds' round numbering under ``lock-step``, ``None`` otherwise). ``deliver`` is the
network handing a message to a node; ``delivered`` is a broadcast protocol delivering a
value to its user — seed 002's *deliver(m)*.

``elected`` and ``committed`` come from the leader-log observer (Raft): a server became
the leader of ``term`` with that log (entries after ``base_index`` by their terms), or
its commit index advanced to ``index`` while it was in ``term``; ``entries`` are the
newly committed entries from ``first`` on, each ``(term, client, seq)`` (``client``
``None`` for a leader's no-op).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Record(NamedTuple):
    """One thing that happened at virtual time ``t`` (see the table above)."""

    t: float
    kind: str
    node: Any
    other: Any
    num: Any
    data: Any


START = "start"
SEND = "send"
DELIVER = "deliver"
DROP = "drop"
TIMER = "timer"
CRASH = "crash"
HALT = "halt"
SAVE = "save"
FAULT = "fault"
ROUND = "round"
ACT = "act"
END = "end"
PRIMARY = "primary"
DEST = "dest"
INVOKE = "invoke"
COMPLETE = "complete"
APPLY = "apply"
PROPOSED = "proposed"
DELIVERED = "delivered"
DECIDED = "decided"
ELECTED = "elected"
COMMITTED = "committed"

KERNEL_KINDS = (START, SEND, DELIVER, DROP, TIMER, CRASH, HALT, SAVE, FAULT, ROUND, ACT, END)
OBSERVER_KINDS = (
    PRIMARY,
    DEST,
    INVOKE,
    COMPLETE,
    APPLY,
    PROPOSED,
    DELIVERED,
    DECIDED,
    ELECTED,
    COMMITTED,
)
