"""Registers every task as `workbench_gym/<Task>-v0` with Gymnasium (on `import workbench_gym`)."""

from __future__ import annotations

import gymnasium as gym

from workbench_gym.envs.task import TASKS

NAMESPACE = "workbench_gym"


def env_id(task: str) -> str:
    return f"{NAMESPACE}/{task}-v0"


def register_envs() -> list[str]:
    """Register all known tasks; idempotent. Returns the env ids."""
    ids = []
    for task in TASKS.values():
        ids.append(env_id(task.name))
        if ids[-1] not in gym.registry:
            gym.register(
                id=ids[-1],
                entry_point="workbench_gym.envs.workbench_env:WorkbenchEnv",
                kwargs={"task": task.name},
                max_episode_steps=task.max_episode_steps,
            )
    return ids
