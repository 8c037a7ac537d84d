"""PickTool-v0: "pick up the {ref}"; success when that tool's underside is 10 cm above the bench.

{ref} names the tool by category, subtype, colour, size order or place ("the leftmost pliers").
"""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.grasping import grasp_point
from workbench_gym.envs.high_level import Done, HighLevelAction
from workbench_gym.envs.task import Task, register_task
from workbench_gym.envs.tasks.goals import LIFT_HEIGHT, goal_candidates, lift, sample_scene_with_goal, tool_info
from workbench_gym.envs.tasks.shaping import holds, reach_credit
from workbench_gym.language.expressions import phrase
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.sim.world import World


@register_task
class PickTool(Task):
    """Lift the tool the instruction names. (`workbench_gym/PickTool-v0`)

    **Task description:** Lift one tool named by a referring expression (category, subtype, colour, size order or
    place).

    **Randomizations:** Each `reset(seed=)` samples the bench: `n_tools` tools of random category, size and colour
    at random poses (packed by `density`), the bins and the small-parts tray; then the goal tool, among those a
    unique phrase picks out. The instruction's phrasing comes from `instruction_split`'s templates;
    `variant_split="unseen"` makes goals held-out size x colour variants.

    **Success conditions:** The goal tool's underside 10 cm above the bench; partial credit is the lift fraction.
    The privileged goal vector holds its grasp point, orientation and the lift height.
    """

    name = "PickTool"
    max_primitives = 6
    goal_size = 8
    templates = {
        "train": ("pick up the {ref}", "grab the {ref}", "lift the {ref}"),
        "test": ("could you pick up the {ref}?", "take hold of the {ref} and raise it"),
    }

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        return sample_scene_with_goal(self, rng)

    def reset(self, world: World, rng: np.random.Generator) -> str:
        candidates = goal_candidates(self, world.spec)
        self.target, refs = candidates[int(rng.integers(len(candidates)))]
        return phrase(self.templates, self.config.instruction_split, rng, ref=refs[int(rng.integers(len(refs)))])

    def goal_vector(self, world: World) -> np.ndarray:
        _, quaternion = world.object_pose(self.target.name)
        return np.concatenate([grasp_point(world, self.target), quaternion, [world.spec.bench.height + LIFT_HEIGHT]]).astype(np.float32)

    def dense_reward(self, world: World) -> float:
        """Reach (0..0.5, full while held) + grasp (0 or 0.25) + lift progress while held (0..0.25)."""
        if holds(world, self.target):
            return 0.75 + 0.25 * self.progress(world)
        return 0.5 * reach_credit(world, self.target)

    def progress(self, world: World) -> float:
        return float(np.clip(lift(world, self.target) / LIFT_HEIGHT, 0.0, 1.0))

    def goal_info(self, world: World) -> dict:
        return tool_info(self.target)

    def oracle(self, world: World, held: str | None) -> HighLevelAction:
        return self.oracle_pick(world, self.target) if held is None else Done()
