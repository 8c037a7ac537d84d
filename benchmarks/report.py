"""Shared output of the benchmark scripts: print the result as JSON and write it where `--out` says."""

from __future__ import annotations

import json
from pathlib import Path


def emit(result: dict, out: str | None, indent: int = 2) -> None:
    """Print `result` as JSON and, when `out` is given, write the same text there (folders created)."""
    text = json.dumps(result, indent=indent)
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n")
