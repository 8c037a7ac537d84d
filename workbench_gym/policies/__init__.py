"""Planners: the `Planner` protocol and its implementations (random now; oracle and VLM to come)."""

from workbench_gym.policies.planner import Planner, RandomPlanner

PLANNERS = {"random": RandomPlanner}

__all__ = ["PLANNERS", "Planner", "RandomPlanner"]
