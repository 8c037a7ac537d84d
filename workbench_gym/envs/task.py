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
from workbench_gym.envs.grasping import blocking_neighbour, free_spot, grasp_action, place_action
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
    #: Families whose every tool on the bench is a goal: a distractor of one would change the task (perturbations).
    goal_families: ClassVar[tuple[str, ...]] = ()

    #: Bench rectangles ((xmin, ymin), (xmax, ymax)) where the oracle never sets a tool aside (a task's goal area).
    keep_clear: ClassVar[tuple] = ()

    def __init__(self, config: EnvConfig):
        self.config = config
        self.pick_attempts: Counter[str] = Counter()
        self.cleared: set[str] = set()  # tools whose way the oracle has cleared
        self.clearing: tuple[str, np.ndarray] | None = None  # the neighbour the oracle moves out of the way, and from where

    def start(self, world: World, rng: np.random.Generator) -> str:
        """Begin an episode: forget the oracle's grasp attempts and cleared ways, then `reset`."""
        self.pick_attempts, self.cleared, self.clearing = Counter(), set(), None
        return self.reset(world, rng)

    def oracle_pick(self, world: World, tool: ObjectSpec) -> Pick:
        """The oracle's next grasp of `tool` (see `grasping.grasp_action`). After a failed grasp, if a neighbour lies
        where the fingers would land for every grasp, it picks that neighbour first, once, to set it aside."""
        attempt = self.pick_attempts[tool.name]
        if attempt and tool.name not in self.cleared:
            self.cleared.add(tool.name)
            blocker = blocking_neighbour(world, tool)
            if blocker is not None:
                self.clearing = (blocker.name, world.object_pose(tool.name)[0][:2])
                return grasp_action(world, blocker)
        self.pick_attempts[tool.name] += 1
        return grasp_action(world, tool, attempt)

    def oracle_action(self, world: World, held: str | None) -> HighLevelAction:
        """The oracle's next action: a neighbour it picked to clear the way is set aside first, then `oracle`."""
        clearing, self.clearing = self.clearing, None
        if held is not None and clearing is not None and held == clearing[0]:
            tool = next(t for t in world.spec.tools if t.name == held)
            spot = free_spot(world, tool, clearing[1], self.keep_clear)
            if spot is not None:
                return place_action(world, tool, spot, world.spec.bench.height)
        return self.oracle(world, held)

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

    def instructed(self, goal_level: bool) -> None:
        """Take note that the caller replaced the instruction (`reset(options={"instruction": ...})`): `goal_level` says
        it asks for the goal without naming places (a sort into any bins). Tasks without such a form refuse it."""
        if goal_level:
            raise ValueError(f"{self.name} has no goal-level form; reset option 'goal_level' applies to SortTools")

    def hear(self, action: HighLevelAction, world: World) -> str:
        """Take note of a high-level action after it ran; return the supervisor's reply, if any."""
        return ""

    def advance(self, world: World) -> str | None:
        """Called after every env step: a task that hands out instructions one at a time (a chain) returns the next
        instruction once the current one is done; others return None."""
        return None

    def step_info(self, world: World) -> dict:
        """Task-specific entries of a step's `info` (a chain's per-step results); none by default."""
        return {}

    def oracle(self, world: World, held: str | None) -> HighLevelAction:
        """The next high-level action of a planner that sees privileged state."""
        raise NotImplementedError


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task known to `WorkbenchEnv` (its Gymnasium id comes from `registration.TASK_STEPS`)."""
    return TASKS.register(cls.name, cls)


def get_task(name: str) -> type[Task]:
    """The task class called `name`; ValueError naming the registered ones."""
    return TASKS[name]
