"""Which planner a suite runs: a name from `policies.PLANNERS` with its options, made fresh for every episode.

`PlannerChoice` is a small frozen value, so it travels to Ray workers as it is; backends are built once per process
and reused (`_backend`), so a fresh planner per episode costs nothing and every episode starts from the same state
whatever the chunking of seeds. `substituted` gives the attribution rows' variants of a VLM planner: the oracle's
plan and/or grounding in place of the backend's (`benchmark.privileged`, privileged, for evaluation only).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from workbench_gym.policies import PLANNERS
from workbench_gym.policies.planner import Planner

#: Planners that read the simulator's state or nothing at all: they take the suite's "privileged" observation.
PRIVILEGED_PLANNERS = ("oracle", "random")
_BACKENDS: dict[str, Any] = {}
#: A planner as a suite names it: "random", "vlm/native", "vlm/native(second_look=false)", "vlm/native+oracle_grounding".
_NAMED = re.compile(r"(?P<name>[a-z_]+)(?:/(?P<backend>[a-z_]+))?(?:\((?P<options>[^()]*)\))?(?:\+oracle_(?P<oracle>plan_grounding|plan|grounding))?")


class PlannerFactory(Protocol):
    """What `run_suite` needs of a planner: `PlannerChoice` is one; a planner of your own can be another."""

    label: str  # its name on the card
    kind: str  # what a suite's per-level planner options are keyed by ("vlm/native"); any other name gets none
    privileged: bool  # True: state observations (it reads no camera); False: the suite's camera observation

    def make(self, env: Any, seed: int) -> Planner: ...  # a fresh planner for one episode

    def substituted(self, plan: bool, grounding: bool) -> PlannerFactory | None: ...  # None: no attribution rows

    def with_options(self, **options: Any) -> PlannerFactory: ...  # a level's own options (e.g. weights)


@dataclass(frozen=True)
class PlannerChoice:
    """A planner by name (`policies.PLANNERS`) with its options; for "vlm", `options` holds `backend` and its options."""

    name: str
    options: dict = field(default_factory=dict)
    oracle_plan: bool = False
    oracle_grounding: bool = False

    def __post_init__(self):
        if self.name not in PLANNERS:
            raise ValueError(f"unknown planner {self.name!r}; expected one of {sorted(PLANNERS)}")
        if (self.oracle_plan or self.oracle_grounding) and self.name != "vlm":
            raise ValueError(f"only the vlm planner has a plan and a grounding to swap for the oracle's, not {self.name!r}")

    @classmethod
    def named(cls, text: str) -> PlannerChoice:
        """The planner a suite names in `label`'s form; option values are read as JSON ("false", "3")."""
        from workbench_gym.policies.backends import parse_options

        match = _NAMED.fullmatch(text)
        if match is None:
            raise ValueError(f"planner {text!r}: expected NAME[/BACKEND][(KEY=VALUE,...)][+oracle_plan|+oracle_grounding|+oracle_plan_grounding]")
        name, backend, oracle = match["name"], match["backend"], match["oracle"] or ""
        if (backend is None) != (name != "vlm"):
            raise ValueError(f"planner {text!r}: the vlm planner takes a backend (vlm/native), other planners none")
        options = parse_options(match["options"].split(",")) if match["options"] else {}
        return cls(name, {"backend": backend, **options} if backend else options, "plan" in oracle, "grounding" in oracle)

    def __hash__(self) -> int:
        return hash(self.label)

    @property
    def backend(self) -> str | None:
        return self.options.get("backend", "native") if self.name == "vlm" else None

    @property
    def kind(self) -> str:
        """The planner and backend without options: "oracle", "vlm/native" (what a suite's per-level options name)."""
        return f"vlm/{self.backend}" if self.name == "vlm" else self.name

    @property
    def label(self) -> str:
        """Short name for cards and folders: "oracle", "vlm/native", "vlm/openai(model=...)", "vlm/native+oracle_plan"."""
        out = self.kind
        extra = {k: v for k, v in self.options.items() if k != "backend" and k not in ("api_key",)}
        if extra:
            out += "(" + ",".join(f"{k}={v}" for k, v in sorted(extra.items())) + ")"
        parts = [p for p, on in (("plan", self.oracle_plan), ("grounding", self.oracle_grounding)) if on]
        return out + (f"+oracle_{'_'.join(parts)}" if parts else "")

    @property
    def privileged(self) -> bool:
        return self.name in PRIVILEGED_PLANNERS

    def with_options(self, **options) -> PlannerChoice:
        """The same planner with more options (a level's weights for the native backend)."""
        return PlannerChoice(self.name, {**self.options, **options}, self.oracle_plan, self.oracle_grounding)

    def substituted(self, plan: bool, grounding: bool) -> PlannerChoice | None:
        """This planner with the oracle's plan and/or grounding; None for planners that have neither to swap."""
        if self.name != "vlm":
            return None
        return PlannerChoice(self.name, self.options, plan, grounding)

    def make(self, env, seed: int) -> Planner:
        """A fresh planner for one episode of `env`."""
        if self.name != "vlm":
            return PLANNERS[self.name].make(env, seed, **self.options)
        from workbench_gym.policies.vlm_planner import make_vlm_planner, split_options

        planner_options, backend_options = split_options({k: v for k, v in self.options.items() if k != "backend"})  # second_look=...
        backend = _backend(self.backend, backend_options)
        if self.oracle_plan or self.oracle_grounding:
            from workbench_gym.benchmark.privileged import PrivilegedBackend

            backend = PrivilegedBackend(backend, env, plan=self.oracle_plan, grounding=self.oracle_grounding)
        return make_vlm_planner(env.observation_space, backend, **planner_options)


def _backend(name: str, options: dict):
    """One backend per name and options in this process."""
    from workbench_gym.policies.backends import make_backend

    key = json.dumps([name, options], sort_keys=True, default=str)
    if key not in _BACKENDS:
        _BACKENDS[key] = make_backend(name, **options)
    return _BACKENDS[key]
