"""ClarifyTool-v0: an instruction that fits two tools, or names a tool the bench does not have.

The right first move is `Ask(question)`; the simulated supervisor answers in the observation's
`dialog` with a phrase that picks out one tool. Success needs a question before any Pick or Place
and that tool lifted afterwards; asking first earns half the credit.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from workbench_gym.envs.high_level import Ask, Done, HighLevelAction, Pick
from workbench_gym.envs.task import Task, register_task
from workbench_gym.envs.tasks.goals import LIFT_HEIGHT, goal_candidates, graspable, lift, sample_until, tool_info
from workbench_gym.language.expressions import phrase, referring_expressions
from workbench_gym.scenes.catalog import get_category, is_held_out
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.sim.world import World

UNFAMILIAR = ("torque wrench", "pipe wrench", "rubber mallet", "utility knife", "socket wrench")


@register_task
class ClarifyTool(Task):
    """Ask which tool is meant, then pick it up. (`workbench_gym/ClarifyTool-v0`)

    **Task description:** The instruction fits two tools equally; an `Ask` gets the supervisor's reply in
    `obs["dialog"]`, which tells them apart, and the meant tool is then lifted as in PickTool.

    **Randomizations:** Each `reset(seed=)` samples the bench: `n_tools` tools of random category, size and colour
    at random poses (packed by `density`), the bins and the small-parts tray; then a scene with two tools the
    instruction fits, and which of them the supervisor means. The instruction's phrasing comes from
    `instruction_split`'s templates; `variant_split="unseen"` makes goals held-out size x colour variants.

    **Success conditions:** Half for asking before acting, the rest for lifting the meant tool 10 cm.
    """

    name = "ClarifyTool"
    max_primitives = 8
    templates = {
        "train": ("pick up the {ref}", "hand me the {ref}"),
        "test": ("could you grab the {ref}?", "I need the {ref}"),
    }

    def ambiguous(self, spec: SceneSpec) -> tuple[SceneSpec, tuple[str, str]] | None:
        """The scene with a goal's twin recoloured like it, and the twins' names; None if no pair works.

        A twin is a graspable tool of the goal's category in another size. Recoloured alike, "the
        {colour} {category}" fits both, yet each keeps a phrase of its own for the supervisor's reply.
        In the "seen" split the recoloured twin must stay a seen variant.
        """
        seen = self.config.variant_split == "seen"
        for a, _ in goal_candidates(self, spec):
            for b in spec.tools:
                if b.category != a.category or b.size == a.size or not graspable(spec, b):
                    continue
                if seen and is_held_out(b.category, b.size, a.colour):
                    continue
                tools = [dataclasses.replace(t, colour=a.colour) if t.name == b.name else t for t in spec.tools]
                recoloured = dataclasses.replace(spec, tools=tools)
                if all(referring_expressions(t, recoloured) for t in tools if t.name in (a.name, b.name)):
                    return recoloured, (a.name, b.name)
        return None

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        spec = sample_until(self, rng, lambda s: self.ambiguous(s) is not None, n_tools=max(self.config.n_tools, 6))
        spec, self.twin_names = self.ambiguous(spec)
        return spec

    def reset(self, world: World, rng: np.random.Generator) -> str:
        a, b = (next(t for t in world.spec.tools if t.name == name) for name in self.twin_names)
        self.target = a if self.config.variant_split == "unseen" else (a, b)[int(rng.integers(2))]
        self.asked = False
        self.acted_before_asking = False
        if rng.random() < 0.5:
            ref = f"{a.colour} {get_category(a.category).display}"  # fits both twins
        else:
            ref = UNFAMILIAR[int(rng.integers(len(UNFAMILIAR)))]  # fits nothing on the bench
        refs = referring_expressions(self.target, world.spec)
        self.reply = f"I mean the {refs[0]}"
        return phrase(self.templates, self.config.instruction_split, rng, ref=ref)

    def hear(self, action: HighLevelAction, world: World) -> str:
        if isinstance(action, Ask):
            if not self.acted_before_asking:
                self.asked = True
            return self.reply
        # A pick is acting on a guess. A place only sets down what the hand already held: in a chain, the tool an
        # earlier step left there (an episode of this task alone starts empty-handed, so it never happens there).
        if isinstance(action, Pick) and not self.asked:
            self.acted_before_asking = True
        return ""

    def progress(self, world: World) -> float:
        if not self.asked:
            return 0.0
        return 0.5 + 0.5 * float(np.clip(lift(world, self.target) / LIFT_HEIGHT, 0.0, 1.0))

    def goal_info(self, world: World) -> dict:
        return {**tool_info(self.target), "must_ask": True}

    def oracle(self, world: World, held: str | None) -> HighLevelAction:
        if not self.asked:
            return Ask("Which one do you mean?")
        return self.oracle_pick(world, self.target) if held is None else Done()
