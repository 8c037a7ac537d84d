"""Gymnasium environments: `WorkbenchEnv`, task plug-ins, observation and control modes."""

from workbench_gym.envs import tasks  # noqa: F401  (registers the tasks)
from workbench_gym.envs.config import CONTROL_MODES, OBS_MODES, EnvConfig
from workbench_gym.envs.task import TASKS, Task, register_task
from workbench_gym.envs.workbench_env import WorkbenchEnv
from workbench_gym.registration import env_id, register_envs

__all__ = ["CONTROL_MODES", "OBS_MODES", "TASKS", "EnvConfig", "Task", "WorkbenchEnv", "env_id", "register_envs", "register_task"]
