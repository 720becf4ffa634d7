"""The search for a linearization of one partition, in slices that a scheduler interleaves.

The search is Wing and Gong's, with Lowe's memoization, as popularised by Porcupine:

* the calls and returns of the partition's ops are laid out in time order in a doubly
  linked list (at equal times calls come first: intervals are closed);
* walking the list from its head, the search tries to *linearize* a pending call next
  (apply its op to the model state and compare outputs); on success the op's call and
  return are unlinked and the walk restarts from the head;
* reaching a return means that op had to take effect by then and no order placed it, so
  the search backtracks: it relinks the last linearized op (the links make undo O(1))
  and tries the next candidate after it;
* a position is the set of ops linearized and the model state. Every position found to
  be a dead end is recorded; meeting it again is pruned.

Sound reductions on top, each a theorem about linearizations, not a heuristic:

* **State-keeping ops go at once.** An op whose observed output means it changed
  nothing (a read; a cas that answered ``False``: see
  :meth:`~smrkit.apps.spec.SequentialSpec.keeps_state`) is placed as soon as its output
  fits the state, with no other order tried. Take any linearization that places it
  later: moving it to now keeps every state after it, and real time allows it, because
  every op that returned before its call is already placed. So the position before it
  is a dead end exactly when the position after it is.
* **Ops of unknown outcome are optional**, and having used *more* of them only removes
  choices: a position is a dead end when one was met with the same completed ops, the
  same state and a subset of the optional ops used. An optional op that would leave
  the state as it is never needs to be used (the position without it dominates).
* **Identical optional ops** (same function and argument) are interchangeable, so they
  are used only in the order of their calls: in any linearization, swapping one for an
  earlier-called unused twin keeps real time and every state.
* **Growing states are bounded by the longest read.** Where a key's only
  state-changing ops are appends (:attr:`~smrkit.apps.spec.SequentialSpec.appends`),
  every state is a prefix of every later one, so until the key's longest completed read
  is placed, a state that is not a prefix of its output is a dead end. A burst of
  appends answered together (an outage) is then searched in the orders the reads
  allow, not in all of them.

Each memo entry says "no linearization continues from here", a fact about the position
alone, whatever order found it. That is why several walkers, each trying candidates in
its own order, can share one memo (and one table of model outcomes): a dead end one
proves prunes the others. Positions merely *visited* are not shared, as they are not
dead ends until a walk has finished with them.

Two orders are raced (see :data:`STRATEGIES`), because neither wins everywhere:

* ``call-order`` tries the pending ops in the order of their calls, optional ones
  included (Porcupine's order). It finds a linearization fast when ops of unknown
  outcome did take effect, since it places them early, where they usually happened;
* ``must-first`` tries the ops that must take effect before the optional ones. Its dead
  ends use fewer optional ops, so they dominate more positions, which refutes a
  history with many ops of unknown outcome quickly.

The completed ops linearized so far are kept as ``(k, window)``: all ops of call rank
below ``k``, plus ``window``'s bits above it. The search places ops roughly in call
order, so the window stays as small as the concurrency, and memo keys stay small even in
a history of 100,000 ops. Reads that return the state itself are indexed by that state,
so finding the one that fits takes one lookup, however many are pending.

The search remembers the deepest dead end any walker met (a reference into that
walker's stack, which is a persistent linked list, so taking it costs nothing); that is
the witness of a violation. Nothing is searched twice.

Bounds: deciding linearizability is NP-complete (Gibbons and Korach), so the worst case
is exponential in the number of concurrent ops; the histories of real systems, where
most ops overlap few others, take a few steps per op. The memo holds one entry per dead
end met (a few small integers and a state) and the outcome table one per op and state
tried, so memory grows with the steps taken; a timeout bounds both. A partition's memo
and table are dropped as soon as it is decided.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from smrkit.apps import SequentialSpec
from smrkit.check.history import Operation, Status
from smrkit.core.ops import Value

# Search steps (placements and backtracks) per slice: a slice takes a few milliseconds,
# so a scheduler that looks at the clock between slices honours a timeout closely.
SLICE_STEPS = 2048

# The orders walkers try candidates in, raced on every partition.
STRATEGIES = ("call-order", "must-first")

# Markers in the table of op outcomes: not computed yet; cannot take effect there.
_MISSING = object()
_NO_GO = object()

# A stack node: (parent, call entry, state before, k, window, maybe, pass), where pass is
# the index of the pass that placed the op, or -1 when it was forced (it kept the state).
Node = tuple[Any, int, Value, int, int, int, int]


@dataclass
class DeadEnd:
    """The deepest point a search reached: its stack, the state there, and the return
    entry it stopped at (the op that had to take effect and could not)."""

    depth: int
    optional_used: int
    top: Node | None
    state: Value
    blocked_entry: int


class PartitionSearch:
    """What every walker of one partition shares: the ops, the model, the memo of dead
    ends, the table of model outcomes, and the deepest dead end met so far."""

    def __init__(
        self, spec: SequentialSpec, ops: list[Operation], initial: Value, key: str | None
    ) -> None:
        self.spec = spec
        self.key = key
        self.initial = initial
        self.ops = ops = sorted(ops, key=lambda op: (op.call, op.id))
        self.fs = [op.f for op in ops]
        self.args = [op.arg for op in ops]
        self.outs = [op.output for op in ops]
        self.out_types = [type(op.output) for op in ops]
        # Only a completed op's output is checked; an info op never returned anything.
        ok = Status.OK
        self.known = known = [op.output_known and op.status is ok for op in ops]
        # State-keeping ops that fit exactly the state equal to their output (reads),
        # indexed by that state: (type, value), so that True never passes for 1.
        returns_state = spec.returns_state
        self.reads_state: list[tuple[type, Value] | None] = [
            (type(op.output), op.output) if k and op.f in returns_state else None
            for op, k in zip(ops, known, strict=True)
        ]
        self.keeps = [
            k and (op.f in returns_state or spec.keeps_state(op.f, op.arg, op.output))
            for op, k in zip(ops, known, strict=True)
        ]
        # Completed ops get a rank (their bit in the done set); optional ones a bit.
        self.rank = [-1] * len(ops)
        self.opt_bit = [0] * len(ops)
        must = 0
        optional = 0
        inf = math.inf
        for i, op in enumerate(ops):
            if op.ret == inf:
                self.opt_bit[i] = 1 << optional
                optional += 1
            else:
                self.rank[i] = must
                must += 1
        self.must = must
        self.optional = optional
        self.grow_limit, self.grow_limit_rank = _grow_limit(spec, ops, initial, known, self.rank)
        self.twin = _twins(ops, self.opt_bit)
        self.ent_op, self.match = _entry_list(ops)
        self.outcomes: list[dict[Value, Any]] = [{} for _ in ops]
        self.failed: dict[tuple[int, int, Value], list[int]] = {}
        self.deepest: DeadEnd | None = None
        # The stack and state where a walker found a linearization.
        self.found: tuple[Node | None, Value] | None = None
        self.steps = 0
        self.dead_ends = 0

    def release(self) -> None:
        """Drop the memo and the outcome table once the partition is decided: they only
        serve the search, and the other partitions' searches may still need the memory."""
        self.failed = {}
        self.outcomes = []

    @property
    def linearization(self) -> list[tuple[Operation, Value]] | None:
        """The linearization found, each op with the model state after it, if any."""
        return None if self.found is None else self.prefix(*self.found)

    def prefix(self, top: Node | None, state: Value) -> list[tuple[Operation, Value]]:
        """The ops of a stack, bottom first, each with the model state after it."""
        nodes: list[Node] = []
        while top is not None:
            nodes.append(top)
            top = top[0]
        nodes.reverse()
        result: list[tuple[Operation, Value]] = []
        for depth, node in enumerate(nodes):
            after = nodes[depth + 1][2] if depth + 1 < len(nodes) else state
            result.append((self.ops[self.ent_op[node[1]]], after))
        return result

    def pending_at(self, dead: DeadEnd) -> list[Operation]:
        """The ops called, and not yet linearized, before the dead end's blocked return."""
        placed = {id(op) for op, _ in self.prefix(dead.top, dead.state)}
        pending: list[Operation] = []
        for entry in range(1, dead.blocked_entry):  # entries are numbered in time order
            if self.match[entry] >= 0:
                op = self.ops[self.ent_op[entry]]
                if id(op) not in placed:
                    pending.append(op)
        return pending

    def blocked_op(self, dead: DeadEnd) -> Operation:
        return self.ops[self.ent_op[dead.blocked_entry]]


def walk(search: PartitionSearch, order: str) -> Generator[None, None, bool]:
    """One walker: a depth-first search in its own order over the shared memo.

    Yields after every :data:`SLICE_STEPS` steps; returns ``True`` when it has found a
    linearization (stored in ``search.linearization``), ``False`` when none exists.

    The walker keeps its pending entries in several linked lists that share one pair of
    arrays (each entry is in exactly one list): the returns, the calls of state-keeping
    ops, and the other calls — one list of them (``call-order``), or one of ops that must
    take effect and one of optional ops, searched in that order (``must-first``). Entries
    are numbered in time order, so a call is a candidate exactly when its number is below
    the first pending return's.
    """
    s = search
    must_first = order == "must-first"
    lists = _Lists(s, must_first)
    nxt = lists.nxt
    prv = lists.prv
    ret_head = lists.ret_head
    keep_head = lists.keep_head
    read_heads = lists.read_heads
    heads = lists.pass_heads
    last_pass = len(heads) - 1
    match = s.match
    ent_op = s.ent_op
    step = s.spec.step
    fs, args, outs, out_types, known = s.fs, s.args, s.outs, s.out_types, s.known
    rank, opt_bit, twin = s.rank, s.opt_bit, s.twin
    outcomes = s.outcomes
    failed = s.failed
    missing = _MISSING
    no_go = _NO_GO
    limit = s.grow_limit
    limit_rank = s.grow_limit_rank

    state: Any = s.initial
    k = 0
    window = 0
    maybe = 0
    remaining = s.must
    top: Node | None = None
    budget = SLICE_STEPS
    current_pass = 0
    first_return = 0
    fresh = True
    entry = 0
    while remaining:
        if fresh:
            # A new position: an op that keeps the state and fits goes first, alone.
            fresh = False
            first_return = nxt[ret_head]
            # First the reads of exactly this state, then the other state-keeping ops.
            head = read_heads.get((type(state), state))
            entry = first_return if head is None else nxt[head]
            if entry >= first_return:
                entry = nxt[keep_head]
                while entry < first_return:
                    i = ent_op[entry]
                    seen = outcomes[i]
                    result = seen.get(state, missing)
                    if result is missing:
                        result = _apply(step, state, fs[i], args[i], outs[i], out_types[i], True)
                        seen[state] = result
                    if result is not no_go:
                        break
                    entry = nxt[entry]
            if entry < first_return:
                current_pass = -1  # placed below, with no other order tried
            else:
                current_pass = 0
                entry = nxt[heads[0]]
        if entry < first_return:
            i = ent_op[entry]
            if current_pass < 0:
                result = state
            else:
                seen = outcomes[i]
                result = seen.get(state, missing)
                if result is missing:
                    # The model's step, inlined: outputs equal and of the same type.
                    try:
                        result, out = step(state, fs[i], args[i])
                        if known[i] and (out != outs[i] or type(out) is not out_types[i]):
                            result = no_go
                    except (ValueError, TypeError):
                        result = no_go
                    seen[state] = result
                if result is no_go:
                    entry = nxt[entry]
                    continue
            ret_entry = match[entry]
            if ret_entry:
                after_k = k
                after_window = window | (1 << (rank[i] - k))
                if after_window & 1:
                    shift = (after_window ^ (after_window + 1)).bit_length() - 1
                    after_k += shift
                    after_window >>= shift
                after_maybe = maybe
            elif result == state or (twin[i] and not maybe & twin[i]):
                # An optional op that would change nothing never needs to take effect,
                # nor one whose identical twin, called earlier, has not.
                entry = nxt[entry]
                continue
            else:
                after_k = k
                after_window = window
                after_maybe = maybe | opt_bit[i]
            dead = failed.get((after_k, after_window, result))
            if dead is not None:
                hopeless = False
                for earlier in dead:
                    if earlier | after_maybe == after_maybe:
                        hopeless = True
                        break
                if hopeless and current_pass < 0:
                    # The position after a forced op is a dead end, so this one is too.
                    entry = first_return
                    current_pass = last_pass
                    continue
                if hopeless:
                    entry = nxt[entry]
                    continue
            if (
                limit is not None
                and result is not state
                and not limit.startswith(result)
                and not (limit_rank < k or window >> (limit_rank - k) & 1)
            ):
                # States only grow here, and the longest read, still to come, would never
                # see this one's prefix (see _grow_limit).
                entry = nxt[entry]
                continue
            top = (top, entry, state, k, window, maybe, current_pass)
            state = result
            k = after_k
            window = after_window
            maybe = after_maybe
            p = prv[entry]
            q = nxt[entry]
            nxt[p] = q
            prv[q] = p
            if ret_entry:
                remaining -= 1
                p = prv[ret_entry]
                q = nxt[ret_entry]
                nxt[p] = q
                prv[q] = p
            fresh = True
            budget -= 1
            if not budget:
                budget = SLICE_STEPS
                s.steps += SLICE_STEPS
                yield
        elif current_pass < last_pass:
            current_pass += 1
            entry = nxt[heads[current_pass]]
        else:
            # The first pending return: that op had to be linearized by now, and no
            # candidate works. This position is a dead end.
            s.dead_ends += 1
            depth = s.must - remaining
            used = maybe.bit_count()
            best = s.deepest
            if (
                best is None
                or depth > best.depth
                or (depth == best.depth and used < best.optional_used)
            ):
                s.deepest = DeadEnd(depth, used, top, state, first_return)
            while True:
                memo_key = (k, window, state)
                dead = failed.get(memo_key)
                if dead is None:
                    failed[memo_key] = [maybe]
                else:
                    dead[:] = [earlier for earlier in dead if earlier | maybe != earlier]
                    dead.append(maybe)
                if top is None:
                    s.steps += SLICE_STEPS - budget
                    return False
                top, entry, state, k, window, maybe, current_pass = top
                ret_entry = match[entry]
                if ret_entry:
                    remaining += 1
                    nxt[prv[ret_entry]] = ret_entry
                    prv[nxt[ret_entry]] = ret_entry
                nxt[prv[entry]] = entry
                prv[nxt[entry]] = entry
                if current_pass >= 0:
                    break
            first_return = nxt[ret_head]
            entry = nxt[entry]
            budget -= 1
            if not budget:
                budget = SLICE_STEPS
                s.steps += SLICE_STEPS
                yield
    s.steps += SLICE_STEPS - budget
    s.found = (top, state)
    return True


class _Lists:
    """A walker's linked lists of pending entries, in one pair of arrays ``nxt``/``prv``.

    Entries 1..size are the search's calls and returns in time order. Each list has a
    head and a tail sentinel numbered above every entry, so that a walk that stops at
    the first entry numbered at or above a return also stops at a tail.
    """

    def __init__(self, s: PartitionSearch, must_first: bool) -> None:
        size = len(s.match) - 2
        kinds: list[object] = ["returns", "keeps"]
        kinds += ["must", "optional"] if must_first else ["calls"]
        kinds += sorted({read for read in s.reads_state if read is not None}, key=repr)
        heads = {kind: size + 1 + 2 * index for index, kind in enumerate(kinds)}
        self.nxt = [0] * (size + 1 + 2 * len(kinds))
        self.prv = [0] * (size + 1 + 2 * len(kinds))
        last = dict(heads)
        for entry in range(1, size + 1):
            ret_entry = s.match[entry]
            i = s.ent_op[entry]
            kind: object
            if ret_entry < 0:
                kind = "returns"
            elif s.reads_state[i] is not None:
                kind = s.reads_state[i]
            elif s.keeps[i]:
                kind = "keeps"
            elif not must_first:
                kind = "calls"
            else:
                kind = "must" if ret_entry else "optional"
            self.nxt[last[kind]] = entry
            self.prv[entry] = last[kind]
            last[kind] = entry
        for kind, head in heads.items():
            tail = head + 1
            self.nxt[last[kind]] = tail
            self.prv[tail] = last[kind]
            self.nxt[tail] = tail
        self.ret_head = heads["returns"]
        self.keep_head = heads["keeps"]
        # The list of pending reads of each state: (type, value) -> head.
        self.read_heads = {kind: head for kind, head in heads.items() if isinstance(kind, tuple)}
        self.pass_heads = [heads["must"], heads["optional"]] if must_first else [heads["calls"]]


def _apply(
    step: Any, state: Value, f: str, arg: Value, expected: Value, expected_type: type, known: bool
) -> object:
    """The state after an op, or ``_NO_GO`` if its output would differ from the one seen.

    Outputs must be equal and of the same type, so that ``True`` never passes for ``1``.
    """
    try:
        new_state, out = step(state, f, arg)
    except (ValueError, TypeError):
        return _NO_GO
    if known and (out != expected or type(out) is not expected_type):
        return _NO_GO
    return new_state


def _grow_limit(
    spec: SequentialSpec, ops: list[Operation], initial: Value, known: list[bool], rank: list[int]
) -> tuple[str | None, int]:
    """For a partition whose states only grow (every op a read, a state-keeping op, or
    one of ``spec.appends``): the output of its longest completed read, and that read's
    rank. ``(None, -1)`` otherwise, or when it has no read.

    Until that read is placed, every state must be a prefix of its output: a later state
    only adds to an earlier one, so from a state that is not a prefix the read can never
    fit. That cuts the search from every order of a burst of concurrent appends (what an
    outage leaves: 8 appends pending at once had 10^5–10^6 dead ends, ~400 MB of memo)
    to the orders the reads allow. A sound pruning, not a heuristic: it removes only
    positions from which no linearization exists.
    """
    if not spec.appends or not (initial is None or isinstance(initial, str)):
        return None, -1
    longest: tuple[int, str, int] | None = None
    for i, op in enumerate(ops):
        if op.f in spec.appends and isinstance(op.arg, str):
            continue
        if not known[i] or not spec.keeps_state(op.f, op.arg, op.output):
            return None, -1  # a put, a cas that took effect, one of unknown outcome
        if op.f in spec.returns_state:
            if not (op.output is None or isinstance(op.output, str)):
                return None, -1
            seen = op.output or ""
            if longest is None or len(seen) > longest[0]:
                longest = (len(seen), seen, rank[i])
    return (None, -1) if longest is None else (longest[1], longest[2])


def _twins(ops: list[Operation], opt_bit: list[int]) -> list[int]:
    """For each optional op, the bit of the identical optional op called just before it.

    Identical optional ops are interchangeable, so the search only ever uses them in
    the order of their calls; 0 means there is no such twin.
    """
    twin = [0] * len(ops)
    last_of_kind: dict[tuple[str, str], int] = {}
    for i, op in enumerate(ops):  # ops are in call order
        if op.ret == math.inf:
            kind = (op.f, repr(op.arg))
            if kind in last_of_kind:
                twin[i] = opt_bit[last_of_kind[kind]]
            last_of_kind[kind] = i
    return twin


def _entry_list(ops: list[Operation]) -> tuple[list[int], list[int]]:
    """The calls and returns in time order, as arrays ``(op, match)`` over entries.

    Entry 0 is a head, 1..k the calls and returns in time order, k+1 a tail. At equal
    times calls come first, so ops that merely touch count as concurrent. ``op[e]`` is
    the index of the op of entry ``e``; ``match[e]`` is, for a call, the index of its
    return entry (0 when the op never returns) and -1 for a return (and for the head
    and the tail).
    """
    events: list[tuple[float, int, int]] = []
    for i, op in enumerate(ops):
        events.append((op.call, 0, i))
        if op.ret != math.inf:
            events.append((op.ret, 1, i))
    events.sort()
    size = len(events)
    ent_op = [-1] * (size + 2)
    match = [-1] * (size + 2)
    call_entry = [0] * len(ops)
    for index, (_, kind, i) in enumerate(events, start=1):
        ent_op[index] = i
        if kind == 0:
            call_entry[i] = index
            match[index] = 0
        else:
            match[call_entry[i]] = index
    return ent_op, match
