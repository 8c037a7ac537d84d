"""Goal selection shared by the tasks: reachable, graspable tools that a phrase picks out uniquely."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from workbench_gym.envs.task import Task
from workbench_gym.language.expressions import EnvNames
from workbench_gym.scenes.catalog import is_held_out
from workbench_gym.scenes.sampler import sample_clutter
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec
from workbench_gym.sim.world import ROBOT_BASE, World

LIFT_HEIGHT = 0.10  # metres above the bench top, bottom of the tool
REACH = 0.68  # metres from the arm's base within which goals are chosen
MAX_SCENE_SAMPLES = 200
HAND_CLEARANCE = 0.11  # metres from a container wall a grasp point keeps (the Panda hand is 20 cm wide)


def clear_of_containers(spec: SceneSpec, tool: ObjectSpec) -> bool:
    """Whether the hand can close on the tool without its knuckles hitting a container wall."""
    x, y = tool.pose.position[:2]
    for container in spec.containers:  # plain floats: numpy's small-array calls cost 4x more (20 tools x 4 containers a reset)
        xs, ys = zip(*container.footprint().tolist())
        dx, dy = max(min(xs) - x, x - max(xs), 0.0), max(min(ys) - y, y - max(ys), 0.0)
        if math.sqrt(dx * dx + dy * dy) < HAND_CLEARANCE:
            return False
    return True


def lift(world: World, tool: ObjectSpec) -> float:
    """Height of a tool's underside above the bench top. Privileged."""
    return world.client.getAABB(world.bodies[tool.name])[0][2] - world.spec.bench.height


def graspable(spec: SceneSpec, tool: ObjectSpec) -> bool:
    """Whether the arm reaches the tool from above and its hand clears the containers."""
    x, y = tool.pose.position[:2]
    return bool(np.hypot(x - ROBOT_BASE[0], y - ROBOT_BASE[1]) <= REACH and x >= 0.3 and clear_of_containers(spec, tool))


def goal_candidates(task: Task, spec: SceneSpec, keep: Callable[[SceneSpec, ObjectSpec], bool] | None = None) -> list[tuple[ObjectSpec, list[str]]]:
    """Graspable tools of the task's variant split (and goal categories, if set) that a phrase picks out uniquely, with those phrases."""
    return list(_goal_candidates(task, spec, keep))


def has_goal_candidate(task: Task, spec: SceneSpec, keep: Callable[[SceneSpec, ObjectSpec], bool] | None = None) -> bool:
    """Whether `goal_candidates` would find any; stops at the first (phrases cost ~0.3 ms a tool with 20 tools)."""
    return next(_goal_candidates(task, spec, keep), None) is not None


def _goal_candidates(task: Task, spec: SceneSpec, keep: Callable[[SceneSpec, ObjectSpec], bool] | None) -> Iterator[tuple[ObjectSpec, list[str]]]:
    unseen = task.config.variant_split == "unseen"
    categories = task.config.goal_categories
    names = None
    for tool in spec.tools:
        if tool.distractor or not graspable(spec, tool) or unseen != is_held_out(tool.category, tool.size, tool.colour):
            continue
        if categories and tool.category not in categories:
            continue
        if keep is not None and not keep(spec, tool):
            continue
        names = names or EnvNames(spec)
        refs = names(tool)
        if refs:
            yield tool, refs


def sample_until(task: Task, rng: np.random.Generator, accept: Callable[[SceneSpec], bool], **sampler) -> SceneSpec:
    """The first clutter sample (of the task's variant split) that `accept` takes; a clear error if none comes."""
    cfg = task.config
    options = {"n_tools": cfg.n_tools, "density": cfg.density, "seen_variants_only": cfg.variant_split == "seen", **sampler}
    for _ in range(MAX_SCENE_SAMPLES):
        spec = sample_clutter(int(rng.integers(2**31)), **options)
        if accept(spec):
            return spec
    raise RuntimeError(
        f"{task.name}: none of {MAX_SCENE_SAMPLES} sampled scenes suits the task with n_tools={options['n_tools']}, "
        f"density={cfg.density}, variant_split={cfg.variant_split!r}; try more tools or a lower density"
    )


def sample_scene_with_goal(task: Task, rng: np.random.Generator, keep: Callable[[SceneSpec, ObjectSpec], bool] | None = None, **sampler) -> SceneSpec:
    """A scene with at least one goal candidate."""
    return sample_until(task, rng, lambda spec: has_goal_candidate(task, spec, keep), **sampler)


def tool_info(tool: ObjectSpec) -> dict:
    return {"object": tool.name, "category": tool.category, "size": tool.size, "colour": tool.colour, "display_name": tool.display_name}
