"""Goal selection shared by the tasks: reachable, graspable tools that a phrase picks out uniquely."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from workbench_gym.envs.language import referring_expressions
from workbench_gym.envs.task import Task
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


def goal_candidates(task: Task, spec: SceneSpec, keep: Callable[[ObjectSpec], bool] | None = None) -> list[tuple[ObjectSpec, list[str]]]:
    """Reachable tools that a phrase picks out uniquely, of the variant split the task is set to."""
    unseen = task.config.variant_split == "unseen"
    out = []
    for tool in spec.tools:
        if np.hypot(*(np.asarray(tool.pose.position[:2]) - ROBOT_BASE)) > REACH or tool.pose.position[0] < 0.3:
            continue
        if unseen != is_held_out(tool.category, tool.size, tool.colour) or not clear_of_containers(spec, tool):
            continue
        if keep is not None and not keep(tool):
            continue
        refs = referring_expressions(tool, spec)
        if refs:
            out.append((tool, refs))
    return out


def sample_scene_with_goal(task: Task, rng: np.random.Generator, keep: Callable[[ObjectSpec], bool] | None = None, **sampler) -> SceneSpec:
    """Resample until the scene has a goal candidate (a few tries at most)."""
    seen_only = task.config.variant_split == "seen"
    while True:
        spec = sample_clutter(int(rng.integers(2**31)), task.config.n_tools, density=task.config.density, seen_variants_only=seen_only, **sampler)
        if goal_candidates(task, spec, keep):
            return spec


def tool_info(tool: ObjectSpec) -> dict:
    return {"object": tool.name, "category": tool.category, "size": tool.size, "colour": tool.colour, "display_name": tool.display_name}
