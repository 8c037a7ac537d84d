"""PickTool-v0: "pick up the {ref}"; success when that tool's underside is 10 cm above the bench.

{ref} names the tool by category, subtype, colour, size order or place ("the leftmost pliers").
"""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.grasping import fingers_touching, grasp_action, grasp_point
from workbench_gym.envs.high_level import Done, HighLevelAction
from workbench_gym.envs.language import phrase, referring_expressions
from workbench_gym.envs.task import Task, register_task
from workbench_gym.scenes.catalog import is_held_out
from workbench_gym.scenes.sampler import sample_clutter
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec
from workbench_gym.sim.world import ROBOT_BASE, World

LIFT_HEIGHT = 0.10  # metres above the bench top, bottom of the tool
REACH = 0.68  # metres from the arm's base within which goals are chosen
HAND_CLEARANCE = 0.11  # metres from a container wall a grasp point keeps (the Panda hand is 20 cm wide)


def clear_of_containers(spec: SceneSpec, tool: ObjectSpec) -> bool:
    """Whether the hand can close on the tool without its knuckles hitting a container wall."""
    point = np.asarray(tool.pose.position[:2])
    for container in spec.containers:
        fp = container.footprint()
        lo, hi = fp.min(0), fp.max(0)
        if np.linalg.norm(np.maximum(np.maximum(lo - point, point - hi), 0.0)) < HAND_CLEARANCE:
            return False
    return True


def lift(world: World, tool: ObjectSpec) -> float:
    """Height of a tool's underside above the bench top. Privileged."""
    return world.client.getAABB(world.bodies[tool.name])[0][2] - world.spec.bench.height


def goal_candidates(task: Task, spec: SceneSpec) -> list[tuple[ObjectSpec, list[str]]]:
    """Reachable tools that a phrase picks out uniquely, of the variant split the task is set to."""
    unseen = task.config.variant_split == "unseen"
    out = []
    for tool in spec.tools:
        if np.hypot(*(np.asarray(tool.pose.position[:2]) - ROBOT_BASE)) > REACH or tool.pose.position[0] < 0.3:
            continue
        if unseen != is_held_out(tool.category, tool.size, tool.colour) or not clear_of_containers(spec, tool):
            continue
        refs = referring_expressions(tool, spec)
        if refs:
            out.append((tool, refs))
    return out


def sample_scene_with_goal(task: Task, rng: np.random.Generator, **sampler) -> SceneSpec:
    """Resample until the scene has a goal candidate (a few tries at most)."""
    seen_only = task.config.variant_split == "seen"
    while True:
        spec = sample_clutter(int(rng.integers(2**31)), task.config.n_tools, density=task.config.density, seen_variants_only=seen_only, **sampler)
        if goal_candidates(task, spec):
            return spec


def tool_info(tool: ObjectSpec) -> dict:
    return {"object": tool.name, "category": tool.category, "size": tool.size, "colour": tool.colour, "display_name": tool.display_name}


@register_task
class PickTool(Task):
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

    def reward(self, world: World) -> float:
        """Reach (0..1) + grasp (0 or 1) + lift progress (0..2), shaped for RL."""
        distance = np.linalg.norm(world.robot.ee_pose()[0] - grasp_point(world, self.target))
        grasped = fingers_touching(world, self.target)
        return float(1.0 - np.tanh(5.0 * distance) + grasped + 2.0 * self.progress(world) * grasped)

    def progress(self, world: World) -> float:
        return float(np.clip(lift(world, self.target) / LIFT_HEIGHT, 0.0, 1.0))

    def goal_info(self, world: World) -> dict:
        return tool_info(self.target)

    def oracle(self, world: World, held: str | None) -> HighLevelAction:
        return grasp_action(world, self.target) if held is None else Done()
