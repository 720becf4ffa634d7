"""The round diagram of a lock-step run: rounds as columns, processes as rows.

Each cell holds what one process did in one round: the messages it sent (to whom, and
what), its crash — with the messages that still left and those that did not — and its
decision. Byzantine processes are marked. The **dangerous chain** (seed 002) is
highlighted: every message of a process that crashed in the middle of a round, which
reached some processes and not others, is drawn in the chain's colour, and the cell of
each process it reached says whose last message it got (in the same round: the seeds
number a message by the round it is sent and received in). The diagram is read from a
run's records only, so it draws a simulated run, a search's counterexample and a trace
file alike.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from smrkit.sim.kernel.records import CRASH, DECIDED, DELIVERED, HALT, PROPOSED, ROUND, SEND, Record
from smrkit.sim.trace import short_text


@dataclass
class Cell:
    """What one process did in one round."""

    sends: dict[str, list[str]] = field(default_factory=dict)
    """Message text → its receivers, in send order."""
    crashed: str | None = None
    hidden_from: list[str] = field(default_factory=list)
    proposed: str | None = None
    decided: str | None = None
    delivered: list[str] = field(default_factory=list)
    chain: bool = False
    """A crash whose messages reached only some processes (a link of a dangerous chain)."""
    chain_from: list[str] = field(default_factory=list)
    """The crashed processes whose last messages (a chain's link) reached this one."""


@dataclass
class RoundGrid:
    processes: list[str]
    rounds: int
    cells: dict[tuple[str, int], Cell]
    byzantine: set[str]
    crashed: dict[str, int]


def grid(
    records: Iterable[Record], processes: Sequence[str], byzantine: Iterable[str] = ()
) -> RoundGrid:
    """Read the cells of the diagram from a lock-step run's records."""
    cells: dict[tuple[str, int], Cell] = {}
    crashed: dict[str, int] = {}
    current = 0
    last = 0

    def cell(node: str, r: int) -> Cell:
        return cells.setdefault((node, r), Cell())

    for record in records:
        kind = record.kind
        if kind == ROUND:
            current = last = record.num
        elif kind == SEND:
            cell(record.node, current).sends.setdefault(short_text(record.data), []).append(
                record.other
            )
        elif kind in (CRASH, HALT):
            cell(record.node, current).crashed = str(record.data)
            crashed[record.node] = current
        elif kind == PROPOSED:
            cell(record.node, record.num or 0).proposed = repr(record.data)
        elif kind == DECIDED:
            c = cell(record.node, record.num if record.num is not None else current)
            c.decided = c.decided or repr(record.data)
        elif kind == DELIVERED:
            r = record.num if record.num is not None else current
            cell(record.node, r).delivered.append(f"{record.other}: {record.data!r}")
    alive = list(processes)
    for r in range(last + 1):
        for p in processes:
            crash = cells.get((p, r))
            if crash is None or crashed.get(p) != r:
                continue
            reached = {dst for dsts in crash.sends.values() for dst in dsts}
            crash.hidden_from = [q for q in alive if q != p and q not in reached]
            crash.chain = bool(reached) and bool(crash.hidden_from)
            if crash.chain:
                for q in reached:
                    cell(q, r).chain_from.append(p)
        alive = [p for p in alive if crashed.get(p, last + 1) > r]
    while last > 0 and not any(cells.get((p, last)) for p in processes):
        last -= 1  # the round in which the last decisions were taken shows as the one before
    return RoundGrid(list(processes), last, cells, set(byzantine), crashed)


def render(g: RoundGrid, flagged: Iterable[str] = ()) -> str:
    """The diagram, as an HTML table (with the legend above it); the decisions of the
    ``flagged`` processes (those a violated property names) are marked."""
    bad = set(flagged)
    head = "".join(f"<th>{'start' if r == 0 else f'round {r}'}</th>" for r in range(g.rounds + 1))
    rows = []
    for p in g.processes:
        mark = ' <span class="byz">Byzantine</span>' if p in g.byzantine else ""
        status = ' <span class="crash-tag">crashed</span>' if p in g.crashed else ""
        tds = "".join(_cell(g, p, r, p in bad) for r in range(g.rounds + 1))
        rows.append(f'<tr><th class="proc">{html.escape(p)}{mark}{status}</th>{tds}</tr>')
    legend = (
        '<div class="legend"><span><span class="sw s-send"></span>messages sent</span>'
        '<span><span class="sw s-chain"></span>dangerous chain: a crash that reached only '
        'some processes</span><span><span class="sw s-crash"></span>crash</span>'
        '<span><span class="sw s-decide"></span>decision</span></div>'
    )
    return (
        legend + '<table class="rounds"><thead><tr><th>process</th>' + head + "</tr></thead>"
        "<tbody>" + "".join(rows) + "</tbody></table>"
    )


def _cell(g: RoundGrid, p: str, r: int, flagged: bool) -> str:
    c = g.cells.get((p, r))
    down = p in g.crashed and g.crashed[p] < r
    if c is None:
        return '<td class="down"></td>' if down else "<td></td>"
    parts: list[str] = []
    if c.chain_from:
        who = html.escape(", ".join(c.chain_from))
        parts.append(f'<div class="got chain">← got the last message of {who}</div>')
    if c.proposed is not None:
        parts.append(f'<div class="prop">proposes {html.escape(c.proposed)}</div>')
    for text, dsts in c.sends.items():
        cls = "msg chain" if c.chain else "msg"
        parts.append(
            f'<div class="{cls}">→ {html.escape(", ".join(dsts))}: '
            f"<code>{html.escape(text)}</code></div>"
        )
    if c.crashed is not None:
        hidden = f"; hidden from {html.escape(', '.join(c.hidden_from))}" if c.hidden_from else ""
        parts.append(f'<div class="crash">✕ crashed ({html.escape(c.crashed)}){hidden}</div>')
    for text in c.delivered:
        parts.append(f'<div class="deliv">delivers {html.escape(text)}</div>')
    if c.decided is not None:
        cls = "decide bad" if flagged else "decide"
        parts.append(f'<div class="{cls}">decides {html.escape(c.decided)}</div>')
    return f"<td>{''.join(parts)}</td>"


CSS = """
table.rounds { border-collapse: collapse; font-size: 12.5px; }
table.rounds th, table.rounds td { border: 1px solid #d6d8e0; padding: 4px 6px;
  vertical-align: top; text-align: left; min-width: 120px; }
table.rounds th.proc { white-space: nowrap; }
table.rounds td.down { background: repeating-linear-gradient(45deg, #f3f3f5, #f3f3f5 6px,
  #e9e9ee 6px, #e9e9ee 12px); }
.msg { color: #1d3f7a; margin: 1px 0; }
.msg code { font-size: 11.5px; }
.msg.chain { color: #b34700; font-weight: 600; }
.crash { color: #a31515; font-weight: 700; margin: 2px 0; }
.decide { background: #d9f2dc; color: #1b5e20; font-weight: 700; padding: 1px 4px;
  border-radius: 3px; display: inline-block; margin-top: 2px; }
.decide.bad { background: #fbd9d9; color: #a31515; border: 1px solid #a31515; }
.got.chain { color: #b34700; font-weight: 600; }
.prop { color: #555; }
.deliv { color: #4a148c; }
.byz { background: #ede0f7; color: #4a148c; font-size: 11px; padding: 0 4px; border-radius: 3px; }
.crash-tag { background: #fbd9d9; color: #a31515; font-size: 11px; padding: 0 4px;
  border-radius: 3px; }
.legend .s-send { background: #dce6f4; border-color: #1d3f7a; }
.legend .s-chain { background: #ffe0c2; border-color: #b34700; }
.legend .s-crash { background: #fbd9d9; border-color: #a31515; }
.legend .s-decide { background: #d9f2dc; border-color: #1b5e20; }
"""
