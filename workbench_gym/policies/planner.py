"""The `Planner` protocol every policy follows, and the random baseline."""

from __future__ import annotations

from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from workbench_gym.envs.high_level import VERBS, Answer, Ask, Done, Pick, Place, encode
from workbench_gym.scenes.catalog import COLOURS
from workbench_gym.scenes.spec import BenchSpec
from workbench_gym.sim.robot import MAX_FINGER_WIDTH

#: Where random high-level actions go: the bench top in front of the arm, bins included (x, y in metres), and a
#: grasp or release height up to 6 cm above a default bench (a workspace constant, as a robot's cell would give it).
WORKSPACE = ((0.18, -0.70), (0.86, 0.70))
HEIGHTS = (BenchSpec().height, BenchSpec().height + 0.06)
MIN_WIDTH = 0.005  # metres: the narrowest opening a random pick asks for
_WORDS = ("yes", "no", *map(str, range(7)), *COLOURS)  # what a random answer says


class Planner(Protocol):
    """Maps observations to actions for one episode at a time."""

    def reset(self, instruction: str) -> None: ...

    def act(self, observation: dict[str, Any]) -> Any: ...


class RandomPlanner:
    """Uniform random actions, seeded: the floor any planner must beat.

    Low-level control modes sample the action space. With high-level actions (`control_mode="primitive"`) it sends
    well-formed ones: a verb drawn uniformly from `VERBS`, poses uniform over `WORKSPACE` and `HEIGHTS` with any yaw,
    a finger opening up to the hand's widest, an answer of a number, colour or yes/no, a question "Which one?".
    """

    def __init__(self, env: gym.Env, seed: int | None = None):
        self.action_space = env.action_space
        self.action_space.seed(seed)
        self.high_level = getattr(env.unwrapped, "config", None) is not None and env.unwrapped.config.control_mode == "primitive"
        self.rng = np.random.default_rng(seed)

    def reset(self, instruction: str) -> None:
        pass

    def act(self, observation: dict[str, Any]) -> Any:
        if not self.high_level:
            return self.action_space.sample()
        verb = VERBS[int(self.rng.integers(len(VERBS)))]
        if verb in ("pick", "place"):
            (x0, y0), (x1, y1) = WORKSPACE
            pose = (float(self.rng.uniform(x0, x1)), float(self.rng.uniform(y0, y1)), float(self.rng.uniform(*HEIGHTS)),
                    float(self.rng.uniform(-np.pi, np.pi)))
            return encode(Pick(pose, float(self.rng.uniform(MIN_WIDTH, MAX_FINGER_WIDTH))) if verb == "pick" else Place(pose))
        if verb == "answer":
            return encode(Answer(str(_WORDS[int(self.rng.integers(len(_WORDS)))])))
        return encode(Ask("Which one?") if verb == "ask" else Done())
