"""The benchmark protocol: `workbench-gym eval --suite v1`, its definition as data, the runner and the results card.

`run_suite`, `load_suite`, `PlannerChoice` and `Suite` load on first use, so the command line's parser (which adds
the suite's options to `eval`) imports nothing heavy (scipy, the envs) until a suite runs.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {"PlannerChoice": "planners", "run_suite": "runner", "Suite": "suite", "load_suite": "suite"}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"workbench_gym.benchmark.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_EXPORTS)
