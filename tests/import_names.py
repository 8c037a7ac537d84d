"""Which modules a source file imports, read from its syntax tree (for the tests that guard the package's layers)."""

from __future__ import annotations

import ast
from pathlib import Path


def imported_names(path: Path) -> list[str]:
    """Every module name a Python file imports, at any depth (inside functions too)."""
    names = []
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module or "")
    return names
