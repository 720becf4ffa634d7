"""Byzantine strategies by name: a built-in one, or the user's ``module:Class``.

``byzantine:p3=NAME`` in a fault plan makes the world build p3 as usual and hand it to
the adversary (:func:`byzantine_node`). ``NAME`` is a built-in strategy
(:mod:`smrkit.protocols.adversaries`) or ``module.path:ClassName``, a
:class:`~smrkit.core.byzantine.ByzantineNode` subclass loaded like a user's protocol
(:mod:`smrkit.sim.user_code`).

**What adversary code may do.** Anything a node may do with what it holds — and no
more: a Byzantine node must not mint another node's signature, and the kernel's
signatures (:mod:`smrkit.sim.kernel.signatures`) resist every forgery made of plain
Python — constructing, copying, pasting, mutating, pickling. What they cannot resist is
code that reaches past the node interface into the runtime itself. So a user's strategy
module is read (not run) before it is imported, and refused, with the line, if it:

* imports the runtime (``smrkit.sim``, ``smrkit.net``, ``smrkit.explore``, …) or a module
  that reaches into the interpreter (``gc``, ``inspect``, ``ctypes``, ``sys``,
  ``importlib``, ``builtins``, ``pickle``, ``copyreg``, …), or a private name (``_x``)
  of smrkit, or smrkit with a plain ``import`` (which binds the whole package: write
  ``from smrkit.core import …``);
* reads an attribute that leads there from an ordinary object (``.sys``, ``.modules``,
  ``.sim``, ``.kernel``, a frame's ``.f_globals``, …);
* calls ``getattr``, ``setattr``, ``vars``, ``globals``, ``locals``, ``eval``, ``exec``,
  ``compile``, ``__import__``, ``open`` or ``breakpoint``;
* touches a dunder attribute (``__closure__``, ``__globals__``, ``__self__``,
  ``__new__``, …) other than ``__init__``, ``__name__``, ``__class__`` and
  ``__post_init__``, or another object's private attribute (``out._x``, not ``self._x``).

This is a fence, not a sandbox: it states the adversary model (the node interface, and
nothing else) and catches code that leaves it by accident or on purpose in the ordinary
ways. The built-in strategies live in the protocol layer, which the layering test keeps
away from the runtime, and pass the same check (a test says so).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from smrkit.core.byzantine import AdversaryConfig, ByzantineNode
from smrkit.core.ids import NodeId
from smrkit.core.node import Node
from smrkit.protocols.adversaries import STRATEGY_NAMES, strategy_class
from smrkit.sim.user_code import UserCodeError, import_module, module_source, split_reference

FORBIDDEN_MODULES = frozenset(
    {
        "gc",
        "inspect",
        "ctypes",
        "sys",
        "importlib",
        "builtins",
        "pickle",
        "copyreg",
        "marshal",
        "types",
        "os",
        "threading",
        "weakref",
    }
)
RUNTIME_LAYERS = ("sim", "check", "explore", "net", "report", "cli")
FORBIDDEN_CALLS = frozenset(
    {
        "getattr",
        "setattr",
        "delattr",
        "vars",
        "globals",
        "locals",
        "eval",
        "exec",
        "compile",
        "__import__",
        "open",
        "breakpoint",
    }
)
ALLOWED_DUNDERS = frozenset({"__init__", "__name__", "__class__", "__post_init__"})
FORBIDDEN_ATTRIBUTES = (
    FORBIDDEN_MODULES
    | frozenset(RUNTIME_LAYERS)
    | frozenset({"modules", "kernel", "f_globals", "f_locals", "f_back", "gi_frame"})
    | frozenset({"cr_frame", "tb_frame", "tb_next"})
)
"""Attribute names that lead from an ordinary module or object into the interpreter or
the runtime (``dataclasses.sys.modules[…]``, ``smrkit.sim``)."""


class AdversaryError(ValueError):
    """A strategy that cannot be used; the message says what to change."""


def adversary_class(strategy: str) -> type[ByzantineNode]:
    """The :class:`ByzantineNode` class that ``strategy`` names."""
    builtin = strategy_class(strategy)
    if builtin is not None:
        return builtin
    parts = split_reference(strategy)
    if parts is None:
        raise AdversaryError(
            f"unknown Byzantine strategy {strategy!r}: use one of {', '.join(STRATEGY_NAMES)} "
            "or module.path:ClassName"
        )
    module_name, attribute = parts
    try:
        problems = fence_problems(module_source(module_name), module_name)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise AdversaryError(
                f"the strategy module {module_name} reaches past the node interface: "
                f"{problems[0]}{more}; an adversary acts through its handlers and out only"
            )
        module = import_module(module_name)
    except UserCodeError as error:
        raise AdversaryError(str(error)) from None
    target = getattr(module, attribute, None)
    if not (isinstance(target, type) and issubclass(target, ByzantineNode)):
        raise AdversaryError(
            f"{strategy} is not a ByzantineNode subclass; define class {attribute}"
            "(ByzantineNode) in it (from smrkit.core import ByzantineNode)"
        )
    return target


def byzantine_node(strategy: str, honest: Node, nodes: Sequence[NodeId]) -> ByzantineNode:
    """``honest``'s place taken by the adversary ``strategy``."""
    cls = adversary_class(strategy)
    try:
        return cls(honest, AdversaryConfig(tuple(nodes), strategy))
    except Exception as error:
        raise AdversaryError(
            f"building {strategy} for {honest.id} raised {type(error).__name__}: {error}; a "
            "strategy is built as Class(honest, config): keep ByzantineNode's __init__ shape"
        ) from None


def fence_problems(source: str, where: str) -> list[str]:
    """Every place ``source`` leaves the node interface (see the module docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"{where}:{error.lineno} does not parse ({error.msg})"]
    found: set[tuple[int, str]] = set()

    def say(node: ast.AST, what: str) -> None:
        found.add((getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _forbidden_module(alias.name) or alias.name.split(".")[0] == "smrkit":
                    say(node, f"imports {alias.name} (write: from smrkit.core import …)")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = [alias.name for alias in node.names]
            if node.level == 0 and _forbidden_module(module):
                say(node, f"imports {module}")
            elif module.startswith("smrkit") and any(name.startswith("_") for name in names):
                say(node, f"imports a private name of {module}")
            elif module == "smrkit" and set(names) & set(RUNTIME_LAYERS):
                say(
                    node,
                    f"imports the runtime ({', '.join(sorted(set(names) & set(RUNTIME_LAYERS)))})",
                )
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_CALLS:
            say(node, f"uses {node.id}")
        elif isinstance(node, ast.Attribute):
            name = node.attr
            if name in FORBIDDEN_ATTRIBUTES:
                say(node, f"reaches for .{name}")
            elif name.startswith("__") and name.endswith("__"):
                if name not in ALLOWED_DUNDERS:
                    say(node, f"touches {name}")
            elif name.startswith("_") and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            ):
                say(node, f"touches another object's private {name}")
    return [f"{where}:{line} {what}" for line, what in sorted(found)]


def _forbidden_module(module: str) -> bool:
    top, _, rest = module.partition(".")
    if top in FORBIDDEN_MODULES:
        return True
    return top == "smrkit" and rest.split(".")[0] in RUNTIME_LAYERS


def fence_problems_of_file(path: Path) -> list[str]:
    """:func:`fence_problems` of a file (the tests hold the built-in strategies to it)."""
    return fence_problems(path.read_text(encoding="utf-8"), path.name)
