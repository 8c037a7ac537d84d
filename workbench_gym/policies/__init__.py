"""Planners: the `Planner` protocol, the random baseline and the privileged oracle."""

from workbench_gym.policies.oracle import OraclePlanner
from workbench_gym.policies.planner import Planner, RandomPlanner

#: Planner name -> (factory taking (env, seed), the control mode it plans in).
PLANNERS = {
    "random": (lambda env, seed: RandomPlanner(env, seed), None),
    "oracle": (lambda env, seed: OraclePlanner(env), "primitive"),
}

__all__ = ["PLANNERS", "OraclePlanner", "Planner", "RandomPlanner"]
