"""`EnvConfig`'s fields as command-line options, declared once: each field's type, default and metadata (choices,
help) make its option, so every command that builds an env takes the options `gym.make(**kwargs)` takes.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, fields
from typing import get_args, get_origin, get_type_hints

from workbench_gym.envs.config import EnvConfig

#: Fields that are not command-line options: the nested physics settings, and how a command renders.
NOT_OPTIONS = ("sim", "render_mode")
_PREFIX = "env_"  # argparse dest prefix, so env options never collide with a command's own


def _argument(name: str, kind, default, metadata) -> dict:
    """argparse keyword arguments for one field."""
    shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
    arguments = {"dest": _PREFIX + name, "default": None, "help": f"{metadata.get('help', name)} (default: {shown})"}
    if "choices" in metadata:
        arguments["choices"] = list(metadata["choices"])
    if "metavar" in metadata:
        arguments["metavar"] = metadata["metavar"]
    if kind is bool:  # --swap-target / --no-swap-target
        arguments["action"] = argparse.BooleanOptionalAction
    elif get_origin(kind) is tuple:
        items = get_args(kind)
        arguments.update(type=items[0], nargs="+" if items[-1] is Ellipsis else len(items))
    else:
        arguments["type"] = next((t for t in (int, float, str) if kind is t or t in get_args(kind)), str)
    return arguments


def env_fields(only: tuple[str, ...] | None = None, skip: tuple[str, ...] = ()) -> list[str]:
    """Names of the `EnvConfig` fields offered as options: all but `NOT_OPTIONS` and `skip`, or just `only`."""
    names = [f.name for f in fields(EnvConfig) if f.name not in NOT_OPTIONS and f.name not in skip]
    return [n for n in names if only is None or n in only]


def add_env_arguments(parser: argparse.ArgumentParser, only: tuple[str, ...] | None = None, skip: tuple[str, ...] = ()) -> None:
    """Add `--obs-mode`, `--n-tools`, ... (see `env_fields`) in an "environment options" group."""
    group = parser.add_argument_group("environment options", "as gym.make(**kwargs) takes them; unset ones keep the env's default")
    hints = get_type_hints(EnvConfig)
    by_name = {f.name: f for f in fields(EnvConfig)}
    for name in env_fields(only, skip):
        f = by_name[name]
        default = f.default if f.default is not MISSING else f.default_factory()
        group.add_argument(f"--{name.replace('_', '-')}", **_argument(name, hints[name], default, f.metadata))


def env_options(args: argparse.Namespace) -> dict:
    """The env options given on the command line (those left unset are absent), ready for `gym.make(**options)`."""
    options = {}
    for key, value in vars(args).items():
        if key.startswith(_PREFIX) and value is not None:
            options[key.removeprefix(_PREFIX)] = tuple(value) if isinstance(value, list) else value
    return options
