"""Task plug-ins: what a task is (`Task`) and how one is registered (`register_task`).

A task samples its scene, picks a goal and phrases the instruction, and scores the world. It reads
privileged simulator state (poses, contacts) for rewards and success; observations handed to
planners never carry it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from workbench_gym.envs.config import EnvConfig
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.sim.world import World

TASKS: dict[str, type[Task]] = {}


class Task:
    """Base class of a workbench task. Subclasses set the class variables and override the methods."""

    name: ClassVar[str]
    max_episode_steps: ClassVar[int]
    goal_size: ClassVar[int]  # length of the privileged goal vector in state observations

    def __init__(self, config: EnvConfig):
        self.config = config

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        raise NotImplementedError

    def reset(self, world: World, rng: np.random.Generator) -> str:
        """Choose the goal in a freshly built world; return the instruction."""
        raise NotImplementedError

    def goal_vector(self, world: World) -> np.ndarray:
        raise NotImplementedError

    def reward(self, world: World) -> float:
        raise NotImplementedError

    def is_success(self, world: World) -> bool:
        raise NotImplementedError

    def goal_info(self, world: World) -> dict:
        """The goal described by attributes, for evaluators outside the env."""
        return {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task known to `WorkbenchEnv` and to `gymnasium.make`."""
    if cls.name in TASKS:
        raise ValueError(f"task {cls.name!r} is already registered")
    TASKS[cls.name] = cls
    return cls


def get_task(name: str) -> type[Task]:
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; expected one of {sorted(TASKS)}") from None
