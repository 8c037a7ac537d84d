"""CollectScrews-v0: "put the loose screws in the small-parts tray"; credit per screw in the tray."""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.language import phrase
from workbench_gym.envs.task import register_task
from workbench_gym.envs.tasks.goals import clear_of_containers, goal_candidates
from workbench_gym.envs.tasks.placement import PlacementTask, container_zone
from workbench_gym.scenes.catalog import TOOLS
from workbench_gym.scenes.sampler import sample_clutter
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.sim.world import World

SCREWS = (2, 4)  # how many loose screws, inclusive


@register_task
class CollectScrews(PlacementTask):
    name = "CollectScrews"
    max_primitives = 14
    templates = {
        "train": ("put the loose screws in the small-parts tray", "collect the screws into the parts tray"),
        "test": ("gather up the screws and drop them in the tray", "tidy the loose screws away into the small-parts tray"),
    }

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        others = [c for c in TOOLS if c != "screw"]
        while True:
            n_screws = int(rng.integers(SCREWS[0], SCREWS[1] + 1))
            n = max(self.config.n_tools, n_screws + 1)
            mix = {**{c: (n - n_screws) / len(others) / n for c in others}, "screw": n_screws / n}
            spec = sample_clutter(int(rng.integers(2**31)), n, category_mix=mix, density=self.config.density,
                                  seen_variants_only=self.config.variant_split == "seen")
            screws = [t for t in spec.tools if t.category == "screw"]
            reachable = {t.name for t, _ in goal_candidates(self, spec, lambda t: t.category == "screw")} | {
                t.name for t in screws if self.config.variant_split == "unseen" and clear_of_containers(spec, t)}
            if screws and all(t.name in reachable for t in screws):
                return spec

    def reset(self, world: World, rng: np.random.Generator) -> str:
        tray = container_zone(next(c for c in world.spec.containers if c.category == "parts_tray"))
        self.goals = [(t, tray) for t in world.spec.tools if t.category == "screw"]
        return phrase(self.templates, self.config.instruction_split, rng)
