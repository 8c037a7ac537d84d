"""What every command's arguments share: one-line parse errors, checked numbers, task names, writable outputs.

Bad input is caught before a command starts work, so nothing runs for minutes and then fails on a path.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are one line on stderr ("workbench-gym render: error: ..."), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _integer(text: str, low: int, high: int | None, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < low or (high is not None and value > high):
        raise argparse.ArgumentTypeError(f"{value} is not {what}")
    return value


def nonnegative_int(text: str) -> int:
    """An integer >= 0 (seeds)."""
    return _integer(text, 0, None, "a non-negative integer")


def positive_int(text: str) -> int:
    """An integer >= 1 (counts, sizes)."""
    return _integer(text, 1, None, "a positive integer")


def port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    return _integer(text, 0, 65535, "a TCP port (0-65535; 0 picks a free one)")


def task_name(text: str) -> str:
    """Accept "PickTool", "PickTool-v0" or "workbench_gym/PickTool-v0"; ValueError naming the tasks otherwise."""
    from workbench_gym.envs.task import get_task
    from workbench_gym.registration import NAMESPACE

    name = text.removeprefix(f"{NAMESPACE}/").removesuffix("-v0")
    get_task(name)
    return name


def writable_file(path: str | Path, option: str) -> Path:
    """`path` as a file this process can write (its directory is made if needed); ValueError naming `option`."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a directory; expected a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{option} {path}: cannot create {path.parent} ({err.strerror or err})") from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{option} {path}: not writable")
    return path
