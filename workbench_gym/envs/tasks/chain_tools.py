"""ChainTools-v0: five instructions in one episode on one bench, drawn from the seven tasks (CALVIN-style chains).

The bench is sampled so that every task has something to do (loose screws, a pair of tools one colour word cannot
tell apart, wrenches, screwdrivers and pliers). Each step is one of the seven tasks, drawn when its turn comes among
those that still have work on the bench as it is then (a step never repeats the one before): its goal is chosen from
the current state, with poses read back from the simulation, so what earlier steps moved stays moved. The step's
own success check decides when it is done; the next instruction then replaces the observation's instruction (the
env asks `advance` after every action). A step that runs out of its task's primitive budget (one more for setting a
held tool down), or a `Done` before the step is done, ends the chain. `step_info` reports each step's task,
instruction and outcome; the chain's score is the number of steps completed in a row (CALVIN's average length).
"""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.grasping import place_action
from workbench_gym.envs.high_level import HighLevelAction
from workbench_gym.envs.task import Task, register_task
from workbench_gym.envs.tasks.clarify_tool import ClarifyTool
from workbench_gym.envs.tasks.collect_screws import CollectScrews
from workbench_gym.envs.tasks.count_tools import CountTools
from workbench_gym.envs.tasks.fetch_tool import FetchTool
from workbench_gym.envs.tasks.goals import graspable, has_goal_candidate, sample_until
from workbench_gym.envs.tasks.pick_tool import PickTool
from workbench_gym.envs.tasks.place_tool import PlaceTool
from workbench_gym.envs.tasks.placement import PlacementTask
from workbench_gym.envs.tasks.sort_tools import SortTools
from workbench_gym.language.expressions import referring_expressions
from workbench_gym.scenes.catalog import TOOLS
from workbench_gym.scenes.footprint import rectangles_overlap
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.scenes.zones import HANDOVER_AREA
from workbench_gym.sim.world import World

CHAIN_LENGTH = 5
CHAIN_TASKS: tuple[type[Task], ...] = (PickTool, PlaceTool, SortTools, CollectScrews, FetchTool, CountTools, ClarifyTool)
SET_DOWN = 1  # primitives a step gets beyond its task's budget: setting down what the last step left in the hand
SCREWS = 3  # loose screws on a chain's bench (a third of the screws weight of the category mix below)


def _has_work(task: Task, world: World) -> bool:
    """Whether a step of this task can start on the bench as it is (`world.spec` holds the current poses)."""
    spec = world.spec
    if isinstance(task, CountTools):
        return True
    if isinstance(task, ClarifyTool):
        twins = [t for t in spec.tools if t.name in task.twin_names]
        return len(twins) == 2 and all(graspable(spec, t) and referring_expressions(t, spec) for t in twins)
    if isinstance(task, PlaceTool):
        return has_goal_candidate(task, spec, PlaceTool.fits_somewhere)
    if isinstance(task, (SortTools, CollectScrews)):
        return True  # whether any goal is left is known only once its goals are set: see `ChainTools._start`
    return has_goal_candidate(task, spec)


def _handed_over_set_apart(spec: SceneSpec) -> SceneSpec:
    """The spec with the tools on the hand-over area marked as distractors: handed over (or pushed among what was), they
    are no step's goal."""
    (x0, y0), (x1, y1) = HANDOVER_AREA
    area = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    for tool in spec.tools:
        if rectangles_overlap(tool.footprint(), area):
            tool.distractor = True
    return spec


@register_task
class ChainTools(Task):
    """Five instructions in a row on one bench, each one of the seven tasks. (`workbench_gym/ChainTools-v0`)

    **Randomizations:** Each `reset(seed=)` samples a bench of at least 12 tools with two or more graspable loose
    screws and a pair of tools one colour word cannot tell apart, the bins, the small-parts tray and a clear hand-over
    area. Each step's task is drawn from the env's generator when its turn comes, among the tasks with work left on
    the bench as it is then (never the task before), and its goal and phrasing are drawn as that task draws them.

    **Success conditions:** A step succeeds by its own task's check, within its task's primitive budget plus one (to
    set down what the last step left in the hand); the episode succeeds when all five do. `progress` is the steps
    completed in a row plus the current step's own partial credit, over five.
    """

    name = "ChainTools"
    max_episode_steps = 1000
    #: At most: each step gets its own task's budget plus `SET_DOWN`, counted from where the step begins (see `_start`).
    max_primitives = CHAIN_LENGTH * (max(task.max_primitives for task in CHAIN_TASKS) + SET_DOWN)
    goal_families = ("wrench", "screwdriver", "pliers", "screw")  # the sort's and the collection's tools
    #: The steps' own phrasings (listed for reference; each step phrases its instruction with its task's templates).
    #: A few phrasings are one task's "train" and another's "test" ("hand me the {ref}"); they are left out here.
    templates = {split: tuple(dict.fromkeys(t for task in CHAIN_TASKS for t in task.templates[split]
                                            if all(t not in other.templates[s] for other in CHAIN_TASKS for s in ("train", "test") if s != split)))
                 for split in ("train", "test")}

    def __init__(self, config):
        super().__init__(config)
        self.tasks = {task.name: task(config) for task in CHAIN_TASKS}

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        clarify: ClarifyTool = self.tasks["ClarifyTool"]
        n = max(self.config.n_tools, 12)
        mix = {c: 1.0 for c in TOOLS} | {"screw": 3.0}

        def accept(spec: SceneSpec) -> bool:
            screws = [t for t in spec.tools if t.category == "screw" and graspable(spec, t)]
            return len(screws) >= 2 and clarify.ambiguous(spec) is not None

        spec = sample_until(self, rng, accept, n_tools=n, category_mix=mix, keep_clear=[HANDOVER_AREA])
        spec, clarify.twin_names = clarify.ambiguous(spec)
        return spec

    def reset(self, world: World, rng: np.random.Generator) -> str:
        self.rng = rng  # the env's generator: later steps are drawn from it as the episode goes
        self.steps: list[dict] = []
        self.primitives = 0
        self.current: Task | None = None
        return self._start(world)

    def _start(self, world: World) -> str | None:
        """Draw and begin the next step on the bench as it is now; None when no task has work left."""
        world.spec = _handed_over_set_apart(world.current_spec())  # goals are chosen where tools lie now
        last = self.steps[-1]["task"] if self.steps else None
        names = [t.name for t in CHAIN_TASKS if t.name != last]
        order = [names[int(i)] for i in self.rng.permutation(len(names))] + ([last] if last else [])  # a repeat only if nothing else has work
        for name in order:
            task = self.tasks[name]
            if not _has_work(task, world):
                continue
            instruction = task.start(world, self.rng)
            if isinstance(task, PlacementTask) and (not task.goals or task.is_success(world)):
                continue  # nothing left to move
            self.current = task
            self.steps.append({"task": task.name, "instruction": instruction, "success": False, "primitives": 0})
            self.max_primitives = self.primitives + task.max_primitives + SET_DOWN
            return instruction
        self.current = None
        return None

    def advance(self, world: World) -> str | None:
        if self.current is None:
            return None
        self.primitives += 1
        self.steps[-1]["primitives"] += 1
        if not self.current.is_success(world):
            return None
        self.steps[-1]["success"] = True
        if len(self.steps) == CHAIN_LENGTH:
            self.current = None
            return None
        return self._start(world)

    @property
    def completed(self) -> int:
        """Steps completed (a chain goes on only past a completed step, so they are the first ones)."""
        return sum(step["success"] for step in self.steps)

    def progress(self, world: World) -> float:
        current = self.current.progress(world) if self.current is not None else 0.0
        return min(1.0, (self.completed + current) / CHAIN_LENGTH)

    def is_success(self, world: World) -> bool:
        return self.completed == CHAIN_LENGTH

    def hear(self, action: HighLevelAction, world: World) -> str:
        return self.current.hear(action, world) if self.current is not None else ""

    def goal_info(self, world: World) -> dict:
        first = self.steps[0]
        return {"length": CHAIN_LENGTH, "first_task": first["task"], "first_goal": self.current.goal_info(world)}

    def step_info(self, world: World) -> dict:
        return {"chain": {"length": CHAIN_LENGTH, "completed": self.completed, "steps": [dict(s) for s in self.steps]}}

    def oracle(self, world: World, held: str | None) -> HighLevelAction:
        task = self.current
        if held is not None and not isinstance(task, (PlacementTask, CountTools)):
            # The last step left a tool in the hand (a pick): set it down where it is before the next step.
            stray = next(o for o in world.spec.objects if o.name == held)
            return place_action(world, stray, world.robot.ee_pose()[0][:2], world.spec.bench.height)
        return task.oracle_action(world, held)
