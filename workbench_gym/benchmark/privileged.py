"""Privileged plan and grounding providers for failure attribution: the oracle's knowledge behind the `Backend` API.

`PrivilegedBackend` wraps a planner's backend and replaces its plan (`plan`) and/or its grounding (`ground`,
`answer`) with what the simulator knows, so a VLM planner can run with the oracle's plan and its own grounding, or
its own plan and the oracle's grounding (the suite's attribution rows). Like the oracle planner, it reads the env's
world and task: privileged by construction, for evaluation only, never a planner of its own.

- oracle plan: the task's goal as a `StructuredTask`, naming each tool by the attributes of a referring expression
  that picks it out (`language.expressions.referring_expressions`) and each place by its canonical name;
- oracle grounding: the objects a phrase denotes by their true catalog attributes (category from the noun, colour,
  size), each as a region cut from the simulator's instance segmentation of the planner's camera, score 1; questions
  answered from the task's ground truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench_gym.envs.task import Task
from workbench_gym.envs.tasks.chain_tools import ChainTools
from workbench_gym.envs.tasks.clarify_tool import ClarifyTool
from workbench_gym.envs.tasks.count_tools import CountTools
from workbench_gym.envs.tasks.pick_tool import PickTool
from workbench_gym.envs.tasks.placement import PlacementTask
from workbench_gym.language.expressions import referring_expressions
from workbench_gym.language.grammar import parse_phrase
from workbench_gym.language.task import HANDOVER, ORDERS, PARTS_TRAY, StructuredTask, ToolReference
from workbench_gym.language.vocabulary import categories_of, family_category, read_category
from workbench_gym.policies.backend import Backend, Region, View
from workbench_gym.scenes.catalog import get_category
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec

MIN_PIXELS = 4  # a sliver smaller than this is not shown to the planner
_SIDES = ("left", "middle", "right")


class PrivilegedBackend:
    """`inner` with its plan and/or grounding replaced by the simulator's (privileged; see the module docstring)."""

    def __init__(self, inner: Backend, env: Any, plan: bool = False, grounding: bool = False):
        if not (plan or grounding):
            raise ValueError("a privileged backend replaces the plan, the grounding or both; neither was asked for")
        self.inner, self.env = inner, env.unwrapped
        self.oracle_plan, self.oracle_grounding = plan, grounding
        parts = [p for p, on in (("plan", plan), ("grounding", grounding)) if on]
        self.name = f"{getattr(inner, 'name', type(inner).__name__)}+oracle_{'_'.join(parts)}"

    def plan(self, view: View, instruction: str) -> StructuredTask | None:
        return oracle_plan(self._task(), self.env.world.spec, instruction) if self.oracle_plan else self.inner.plan(view, instruction)

    def ground(self, view: View, phrase: str) -> list[Region]:
        return self._regions(view, phrase) if self.oracle_grounding else self.inner.ground(view, phrase)

    def answer(self, view: View, question: str) -> str:
        return oracle_answer(self._task()) if self.oracle_grounding else self.inner.answer(view, question)

    def _task(self) -> Task:
        task = self.env.task
        return task.current if isinstance(task, ChainTools) else task

    def _regions(self, view: View, phrase: str) -> list[Region]:
        """Regions in the view asked about: its camera (the wrist one for a second look), at its size (a decimated view
        keeps every n-th pixel)."""
        world = self.env.world
        segmentation = world.render(view.camera, rgb=False, depth=False, segmentation=True).segmentation
        factor = segmentation.shape[0] // view.rgb.shape[0]
        segmentation = segmentation[::factor, ::factor]
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
    q = parse_phrase(phrase)
    categories = categories_of(read_category(q.noun))
    return [o for o in objects if o.category in categories and (not q.colour or o.colour == q.colour)
            and (not q.size or o.size == q.size)]


def oracle_plan(task: Task, spec: SceneSpec, instruction: str) -> StructuredTask:
    """The instruction's true meaning as a structured task (privileged): what the reader should have read, with each
    tool named by the attributes that pick it out on the bench. `instruction` is unused; it keeps `plan`'s signature."""
    if isinstance(task, CountTools):
        intent = {"count": "count", "colour": "colour_question", "exists": "existence_question"}[task.kind]
        return StructuredTask(intent, ToolReference(family_category(task.subject), every=task.kind == "count"))
    if isinstance(task, ClarifyTool):  # the words fit both twins on purpose: only what they share, so the planner asks
        a, b = (next(o for o in spec.objects if o.name == name) for name in task.twin_names)
        category = a.category if a.category == b.category else family_category(get_category(a.category).family)
        return StructuredTask("pick", ToolReference(category, a.colour if a.colour == b.colour else ""))
    if isinstance(task, PickTool):
        return StructuredTask("pick", tool_reference(spec, task.target))
    if isinstance(task, PlacementTask):
        if len(task.goals) == 1:
            tool, zone = task.goals[0]
            container = zone_phrase(zone.name)
            if container == HANDOVER:
                return StructuredTask("fetch", tool_reference(spec, tool))
            return StructuredTask("place", tool_reference(spec, tool), container)
        groups = {(family_category(get_category(tool.category).family), zone_phrase(zone.name)) for tool, zone in task.goals}
        if len(groups) == 1 and next(iter(groups))[1] == PARTS_TRAY:
            category = next(iter(groups))[0]
            return StructuredTask("collect", ToolReference(category, every=True), PARTS_TRAY)
        return StructuredTask("sort", groups=tuple(sorted(groups)))
    raise ValueError(f"no oracle plan for task {task.name!r}")


def tool_reference(spec: SceneSpec, tool: ObjectSpec) -> ToolReference:
    """The reference that picks `tool` out on the bench: its category with the colour, size and order words of the
    first referring expression a structured task can hold (a relation to another tool it cannot)."""
    for phrase in referring_expressions(tool, spec):
        q = parse_phrase(phrase)
        order = q.order if q.order in ORDERS else ""
        relation = "nearest_tray" if q.relation == "nearest" and "tray" in (q.anchor or "") else ""
        if q.relation and not relation:
            continue
        return ToolReference(tool.category, q.colour or "", q.size or "", order, relation)
    return ToolReference(tool.category, tool.colour, tool.size)


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
