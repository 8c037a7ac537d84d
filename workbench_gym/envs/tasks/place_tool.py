"""PlaceTool-v0: "put the {ref} in the {container}"; success when the tool rests inside it."""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.task import register_task
from workbench_gym.envs.tasks.goals import goal_candidates, sample_scene_with_goal
from workbench_gym.envs.tasks.placement import PlacementTask, fits
from workbench_gym.language.expressions import phrase
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec
from workbench_gym.scenes.zones import container_zone
from workbench_gym.sim.world import World

SMALL_PARTS = ("screw", "nut", "allen_key")  # what belongs in the small-parts tray


def accepts(container: ObjectSpec, tool: ObjectSpec) -> bool:
    """Whether the tool fits the container and belongs there (only small parts go in the tray)."""
    if container.category == "parts_tray" and tool.category not in SMALL_PARTS:
        return False
    return fits(tool, container_zone(container))


def container_phrases(container: ObjectSpec) -> list[str]:
    """Ways to name a container: by place ("left bin"), colour ("blue bin") or kind ("parts tray")."""
    if container.category == "parts_tray":
        return ["small-parts tray", "parts tray"]
    side = container.name.removeprefix("bin_")
    return [f"{side} bin", f"{container.colour} bin"]


@register_task
class PlaceTool(PlacementTask):
    """Put the named tool into the named container. (`workbench_gym/PlaceTool-v0`)

    **Task description:** Put one tool, named by a referring expression, into a container named by place, colour or
    kind ("the left bin", "the blue bin", "the small-parts tray").

    **Randomizations:** Each `reset(seed=)` samples the bench: `n_tools` tools of random category, size and colour
    at random poses (packed by `density`), the bins and the small-parts tray; then the goal tool and a container it
    fits (only small parts go in the tray). The instruction's phrasing comes from `instruction_split`'s templates;
    `variant_split="unseen"` makes goals held-out size x colour variants.

    **Success conditions:** The tool lies inside that container. The dense low-level reward is staged: reach,
    grasp, carry into the container.
    """

    name = "PlaceTool"
    max_primitives = 8
    templates = {
        "train": ("put the {ref} in the {container}", "place the {ref} into the {container}"),
        "test": ("move the {ref} to the {container}", "drop the {ref} in the {container}, please"),
    }

    @staticmethod
    def fits_somewhere(spec: SceneSpec, tool: ObjectSpec) -> bool:
        return any(accepts(c, tool) for c in spec.containers)

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        return sample_scene_with_goal(self, rng, self.fits_somewhere)

    def reset(self, world: World, rng: np.random.Generator) -> str:
        candidates = goal_candidates(self, world.spec, self.fits_somewhere)
        tool, refs = candidates[int(rng.integers(len(candidates)))]
        containers = [c for c in world.spec.containers if accepts(c, tool)]
        container = containers[int(rng.integers(len(containers)))]
        self.goals = [(tool, container_zone(container))]
        names = container_phrases(container)
        return phrase(self.templates, self.config.instruction_split, rng, ref=refs[int(rng.integers(len(refs)))], container=names[int(rng.integers(len(names)))])
