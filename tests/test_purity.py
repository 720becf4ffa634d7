"""The architecture's rules, enforced (DESIGN.md, "Layers" and "The protocol interface").

Protocols, the core and the applications are sans-I/O: no module under them imports
asyncio, socket, time, random (randomness comes from ``out.rng``), threading, or anything
of the simulator or the network runtime. And each layer imports only from the layers
above it. Imports under ``if TYPE_CHECKING:`` are types, not behaviour, and are allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "smrkit"
LAYERS = ["core", "apps", "protocols", "sim", "check", "explore", "net", "report", "cli"]
PURE = ["core", "apps", "protocols"]
FORBIDDEN_IN_PURE = {"asyncio", "socket", "time", "random", "threading", "selectors"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                typing_only.add(id(inner))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _modules(layer: str) -> list[Path]:
    base = SRC / layer
    return sorted(base.rglob("*.py")) if base.is_dir() else []


@pytest.mark.parametrize("layer", PURE)
def test_pure_layers_do_no_io(layer: str) -> None:
    offences = []
    for path in _modules(layer):
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in FORBIDDEN_IN_PURE or module.startswith(("smrkit.sim", "smrkit.net")):
                offences.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_import_only_from_above(layer: str) -> None:
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    offences = []
    for path in _modules(layer):
        for line, module in _imports(path):
            parts = module.split(".")
            inner = parts[1] if parts[0] == "smrkit" and len(parts) > 1 else None
            if inner in LAYERS and inner not in allowed:
                offences.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    assert not offences, "\n".join(offences)


def test_the_purity_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nimport time\nif TYPE_CHECKING:\n    import random\n"
    )
    assert [name for _, name in _imports(sample)] == ["typing", "time"]
