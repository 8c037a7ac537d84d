"""Task plug-ins: what a task is (`Task`) and how one is registered (`register_task`).

A task samples its scene, picks a goal and phrases the instruction, and scores the world. It reads
privileged simulator state (poses, contacts) for rewards and success; observations handed to
planners never carry it.
"""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

import numpy as np

from workbench_gym.envs.config import EnvConfig
from workbench_gym.envs.grasping import grasp_action
from workbench_gym.envs.high_level import HighLevelAction, Pick
from workbench_gym.registry import Registry
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec
from workbench_gym.sim.world import World

TASKS: Registry[type[Task]] = Registry("task")


class Task:
    """Base class of a workbench task. Subclasses set the class variables and override the methods.

    `templates` maps "train" and "test" to disjoint phrasings of the instruction. `progress` is the
    partial credit in [0, 1]; `oracle` returns the next high-level action from privileged state.
    """

    name: ClassVar[str]
    max_episode_steps: ClassVar[int] = 200  # low-level control steps
    max_primitives: ClassVar[int] = 16  # high-level actions, with control_mode="primitive"
    goal_size: ClassVar[int] = 3  # length of the privileged goal vector in state observations
    templates: ClassVar[dict[str, tuple[str, ...]]]

    def __init__(self, config: EnvConfig):
        self.config = config
        self.pick_attempts: Counter[str] = Counter()

    def start(self, world: World, rng: np.random.Generator) -> str:
        """Begin an episode: forget the oracle's grasp attempts, then `reset`."""
        self.pick_attempts = Counter()
        return self.reset(world, rng)

    def oracle_pick(self, world: World, tool: ObjectSpec) -> Pick:
        """The oracle's next grasp of `tool`: each retry slides along the tool's grasp region."""
        attempt = self.pick_attempts[tool.name]
        self.pick_attempts[tool.name] += 1
        return grasp_action(world, tool, attempt)

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        raise NotImplementedError

    def reset(self, world: World, rng: np.random.Generator) -> str:
        """Choose the goal in a freshly built world; return the instruction."""
        raise NotImplementedError

    def progress(self, world: World) -> float:
        """Partial credit in [0, 1]."""
        raise NotImplementedError

    def is_success(self, world: World) -> bool:
        return self.progress(world) >= 1.0

    def reward(self, world: World, mode: str = "dense") -> float:
        """Low-level control reward in [-1, 0]: 0 on success, else -1 ("sparse") or `dense_reward` - 1 ("dense").

        Success ends the episode, so a positive reward would teach an agent to hover just short of
        the goal; a negative one makes finishing sooner always pay (as panda-gym's rewards do).
        """
        if self.is_success(world):
            return 0.0
        return -1.0 if mode == "sparse" else float(np.clip(self.dense_reward(world), 0.0, 1.0)) - 1.0

    def dense_reward(self, world: World) -> float:
        """Staged partial credit in [0, 1] for low-level control; tasks shaped for RL override it."""
        return self.progress(world)

    def goal_vector(self, world: World) -> np.ndarray:
        return np.zeros(self.goal_size, np.float32)

    def goal_info(self, world: World) -> dict:
        """The goal described by attributes, for evaluators outside the env."""
        return {}

    def hear(self, action: HighLevelAction, world: World) -> str:
        """Take note of a high-level action after it ran; return the supervisor's reply, if any."""
        return ""

    def oracle(self, world: World, held: str | None) -> HighLevelAction:
        """The next high-level action of a planner that sees privileged state."""
        raise NotImplementedError


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task known to `WorkbenchEnv` (its Gymnasium id comes from `registration.TASK_STEPS`)."""
    return TASKS.register(cls.name, cls)


def get_task(name: str) -> type[Task]:
    """The task class called `name`; ValueError naming the registered ones."""
    return TASKS[name]
