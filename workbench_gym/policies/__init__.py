"""Planners: the `Planner` protocol, the random baseline, the privileged oracle and the VLM planner."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from workbench_gym.policies.oracle import OraclePlanner
from workbench_gym.policies.planner import Planner, RandomPlanner
from workbench_gym.policies.vlm_planner import ENV_OPTIONS as VLM_ENV_OPTIONS
from workbench_gym.policies.vlm_planner import VLMPlanner, make_vlm_planner
from workbench_gym.registry import Registry


class PlannerEntry(NamedTuple):
    """How to build a planner: `make(env, seed, **options)`, the control mode it plans in, env options it needs."""

    make: Callable[..., Planner]
    control_mode: str | None = None
    env_options: dict = {}


PLANNERS: Registry[PlannerEntry] = Registry("planner")
PLANNERS.register("random", PlannerEntry(lambda env, seed: RandomPlanner(env, seed)))
PLANNERS.register("oracle", PlannerEntry(lambda env, seed: OraclePlanner(env), "primitive"))
# The VLM planner gets the observation space only, never the env: options are `backend="native"` and its options.
# It looks through a camera with depth, hence its env options.
PLANNERS.register("vlm", PlannerEntry(
    lambda env, seed, backend="native", **options: make_vlm_planner(env.observation_space, backend, **options), "primitive", VLM_ENV_OPTIONS,
))

__all__ = ["PLANNERS", "VLM_ENV_OPTIONS", "OraclePlanner", "Planner", "PlannerEntry", "RandomPlanner", "VLMPlanner", "make_vlm_planner"]
