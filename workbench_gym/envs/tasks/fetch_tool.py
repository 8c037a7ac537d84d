"""FetchTool-v0: "get me the largest adjustable wrench"; success when it lies in the hand-over area."""

from __future__ import annotations

import numpy as np

from workbench_gym.language.expressions import phrase
from workbench_gym.envs.task import register_task
from workbench_gym.envs.tasks.goals import goal_candidates, sample_scene_with_goal
from workbench_gym.envs.tasks.placement import HANDOVER_AREA, PlacementTask, handover_zone
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.sim.world import World


@register_task
class FetchTool(PlacementTask):
    name = "FetchTool"
    max_primitives = 8
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
