"""The benchmark protocol: `workbench-gym eval --suite v1`, its definition as data, the runner and the results card."""

from workbench_gym.benchmark.planners import PlannerChoice
from workbench_gym.benchmark.runner import run_suite
from workbench_gym.benchmark.suite import Suite, load_suite

__all__ = ["PlannerChoice", "Suite", "load_suite", "run_suite"]
