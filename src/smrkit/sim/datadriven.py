"""The text format of scenario scripts: etcd-raft's ``testdata/*.txt`` (the
``datadriven`` format), read, checked and rewritten.

A script is a sequence of cases; each is a directive, optional input lines, a ``----``
separator and the expected output, ended by a blank line::

    # comments and blank lines between cases are kept as they are
    deliver from=p1 to=p3
    ----
    0.0200 deliver #7 p1->p3 Update(...)
    0.0200 send #12 p3->p1 Ack(epoch=0, log_length=1)

An output that contains blank lines is written between two double separators (``----``
then ``----`` again, and the same after it). A directive is a command name followed by
arguments: ``word``, ``key=value`` or ``key=(a,b,c)``; a ``[…]``, ``(…)`` or ``"…"``
group is one argument even with spaces inside (``fire p1 ["lease", 3]``).

:func:`parse` keeps every byte between cases, so :meth:`Script.render` with the outputs
a run produced writes the file back unchanged except for the outputs — which is what a
runner's ``--rewrite`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

SEPARATOR = "----"


class ScriptFormatError(ValueError):
    """A script that does not parse; the message names the line."""


@dataclass(frozen=True)
class Directive:
    """A parsed directive line: the command, its positional and its keyword arguments
    (a parenthesized value is a tuple of its comma-separated parts)."""

    command: str
    args: tuple[str, ...]
    options: dict[str, str | tuple[str, ...]] = field(hash=False)
    text: str


@dataclass(frozen=True)
class Case:
    """One case: where it starts (1-based line), its directive, input and expected output."""

    line: int
    directive: Directive
    input: tuple[str, ...]
    expected: str


@dataclass
class Script:
    """A parsed file: its cases, and the text around them, kept for rewriting."""

    cases: list[Case]
    head: list[str]
    """``head[i]`` is the raw text before case i (comments, blank lines)."""
    tail: str
    """The text after the last case."""
    blocks: list[str]
    """``blocks[i]`` is case i's directive and input lines, as written."""

    def render(self, outputs: Sequence[str]) -> str:
        """The file with each case's expected output replaced by ``outputs[i]``."""
        if len(outputs) != len(self.cases):
            raise ValueError(f"{len(outputs)} outputs for {len(self.cases)} cases")
        parts: list[str] = []
        for head, block, output in zip(self.head, self.blocks, outputs, strict=True):
            parts.append(head)
            parts.append(block)
            parts.append(render_output(output))
        parts.append(self.tail)
        return "".join(parts)


def render_output(output: str) -> str:
    """The separator and the output (in the double-separator form if it has blank lines)."""
    body = output.rstrip("\n")
    if not body:
        return f"{SEPARATOR}\n"
    if any(not line.strip() for line in body.split("\n")):
        return f"{SEPARATOR}\n{SEPARATOR}\n{body}\n{SEPARATOR}\n{SEPARATOR}\n"
    return f"{SEPARATOR}\n{body}\n"


def parse(text: str, name: str = "script") -> Script:
    """Parse a script (see the module docstring)."""
    lines = (text[:-1] if text.endswith("\n") else text).split("\n")
    cases: list[Case] = []
    heads: list[str] = []
    blocks: list[str] = []
    head: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            head.append(line + "\n")
            i += 1
            continue
        start = i
        directive_lines = [line]
        while directive_lines[-1].endswith("\\") and i + 1 < len(lines):
            i += 1
            directive_lines.append(lines[i])
        i += 1
        inputs: list[str] = []
        while i < len(lines) and lines[i] != SEPARATOR:
            if not lines[i].strip():
                raise ScriptFormatError(
                    f"{name}:{start + 1}: the case has no '{SEPARATOR}' line before a blank line"
                )
            inputs.append(lines[i])
            i += 1
        if i >= len(lines):
            raise ScriptFormatError(f"{name}:{start + 1}: the case has no '{SEPARATOR}' line")
        output, i = _read_output(lines, i + 1, name, start)
        joined = " ".join(part.rstrip("\\").strip() for part in directive_lines)
        try:
            directive = parse_directive(joined)
        except ScriptFormatError as error:
            raise ScriptFormatError(f"{name}:{start + 1}: {error}") from None
        cases.append(Case(start + 1, directive, tuple(inputs), output))
        heads.append("".join(head))
        blocks.append("".join(f"{part}\n" for part in (*directive_lines, *inputs)))
        head = []
    return Script(cases, heads, "".join(head), blocks)


def _read_output(lines: list[str], i: int, name: str, start: int) -> tuple[str, int]:
    """The output that starts at line ``i``, and the line after it (the blank line that
    ends a case is left to the text between cases)."""
    body: list[str] = []
    if i < len(lines) and lines[i] == SEPARATOR:  # the double-separator form
        i += 1
        while i + 1 < len(lines) and not (lines[i] == SEPARATOR and lines[i + 1] == SEPARATOR):
            body.append(lines[i])
            i += 1
        if i + 1 >= len(lines):
            raise ScriptFormatError(
                f"{name}:{start + 1}: the output opened with '{SEPARATOR}' twice never closes"
            )
        return "\n".join(body), i + 2
    while i < len(lines) and lines[i].strip():
        body.append(lines[i])
        i += 1
    return "\n".join(body), i


def parse_directive(text: str) -> Directive:
    """``command arg key=value key=(a,b)`` (see the module docstring)."""
    words = _split(text)
    if not words:
        raise ScriptFormatError("an empty directive")
    command, rest = words[0], words[1:]
    args: list[str] = []
    options: dict[str, str | tuple[str, ...]] = {}
    for word in rest:
        key, sep, value = word.partition("=")
        if sep and key.isidentifier():
            if value.startswith("(") and value.endswith(")"):
                inner = value[1:-1].strip()
                options[key] = tuple(p.strip() for p in inner.split(",")) if inner else ()
            else:
                options[key] = value
        else:
            args.append(word)
    return Directive(command, tuple(args), options, text)


_OPEN = {"[": "]", "(": ")", '"': '"'}


def _split(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    stack: list[str] = []
    for char in text:
        if stack:
            current.append(char)
            if char == stack[-1]:
                stack.pop()
            elif char in _OPEN and stack[-1] != '"':
                stack.append(_OPEN[char])
        elif char.isspace():
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
            if char in _OPEN:
                stack.append(_OPEN[char])
    if stack:
        raise ScriptFormatError(f"unbalanced {''.join(stack)!r} in {text!r}")
    if current:
        words.append("".join(current))
    return words
