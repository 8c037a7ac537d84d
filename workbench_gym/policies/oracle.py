"""The oracle planner: asks the task for the next high-level action from privileged state.

It is the upper bound every other planner is measured against, and tells planner failures apart
from controller failures. It reads the env's world, so it is privileged by construction.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from workbench_gym.envs.high_level import encode


class OraclePlanner:
    """Acts for an env made with `control_mode="primitive"`."""

    def __init__(self, env: gym.Env):
        self.env = env.unwrapped
        if self.env.config.control_mode != "primitive":
            raise ValueError(f"the oracle plans high-level actions: make the env with control_mode='primitive', not {self.env.config.control_mode!r}")

    def reset(self, instruction: str) -> None:
        pass

    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        return encode(self.env.task.oracle_action(self.env.world, self.env.held))
