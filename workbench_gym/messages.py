"""Values shown in error messages: short enough to read, whatever the value is (1 MB of text, a list nested
100,000 deep)."""

from __future__ import annotations

from typing import Any


def brief(value: Any, limit: int = 80) -> str:
    """`repr(value)`, cut to about `limit` characters with its type and full length noted."""
    try:
        text = repr(value)
    except RecursionError:
        return f"<{type(value).__name__} nested too deeply to show>"
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}... ({type(value).__name__}, {len(text)} characters as repr)"
