"""`Registry`: one kind of plug-in (tasks, controllers, planners, backends, renderers) by name.

Every plug-in registers the same way, `REGISTRY.register(name, implementation)` (or as a class decorator), and
help texts and `workbench-gym info` list `REGISTRY.names()`. An implementation may be given as a
"package.module:attribute" string, imported on first use, so plug-ins with heavy optional dependencies (torch,
transformers, bpy) cost nothing until asked for. Light on purpose: no imports beyond the standard library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar, overload

from workbench_gym.extras import MissingExtra, require

T = TypeVar("T")


class UnknownName(KeyError, ValueError):
    """A name nothing is registered under; a KeyError for `Mapping` and a ValueError for callers checking input."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Mapping[str, T], Generic[T]):
    """Names -> implementations of one kind of plug-in, in registration order."""

    def __init__(self, kind: str):
        self.kind = kind  # what one entry is, for error messages: "task", "backend", ...
        self._entries: dict[str, T | str] = {}
        self._extras: dict[str, tuple[str, tuple[str, ...]]] = {}  # name -> (extra, modules it needs)

    @overload
    def register(self, name: str, *, extra: str | None = None, requires: tuple[str, ...] = ()) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, implementation: T | str, *, extra: str | None = None, requires: tuple[str, ...] = ()) -> T | str: ...

    def register(self, name, implementation=None, *, extra=None, requires=()):
        """Register `implementation` (or a "module:attribute" path to it) as `name`; without one, a decorator.

        `extra` names the package extra that installs what the implementation needs, and `requires` the modules it
        imports when it runs (not only when its module loads), so `check_installed` can fail before any work with
        `pip install 'workbench-gym[extra]'`.
        """
        if implementation is None:
            return lambda obj: self.register(name, obj, extra=extra, requires=requires)
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} needs a non-empty name, got {name!r}")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = implementation
        if extra:
            self._extras[name] = (extra, tuple(requires))
        return implementation

    def check_installed(self, name: str) -> T:
        """The implementation of `name`, after checking the modules it needs are installed (`MissingExtra` if not)."""
        implementation = self[name]
        if name in self._extras:
            extra, modules = self._extras[name]
            require(extra, f"the {name} {self.kind}", modules)
        return implementation

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._entries)

    def __getitem__(self, name: str) -> T:
        """The implementation of `name`, imported if it was registered by path; `UnknownName` lists the choices."""
        if name not in self._entries:
            raise UnknownName(f"unknown {self.kind} {name!r}; expected one of {', '.join(self._entries)}")
        entry = self._entries[name]
        if isinstance(entry, str):
            module, _, attribute = entry.partition(":")
            try:
                entry = getattr(importlib.import_module(module), attribute)
            except ModuleNotFoundError as err:
                if name not in self._extras:
                    raise MissingExtra(f"the {name} {self.kind} needs {err.name}, which is not installed: pip install {err.name}") from err
                require(self._extras[name][0], f"the {name} {self.kind}", (err.name,))
                raise  # installed after all: a broken install, not a missing extra
            self._entries[name] = entry
        return entry

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
