"""SortTools-v0: "organise the bench: wrenches left, screwdrivers middle, pliers right".

Credit is the fraction of wrenches, screwdrivers and pliers in the right bin. The "group similar
tools together" phrasing asks for the same grouping without naming the bins, so any bin may hold a
family as long as each family has its own; the goal then follows the oracle's fixed assignment
only for its plan, and credit counts a family as right in the bin where most of it lies.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from workbench_gym.envs.task import register_task
from workbench_gym.envs.tasks.goals import graspable, sample_until
from workbench_gym.envs.tasks.placement import PlacementTask, fits, in_zone
from workbench_gym.language.expressions import phrase
from workbench_gym.scenes.catalog import get_category
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.scenes.zones import container_zone
from workbench_gym.sim.world import World

FAMILY_BINS = {"wrench": "bin_left", "screwdriver": "bin_middle", "pliers": "bin_right"}
SORTABLE = [c for c in ("adjustable_wrench", "combination_wrench", "phillips_screwdriver", "flathead_screwdriver", "needle_nose_pliers", "slip_joint_pliers")]


@register_task
class SortTools(PlacementTask):
    """Sort wrenches, screwdrivers and pliers into their bins. (`workbench_gym/SortTools-v0`)

    **Task description:** Every wrench goes into the left bin, every screwdriver into the middle one, every pliers
    into the right one.

    **Randomizations:** Each `reset(seed=)` samples the bench: `n_tools` tools of random category, size and colour
    at random poses (packed by `density`), the bins and the small-parts tray; then 3 to 6 sortable tools (wrenches,
    screwdrivers, pliers), each graspable and fitting its family's bin. The instruction's phrasing comes from
    `instruction_split`'s templates; `variant_split="unseen"` makes goals held-out size x colour variants.

    **Success conditions:** Every tool in its family's bin; partial credit is the fraction that is.
    """

    name = "SortTools"
    max_primitives = 18
    goal_families = tuple(FAMILY_BINS)
    templates = {
        "train": ("organise the bench: wrenches left, screwdrivers middle, pliers right",
                  "sort the tools: wrenches in the left bin, screwdrivers in the middle bin, pliers in the right bin"),
        "test": ("group similar tools together", "put the wrenches, the screwdrivers and the pliers each in their own bin"),
    }

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        def accept(spec: SceneSpec) -> bool:
            bins = {c.name: container_zone(c) for c in spec.containers}
            return all(graspable(spec, t) and fits(t, bins[FAMILY_BINS[get_category(t.category).family]]) for t in spec.tools)

        return sample_until(self, rng, accept, n_tools=int(np.clip(self.config.n_tools, 3, 6)), category_mix=SORTABLE)

    def reset(self, world: World, rng: np.random.Generator) -> str:
        bins = {c.name: container_zone(c) for c in world.spec.containers}
        # Every wrench, screwdriver and pliers on the open bench or in its bin already. A bench may hold other tools
        # too, and a chain's bench tools that earlier steps put elsewhere (those filters keep every tool of a plain scene).
        self.goals = []
        for tool in world.spec.tools:
            family = get_category(tool.category).family
            if family in FAMILY_BINS and not tool.distractor:
                zone = bins[FAMILY_BINS[family]]
                if fits(tool, zone) and (graspable(world.spec, tool) or in_zone(world, tool, zone)):
                    self.goals.append((tool, zone))
        text = phrase(self.templates, self.config.instruction_split, rng)
        self.any_bins = "their own" in text or "group" in text
        return text

    def instructed(self, goal_level: bool) -> None:
        # A caller's sentence is scored as it asks: any bin per family when goal-level, else the named bins.
        self.any_bins = goal_level

    def goal_info(self, world: World) -> dict:
        return super().goal_info(world) | {"any_bins": self.any_bins}

    def progress(self, world: World) -> float:
        if not self.any_bins:
            return super().progress(world)
        bins = {z.name: z for _, z in self.goals}
        right = 0
        families: dict[str, list] = {}
        for tool, _ in self.goals:
            families.setdefault(get_category(tool.category).family, []).append(tool)
        used = set()
        for tools in families.values():
            where = Counter(name for t in tools for name, z in bins.items() if in_zone(world, t, z))
            if where:
                name, count = where.most_common(1)[0]
                if name not in used:
                    used.add(name)
                    right += count
        return right / len(self.goals)
