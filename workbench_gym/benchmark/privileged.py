"""Privileged plan and grounding providers for failure attribution: the oracle's knowledge behind the `Backend` API.

`PrivilegedBackend` wraps a planner's backend and replaces its plan (`plan`) and/or its grounding (`ground`,
`answer`) with what the simulator knows, so a VLM planner can run with the oracle's plan and its own grounding, or
its own plan and the oracle's grounding (the suite's attribution rows). Like the oracle planner, it reads the env's
world and task: privileged by construction, for evaluation only, never a planner of its own.

- oracle plan: the task's goal as plan steps, naming each tool by a phrase that picks it out uniquely
  (`envs.language.referring_expressions`) and each place by its canonical name;
- oracle grounding: the objects a phrase denotes by their true catalog attributes (category from the noun, colour,
  size), each as a region cut from the simulator's instance segmentation of the planner's camera, score 1; questions
  answered from the task's ground truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench_gym.envs.language import PLURALS, referring_expressions
from workbench_gym.envs.task import Task
from workbench_gym.envs.tasks.chain_tools import ChainTools
from workbench_gym.envs.tasks.clarify_tool import ClarifyTool
from workbench_gym.envs.tasks.count_tools import CountTools
from workbench_gym.envs.tasks.pick_tool import PickTool
from workbench_gym.envs.tasks.placement import PlacementTask
from workbench_gym.policies.backend import Backend, PlanStep, Region, View
from workbench_gym.policies.instructions import HANDOVER, parse_reference
from workbench_gym.scenes.catalog import get_category
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec
from workbench_gym.scenes.zones import Zone

MIN_PIXELS = 4  # a sliver smaller than this is not shown to the planner
_SIDES = ("left", "middle", "right")


class PrivilegedBackend:
    """`inner` with its plan and/or grounding replaced by the simulator's (privileged; see the module docstring)."""

    def __init__(self, inner: Backend, env: Any, plan: bool = False, grounding: bool = False, camera: str = "front"):
        if not (plan or grounding):
            raise ValueError("a privileged backend replaces the plan, the grounding or both; neither was asked for")
        self.inner, self.env, self.camera = inner, env.unwrapped, camera
        self.oracle_plan, self.oracle_grounding = plan, grounding
        parts = [p for p, on in (("plan", plan), ("grounding", grounding)) if on]
        self.name = f"{getattr(inner, 'name', type(inner).__name__)}+oracle_{'_'.join(parts)}"

    def plan(self, view: View, instruction: str) -> list[PlanStep] | None:
        return oracle_plan(self._task(), self.env.world.spec, instruction) if self.oracle_plan else self.inner.plan(view, instruction)

    def ground(self, view: View, phrase: str) -> list[Region]:
        return self._regions(phrase) if self.oracle_grounding else self.inner.ground(view, phrase)

    def answer(self, view: View, question: str) -> str:
        return oracle_answer(self._task()) if self.oracle_grounding else self.inner.answer(view, question)

    def _task(self) -> Task:
        task = self.env.task
        return task.current if isinstance(task, ChainTools) else task

    def _regions(self, phrase: str) -> list[Region]:
        world = self.env.world
        segmentation = world.render(self.camera, rgb=False, depth=False, segmentation=True).segmentation
        out = []
        for obj in denoted(world.spec.objects, phrase):
            mask = segmentation == world.instance_ids[obj.name]
            if mask.sum() < MIN_PIXELS:
                continue
            rows, cols = np.nonzero(mask)
            box = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
            out.append(Region(box, 1.0, mask, label=obj.category))
        return out


def denoted(objects: list[ObjectSpec], phrase: str) -> list[ObjectSpec]:
    """The objects a grounding phrase means by their true attributes: a container by side, colour or kind; tools by
    the noun's categories, and colour and size when said. Order words are left to the planner, as its query does."""
    low = phrase.lower().strip()
    containers = [o for o in objects if get_category(o.category).is_container]
    if "tray" in low:
        return [c for c in containers if c.category == "parts_tray"]
    if low.endswith(("bin", "box", "tub")):
        word = low.split()[0] if len(low.split()) > 1 else ""
        word = {"centre": "middle", "center": "middle"}.get(word, word)
        bins = [c for c in containers if c.category == "bin"]
        return [c for c in bins if word in (c.name.removeprefix("bin_"), c.colour)] if word else bins
    ref = parse_reference(phrase)
    return [o for o in objects if o.category in ref.categories and (not ref.colour or o.colour == ref.colour)
            and (not ref.size or o.size == ref.size)]


def oracle_plan(task: Task, spec: SceneSpec, instruction: str) -> list[PlanStep]:
    """The task's goal as plan steps (privileged); `spec` is the bench as it is, `instruction` the question asked."""
    if isinstance(task, CountTools):
        return [PlanStep("answer", text=instruction)]
    if isinstance(task, ClarifyTool):
        return [PlanStep("ask", text="Which one do you mean?"), PlanStep("pick", _phrase(spec, task.target))]
    if isinstance(task, PickTool):
        return [PlanStep("pick", _phrase(spec, task.target))]
    if isinstance(task, PlacementTask):
        steps: list[PlanStep] = []
        if len(task.goals) == 1:
            tool, zone = task.goals[0]
            return [PlanStep("pick", _phrase(spec, tool)), PlanStep("place", zone_phrase(zone.name))]
        by_zone: dict[str, tuple[Zone, list[str]]] = {}
        for tool, zone in task.goals:  # a sort or a collection: every tool of a family into its zone
            families = by_zone.setdefault(zone.name, (zone, []))[1]
            family = get_category(tool.category).family
            if family not in families:
                families.append(family)
        for zone, families in by_zone.values():
            for family in families:
                steps += [PlanStep("pick", PLURALS[family]), PlanStep("place", zone_phrase(zone.name))]
        return steps
    raise ValueError(f"no oracle plan for task {task.name!r}")


def oracle_answer(task: Task) -> str:
    """The true answer to the task's question (privileged); "I don't know" for tasks that ask none."""
    if not isinstance(task, CountTools):
        return "I don't know"
    if isinstance(task.expected, bool):
        return "yes" if task.expected else "no"
    return str(task.expected)


def zone_phrase(zone_name: str) -> str:
    """How instructions name a zone ("bin_left" -> "left bin", "parts_tray" -> "parts tray", the hand-over area)."""
    if zone_name == "parts_tray":
        return "parts tray"
    side = zone_name.removeprefix("bin_")
    return f"{side} bin" if side in _SIDES else HANDOVER


def _phrase(spec: SceneSpec, tool: ObjectSpec) -> str:
    """The most specific phrase that picks out the tool on the bench."""
    refs = referring_expressions(tool, spec)
    return refs[0] if refs else tool.display_name
