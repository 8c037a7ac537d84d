"""VLM backends by name: native (our offline model), hf (transformers models from a local path), openai (any
OpenAI-compatible server). Each is imported only when asked for, so torch and transformers stay optional.
"""

from __future__ import annotations

import json
from typing import Any

from workbench_gym.policies.backend import Backend

BACKENDS = ("native", "hf", "openai")


def make_backend(name: str, **options: Any) -> Backend:
    """The backend called `name`, built with `options` (its config dataclass's fields)."""
    if name == "native":
        from workbench_gym.policies.native import NativeBackend

        return NativeBackend(**options)
    if name == "hf":
        from workbench_gym.policies.backends.hf import HFBackend

        return HFBackend(**options)
    if name == "openai":
        from workbench_gym.policies.backends.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(**options)
    raise ValueError(f"unknown backend {name!r}: expected one of {', '.join(BACKENDS)}")


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """Backend options from KEY=VALUE strings; values are read as JSON when they parse (numbers, true, null)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"backend option {pair!r} must look like KEY=VALUE")
        try:
            options[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            options[key.replace("-", "_")] = value
    return options


__all__ = ["BACKENDS", "make_backend", "parse_options"]
