"""ReachTool-v0: "reach for the {ref}"; success when the gripper's grasp point is within 3 cm of the tool's, or holds it.

The simplest low-level task, for RL smoke tests and learning curves: with `n_tools=1`, state
observations and `ee_delta` control, PPO learns it in minutes on a CPU (docs/rl.md). Holding the
tool also counts, so the pick oracle solves it in `control_mode="primitive"`.
"""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.grasping import grasp_point
from workbench_gym.envs.task import register_task
from workbench_gym.envs.tasks.pick_tool import PickTool
from workbench_gym.envs.tasks.shaping import holds, reach_credit, reach_distance
from workbench_gym.sim.world import World

REACH_TOLERANCE = 0.03  # metres


@register_task
class ReachTool(PickTool):
    """Reach for the named tool: the simplest task, shaped for RL. (`workbench_gym/ReachTool-v0`)

    **Task description:** Move the gripper to the grasp point of one tool named by a referring expression.

    **Randomizations:** Each `reset(seed=)` samples the bench: `n_tools` tools of random category, size and colour
    at random poses (packed by `density`), the bins and the small-parts tray; then the goal tool, as in PickTool.
    The instruction's phrasing comes from `instruction_split`'s templates; `variant_split="unseen"` makes goals
    held-out size x colour variants.

    **Success conditions:** The gripper within 3 cm of the tool's grasp point (or holding the tool); the dense
    reward grows as it nears.
    """

    name = "ReachTool"
    max_episode_steps = 50
    goal_size = 6
    templates = {
        "train": ("reach for the {ref}", "move your gripper to the {ref}"),
        "test": ("put your hand on the {ref}", "go to the {ref}, please"),
    }

    def goal_vector(self, world: World) -> np.ndarray:
        """The tool's grasp point and its offset from the gripper's grasp point."""
        target = grasp_point(world, self.target)
        return np.concatenate([target, target - world.robot.ee_pose()[0]]).astype(np.float32)

    def progress(self, world: World) -> float:
        if reach_distance(world, self.target) < REACH_TOLERANCE or holds(world, self.target):
            return 1.0
        return reach_credit(world, self.target)

    def dense_reward(self, world: World) -> float:
        return self.progress(world)
