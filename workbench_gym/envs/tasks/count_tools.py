"""CountTools-v0: questions about the bench ("how many screwdrivers are there?", "what colour is the
hammer?", "is there a tape measure on the bench?") answered with `Answer(text)`, scored by parsing."""

from __future__ import annotations

import re

import numpy as np

from workbench_gym.envs.high_level import Answer, Done, HighLevelAction
from workbench_gym.envs.task import Task, register_task
from workbench_gym.envs.tasks.goals import sample_until
from workbench_gym.language.questions import QUESTIONS
from workbench_gym.language.vocabulary import plural, vocabulary
from workbench_gym.scenes.catalog import COLOURS, TOOLS, get_category
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.sim.world import World

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]


def parse_number(text: str) -> int | None:
    """First number in a reply, as digits or words ("3", "three", "there are three")."""
    for token in re.findall(r"[a-z]+|\d+", text.lower()):
        if token.isdigit():
            return int(token)
        if token in NUMBER_WORDS:
            return NUMBER_WORDS.index(token)
    return None


def parse_colour(text: str) -> str | None:
    words = re.findall(r"[a-z]+", text.lower())
    return next((w for w in words if w in COLOURS), None)


def parse_yes_no(text: str) -> bool | None:
    words = set(re.findall(r"[a-z]+", text.lower()))
    if words & {"yes", "yeah", "yep", "there", "is"} and not words & {"no", "not", "none", "nope"}:
        return True
    if words & {"no", "not", "none", "nope"}:
        return False
    return None


@register_task
class CountTools(Task):
    """Answer a question about the bench. (`workbench_gym/CountTools-v0`)

    **Task description:** Answer how many tools of a family there are, whether one is there, or a lone tool's
    colour, with `Answer(text)`.

    **Randomizations:** Each `reset(seed=)` samples the bench: `n_tools` tools of random category, size and colour
    at random poses (packed by `density`), the bins and the small-parts tray; then the question kind (count, exists,
    colour) and its subject. The instruction's phrasing comes from `instruction_split`'s templates;
    `variant_split="unseen"` makes goals held-out size x colour variants.

    **Success conditions:** An answer that parses to the right number, yes/no or colour; a right answer ends
    the episode.
    """

    name = "CountTools"
    max_primitives = 3
    templates = {split: tuple(t for q in QUESTIONS.values() for t in q[split]) for split in ("train", "test")}

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        return sample_until(self, rng, lambda spec: True)

    def reset(self, world: World, rng: np.random.Generator) -> str:
        tools = world.spec.tools
        families = [get_category(t.category).family for t in tools]
        single = [f for f in set(families) if families.count(f) == 1]
        kinds = ["count", "exists"] + (["colour"] if single else [])
        self.kind = kinds[int(rng.integers(len(kinds)))]
        split = self.config.instruction_split
        templates = QUESTIONS[self.kind][split]
        template = templates[int(rng.integers(len(templates)))]
        all_families = sorted({get_category(c).family for c in TOOLS})
        if self.kind == "count":
            family = all_families[int(rng.integers(len(all_families)))]
            self.expected = families.count(family)
            self.subject = family
            text = template.format(plural=plural(vocabulary().family_words[family]))
        elif self.kind == "colour":
            family = sorted(single)[int(rng.integers(len(single)))]
            self.expected = tools[families.index(family)].colour
            self.subject = family
            text = template.format(noun=vocabulary().family_words[family])
        else:
            family = all_families[int(rng.integers(len(all_families)))]
            self.expected = family in families
            self.subject = family
            text = template.format(noun=vocabulary().family_words[family])
        self.answers: list[str] = []
        return text

    def _correct(self, text: str) -> bool:
        parse = {"count": parse_number, "colour": parse_colour, "exists": parse_yes_no}[self.kind]
        return parse(text) == self.expected

    def hear(self, action: HighLevelAction, world: World) -> str:
        if isinstance(action, Answer):
            self.answers.append(action.text)
        return ""

    def progress(self, world: World) -> float:
        return float(bool(self.answers) and self._correct(self.answers[-1]))

    def goal_info(self, world: World) -> dict:
        return {"question": self.kind, "subject": self.subject, "answer": self.expected}

    def oracle(self, world: World, held: str | None) -> HighLevelAction:
        if self.answers:
            return Done()
        if self.kind == "count":
            return Answer(str(self.expected))
        if self.kind == "colour":
            return Answer(f"it is {self.expected}")
        return Answer("yes" if self.expected else "no")
