"""The `Planner` protocol every policy follows, and the random baseline."""

from __future__ import annotations

from typing import Any, Protocol

import gymnasium as gym
import numpy as np


class Planner(Protocol):
    """Maps observations to actions for one episode at a time."""

    def reset(self, instruction: str) -> None: ...

    def act(self, observation: dict[str, Any]) -> Any: ...


class RandomPlanner:
    """Uniform random actions from the action space, seeded: the floor any planner must beat."""

    def __init__(self, env: gym.Env, seed: int | None = None):
        self.action_space = env.action_space
        self.action_space.seed(seed)

    def reset(self, instruction: str) -> None:
        pass

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        return self.action_space.sample()
