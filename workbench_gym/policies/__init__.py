"""Planners: the `Planner` protocol, the random baseline, the privileged oracle and the VLM planner."""

from workbench_gym.policies.oracle import OraclePlanner
from workbench_gym.policies.planner import Planner, RandomPlanner
from workbench_gym.policies.vlm_planner import ENV_OPTIONS as VLM_ENV_OPTIONS
from workbench_gym.policies.vlm_planner import VLMPlanner, make_vlm_planner

#: Planner name -> (factory taking (env, seed, **options), the control mode it plans in).
PLANNERS = {
    "random": (lambda env, seed: RandomPlanner(env, seed), None),
    "oracle": (lambda env, seed: OraclePlanner(env), "primitive"),
    # The VLM planner gets the observation space only, never the env: options are `backend="native"` and its options.
    "vlm": (lambda env, seed, backend="native", **options: make_vlm_planner(env.observation_space, backend, **options), "primitive"),
}
#: Env options a planner needs beyond its control mode (the VLM planner looks through a camera with depth).
PLANNER_ENV_OPTIONS = {"vlm": VLM_ENV_OPTIONS}

__all__ = ["PLANNERS", "PLANNER_ENV_OPTIONS", "VLM_ENV_OPTIONS", "OraclePlanner", "Planner", "RandomPlanner", "VLMPlanner", "make_vlm_planner"]
