"""CollectScrews-v0: "put the loose screws in the small-parts tray"; credit per screw in the tray."""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.task import register_task
from workbench_gym.envs.tasks.goals import graspable, sample_until
from workbench_gym.envs.tasks.placement import PlacementTask, in_zone
from workbench_gym.language.expressions import phrase
from workbench_gym.scenes.catalog import TOOLS
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.scenes.zones import container_zone
from workbench_gym.sim.world import World

SCREWS = (2, 4)  # how many loose screws the category mix aims at, inclusive
SPARE_PRIMITIVES = 6


@register_task
class CollectScrews(PlacementTask):
    """Put every loose screw into the small-parts tray. (`workbench_gym/CollectScrews-v0`)

    **Task description:** Collect all the loose screws on the bench into the small-parts tray; the other tools stay
    where they are.

    **Randomizations:** Each `reset(seed=)` samples the bench: `n_tools` tools of random category, size and colour
    at random poses (packed by `density`), the bins and the small-parts tray; then a few screws among the other
    tools, every screw graspable. The instruction's phrasing comes from `instruction_split`'s templates;
    `variant_split="unseen"` makes goals held-out size x colour variants.

    **Success conditions:** Every screw inside the tray; partial credit is the fraction that is.
    """

    name = "CollectScrews"
    max_primitives = 14
    goal_families = ("screw",)
    templates = {
        "train": ("put the loose screws in the small-parts tray", "collect the screws into the parts tray"),
        "test": ("gather up the screws and drop them in the tray", "tidy the loose screws away into the small-parts tray"),
    }

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        others = [c for c in TOOLS if c != "screw"]
        n_screws = int(rng.integers(SCREWS[0], SCREWS[1] + 1))
        n = max(self.config.n_tools, n_screws + 1)
        mix = {**{c: (n - n_screws) / len(others) / n for c in others}, "screw": n_screws / n}

        def accept(spec: SceneSpec) -> bool:
            screws = [t for t in spec.tools if t.category == "screw"]
            return bool(screws) and all(graspable(spec, t) for t in screws)

        return sample_until(self, rng, accept, n_tools=n, category_mix=mix)

    def reset(self, world: World, rng: np.random.Generator) -> str:
        tray = container_zone(next(c for c in world.spec.containers if c.category == "parts_tray"))
        # Every screw on the open bench or in the tray (a chain's earlier steps may have put one elsewhere).
        self.goals = [(t, tray) for t in world.spec.tools if t.category == "screw" and not t.distractor and (graspable(world.spec, t) or in_zone(world, t, tray))]
        # A pick and a place per screw and six to spare: the sampler's mix gives 2-4 screws mostly, now and then more.
        self.max_primitives = max(type(self).max_primitives, 2 * len(self.goals) + SPARE_PRIMITIVES)
        return phrase(self.templates, self.config.instruction_split, rng)
