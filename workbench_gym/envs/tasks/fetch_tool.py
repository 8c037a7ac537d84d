"""FetchTool-v0: "get me the largest adjustable wrench"; success when it lies in the hand-over area."""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.task import register_task
from workbench_gym.envs.tasks.goals import goal_candidates, sample_scene_with_goal
from workbench_gym.envs.tasks.placement import PlacementTask
from workbench_gym.language.expressions import phrase
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.scenes.zones import HANDOVER_AREA, handover_zone
from workbench_gym.sim.world import World


@register_task
class FetchTool(PlacementTask):
    """Bring the named tool to the hand-over area. (`workbench_gym/FetchTool-v0`)

    **Task description:** Carry one tool, usually named by size order ("the largest screwdriver"), to the hand-over
    area at the arm's front right.

    **Randomizations:** Each `reset(seed=)` samples the bench: `n_tools` tools of random category, size and colour
    at random poses (packed by `density`), the bins and the small-parts tray; then the goal tool, preferring size-
    order phrases; the hand-over area is kept clear. The instruction's phrasing comes from `instruction_split`'s
    templates; `variant_split="unseen"` makes goals held-out size x colour variants.

    **Success conditions:** That tool inside the hand-over area. The dense low-level reward is staged: reach,
    grasp, carry there.
    """

    name = "FetchTool"
    max_primitives = 8
    keep_clear = (HANDOVER_AREA,)
    templates = {
        "train": ("get me the {ref}", "bring me the {ref}", "fetch the {ref}"),
        "test": ("hand me the {ref}", "I need the {ref}, can you pass it over?"),
    }

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        return sample_scene_with_goal(self, rng, keep_clear=[HANDOVER_AREA])

    def reset(self, world: World, rng: np.random.Generator) -> str:
        candidates = goal_candidates(self, world.spec)
        # Prefer the size-order phrases this task is about ("largest ..."), else any unique phrase.
        superlative = [(t, [r for r in refs if r.startswith(("largest", "smallest"))]) for t, refs in candidates]
        superlative = [(t, refs) for t, refs in superlative if refs]
        tool, refs = (superlative or candidates)[int(rng.integers(len(superlative or candidates)))]
        self.goals = [(tool, handover_zone(world.spec.bench.height))]
        return phrase(self.templates, self.config.instruction_split, rng, ref=refs[int(rng.integers(len(refs)))])
