"""A reader for EDN, the notation Jepsen, Knossos and Maelstrom write histories in.

Enough of EDN for the history files those tools write, and strict about the rest:
anything it does not understand is an error that says where, never a guess.

* maps ``{:k v}``, vectors ``[…]``, lists ``(…)`` (both read as lists), sets ``#{…}``
  (read as lists), strings, keywords (:class:`Keyword`), symbols (:class:`Symbol`),
  integers (``N`` suffix allowed), floats (``M`` suffix allowed), ``nil``, ``true`` and
  ``false``, characters ``\\c``;
* a tagged element ``#tag form`` reads as ``form``: newer Jepsen writes each op as a
  record, ``#jepsen.history.Op{:index 0, …}``; ``#_ form`` discards the form;
* commas are whitespace and ``;`` starts a comment to the end of the line.

:func:`read_edn` reads one form; :func:`read_forms` reads every top-level form of a
file, each with the line it starts on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Keyword:
    """An EDN keyword such as ``:ok`` (kept apart from strings)."""

    name: str


@dataclass(frozen=True)
class Symbol:
    """An EDN symbol such as ``foo/bar`` (kept apart from strings and keywords)."""

    name: str


class EdnError(ValueError):
    """Text that is not EDN; ``line`` is where the problem is (1-based)."""

    def __init__(self, problem: str, line: int) -> None:
        super().__init__(problem)
        self.line = line


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_CHARACTERS = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r"}
_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?N?M?")
_SYMBOL = re.compile(r"[A-Za-z*!_?<>=$%&+\-.][\w*!_?<>=$%&+\-.:#'/]*|/")
_DELIMITERS = frozenset(' \t\r\n,{}[]()";')
_SPACE = frozenset(" \t\r\n,")


def read_edn(text: str) -> object:
    """Read exactly one EDN form from ``text``. Raises :class:`EdnError`."""
    reader = _Reader(text)
    value = reader.value()
    reader.skip_space()
    if reader.pos != len(text):
        raise reader.error(f"unexpected {text[reader.pos]!r} after the form")
    return value


def read_forms(text: str, *, unwrap: bool = False) -> Iterator[tuple[int, object]]:
    """Every top-level form of ``text``, with the line it starts on.

    With ``unwrap``, a text that is one vector yields the vector's items instead (a
    history written as ``[{…} {…}]``).
    """
    reader = _Reader(text)
    reader.skip_space()
    wrapped = unwrap and text.startswith("[", reader.pos)
    if wrapped:
        reader.pos += 1
    while True:
        reader.skip_space()
        if wrapped and text.startswith("]", reader.pos):
            reader.pos += 1
            wrapped = False
            continue
        if reader.pos >= len(text):
            if wrapped:
                raise reader.error("missing ']' at end of text")
            return
        line = reader.line()
        yield line, reader.value()


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self._counted = (0, 1)  # (position, its line): lines are counted incrementally

    def line(self) -> int:
        at, line = self._counted
        if self.pos < at:
            at, line = 0, 1
        line += self.text.count("\n", at, self.pos)
        self._counted = (self.pos, line)
        return line

    def error(self, problem: str) -> EdnError:
        start = self.text.rfind("\n", 0, self.pos) + 1
        return EdnError(f"{problem} at column {self.pos - start + 1}", self.line())

    def skip_space(self) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in _SPACE:
                self.pos += 1
            elif char == ";":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif text.startswith("#_", self.pos):
                self.pos += 2
                self.value()
            else:
                return

    def value(self) -> object:
        self.skip_space()
        if self.pos >= len(self.text):
            raise self.error("unexpected end of text")
        char = self.text[self.pos]
        if char == "{":
            self.pos += 1
            return self.mapping()
        if char in "[(":
            self.pos += 1
            return self.sequence("]" if char == "[" else ")")
        if char == '"':
            return self.string()
        if char == "#":
            return self.dispatch()
        if char == "\\":
            return self.character()
        start = self.pos
        token = self.token()
        if token.startswith(":") and len(token) > 1:
            return Keyword(token[1:])
        if token == "nil":
            return None
        if token in ("true", "false"):
            return token == "true"
        if _NUMBER.fullmatch(token):
            digits = token.rstrip("NM")
            if any(c in digits for c in ".eE"):
                return float(digits)
            return int(digits)
        if _SYMBOL.fullmatch(token):
            return Symbol(token)
        self.pos = start
        raise self.error(f"unexpected {token!r}")

    def mapping(self) -> dict[object, object]:
        items = self.sequence("}")
        if len(items) % 2:
            raise self.error("a map needs an even number of forms")
        result: dict[object, object] = {}
        for key, value in zip(items[::2], items[1::2], strict=True):
            if isinstance(key, list | dict):
                raise self.error(f"unsupported map key {key!r}")
            result[key] = value
        return result

    def sequence(self, close: str) -> list[object]:
        opened = self.pos - 1
        items: list[object] = []
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                self.pos = opened
                raise self.error(f"missing {close!r} for the {self.text[opened]!r}")
            if self.text[self.pos] == close:
                self.pos += 1
                return items
            if self.text[self.pos] in ")]}":
                raise self.error(f"unexpected {self.text[self.pos]!r}, expected {close!r}")
            items.append(self.value())

    def dispatch(self) -> object:
        follow = self.text[self.pos + 1 : self.pos + 2]
        if follow == "{":
            self.pos += 2
            return self.sequence("}")
        self.pos += 1
        tag = self.token()
        if not _SYMBOL.fullmatch(tag):
            raise self.error(f"unsupported dispatch '#{tag}'")
        return self.value()

    def character(self) -> str:
        self.pos += 1
        start = self.pos
        while self.pos < len(self.text) and (
            self.pos == start or self.text[self.pos] not in _DELIMITERS
        ):
            self.pos += 1
        name = self.text[start : self.pos]
        if len(name) == 1:
            return name
        if name in _CHARACTERS:
            return _CHARACTERS[name]
        raise self.error(f"unknown character \\{name}")

    def string(self) -> str:
        text = self.text
        opened = self.pos
        self.pos += 1
        parts: list[str] = []
        while self.pos < len(text):
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(parts)
            if char == "\\":
                code = text[self.pos + 1 : self.pos + 2]
                if code == "u" and re.fullmatch(
                    r"[0-9a-fA-F]{4}", text[self.pos + 2 : self.pos + 6]
                ):
                    parts.append(chr(int(text[self.pos + 2 : self.pos + 6], 16)))
                    self.pos += 6
                    continue
                if code not in _ESCAPES:
                    raise self.error("bad escape in string")
                parts.append(_ESCAPES[code])
                self.pos += 2
                continue
            parts.append(char)
            self.pos += 1
        self.pos = opened
        raise self.error("unterminated string")

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _DELIMITERS:
            self.pos += 1
        if self.pos == start:
            raise self.error(f"unexpected {self.text[start]!r}")
        return self.text[start : self.pos]
