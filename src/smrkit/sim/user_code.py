"""The user's own code, named on the command line as ``module.path:Name``.

:func:`import_module` imports ``module.path`` the way ``python -m`` would find it (the
current directory first, so a file beside the user needs no installing) and turns every
way that can fail into a :class:`UserCodeError` whose message names the problem and the
fix. :func:`resolve` takes ``Name`` from it. The protocol references of ``smrkit sim``,
``sweep``, ``replay``, ``worlds`` and ``explore`` (:mod:`smrkit.explore.protocol_ref`)
and the Byzantine strategies of ``--fault byzantine:p3=module:Class``
(:mod:`smrkit.sim.adversary`) all load code this way, and only this way.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class UserCodeError(ValueError):
    """User code that cannot be loaded; the message says what to change."""


def split_reference(ref: str) -> tuple[str, str] | None:
    """``(module, name)`` of ``module.path:Name``, or ``None`` if ``ref`` is not one."""
    module_name, sep, attribute = ref.partition(":")
    if not sep or DOTTED.fullmatch(module_name) is None or NAME.fullmatch(attribute) is None:
        return None
    return module_name, attribute


@contextmanager
def _cwd_searched() -> Iterator[str]:
    cwd = os.getcwd()
    added = cwd not in sys.path and "" not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield cwd
    finally:
        if added:
            sys.path.remove(cwd)


def module_source(module_name: str) -> str:
    """The text of the user's module, read without running it (its parent packages,
    if any, are imported to find it)."""
    with _cwd_searched() as cwd:
        try:
            spec = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            raise UserCodeError(
                f"no module named {module_name!r} (looked in {cwd} and on PYTHONPATH); run "
                "smrkit from the directory that holds it, or add that directory to PYTHONPATH"
            )
    origin = spec.origin
    if origin is None or not origin.endswith(".py"):
        raise UserCodeError(f"{module_name} is not a .py file; its source cannot be read")
    try:
        with open(origin, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise UserCodeError(f"cannot read {origin}: {error}") from None


def import_module(module_name: str) -> ModuleType:
    """Import the user's module (the current directory searched first)."""
    with _cwd_searched() as cwd:
        return _import(module_name, cwd)


def _import(module_name: str, cwd: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        missing = error.name or module_name
        if module_name == missing or module_name.startswith(missing + "."):
            raise UserCodeError(
                f"no module named {missing!r} (looked in {cwd} and on PYTHONPATH); run smrkit "
                "from the directory that holds it, or add that directory to PYTHONPATH"
            ) from None
        raise UserCodeError(
            f"importing {module_name} failed: it imports {missing!r}, which is not installed"
        ) from None
    except Exception as error:
        raise UserCodeError(
            f"importing {module_name} raised {type(error).__name__}: {error}; fix the module"
        ) from None


def resolve(module_name: str, attribute: str, wanted: str) -> object:
    """``attribute`` of the user's module ``module_name``; ``wanted`` says what it
    should be, for the error."""
    module = import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise UserCodeError(
            f"module {module_name} has no {attribute!r}; define {wanted} in it, or name "
            "another class"
        ) from None
