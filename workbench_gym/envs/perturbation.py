"""An env's perturbed scenes: `scenes.perturb` under the rule that the instruction keeps its meaning, and the target swap.

Distractors may not change which phrase picks out a tool already on the bench (every tool's referring expressions
stay as they were), may not belong to a family the task wants all of (`Task.goal_families`), keep off the
hand-over area and are seen variants in the "seen" split. The target swap trades the places of the tool the
instruction names and another tool after the goal is chosen, so a planner that expects the target where it used to
lie (memorised seeds, layout priors) goes to the wrong tool; the instruction still picks out the named tool.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from workbench_gym.envs.task import Task
from workbench_gym.envs.tasks.goals import graspable
from workbench_gym.language.expressions import referring_expressions
from workbench_gym.scenes.catalog import get_category
from workbench_gym.scenes.perturb import perturb_scene
from workbench_gym.scenes.spec import ObjectSpec, Pose, SceneSpec, SceneSpecError, validate
from workbench_gym.scenes.zones import HANDOVER_AREA
from workbench_gym.sim.world import World

#: How the two tools may lie in each other's places: as each lay, as the other lay, or turned a quarter either way.
YAW_TRIES = (0.0, None, np.pi / 2, -np.pi / 2)


def perturbed_spec(spec: SceneSpec, task: Task) -> SceneSpec:
    """The task's sampled spec with the env's perturbation factors (`EnvConfig.perturb`) applied."""
    before = {t.name: referring_expressions(t, spec) for t in spec.tools}

    def keeps_meaning(scene: SceneSpec, distractor: ObjectSpec) -> bool:
        family = get_category(distractor.category).family
        if family in task.goal_families:
            return False
        # Only phrases of the distractor's family can change: they compare a tool with its kin.
        kin = [t for t in spec.tools if get_category(t.category).family == family]
        return all(referring_expressions(t, scene) == before[t.name] for t in kin)

    return perturb_scene(spec, task.config.perturb, keeps_meaning, keep_clear=[HANDOVER_AREA],
                         seen_variants_only=task.config.variant_split == "seen")


def named_tool(task: Task, world: World) -> ObjectSpec:
    """The one tool the task's instruction names (privileged); `ValueError` for tasks about several or none."""
    info = task.goal_info(world)
    objects = [info] if "object" in info else info.get("objects", [])
    if len(objects) != 1:
        raise ValueError(f"swap_target needs a task whose instruction names one tool; {task.name} has {len(objects)} goal objects")
    return next(t for t in world.spec.tools if t.name == objects[0]["object"])


def swapped_spec(spec: SceneSpec, target: ObjectSpec, instruction: str, rng: np.random.Generator) -> tuple[SceneSpec, str] | None:
    """`spec` with the target and another tool (of another category) in each other's places, and that tool's name.

    The other tool is drawn with `rng` among those for which the swap leaves no overlap, both tools graspable and
    the instruction's phrase still picking out the target. None when no tool qualifies.
    """
    said = max((r for r in referring_expressions(target, spec) if r in instruction), key=len, default=None)
    others = [t for t in spec.tools if t.category != target.category and graspable(spec, t)]
    for index in rng.permutation(len(others)):
        other = others[int(index)]
        for turn in YAW_TRIES:
            moved = {target.name: _moved(target, other, turn), other.name: _moved(other, target, turn)}
            scene = dataclasses.replace(spec, tools=[moved.get(t.name, t) for t in spec.tools])
            try:
                validate(scene)
            except SceneSpecError:
                continue
            new_target = moved[target.name]
            if not (graspable(scene, new_target) and graspable(scene, moved[other.name])):
                continue
            if said is None or said in referring_expressions(new_target, scene):
                return scene, other.name
    return None


def _moved(tool: ObjectSpec, to: ObjectSpec, turn: float | None) -> ObjectSpec:
    """`tool` at `to`'s place, turned by `turn` from its own yaw (None: lying as `to` lay)."""
    x, y, _ = to.pose.position
    yaw = to.pose.rpy[2] if turn is None else tool.pose.rpy[2] + turn
    return dataclasses.replace(tool, pose=Pose((x, y, tool.pose.position[2]), (0.0, 0.0, float(yaw))))
