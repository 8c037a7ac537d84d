"""A scripted VLM backend for TESTS ONLY: it reads the simulator's segmentation and scene spec (privileged).

It stands in for a perfect grounding model so the planner's logic (parsing, 3D lifting, asking, retries)
can be tested on its own. The planner never sees what this backend reads: it gets `Region`s, as from any
backend. Real backends (native, hf, openai) see only the `View`.
"""

from __future__ import annotations

import re

import numpy as np

from workbench_gym.language.task import StructuredTask
from workbench_gym.language.vocabulary import plural, vocabulary
from workbench_gym.policies.backend import Region, View
from workbench_gym.scenes.catalog import COLOURS, SIZE_LABELS, get_category

FAMILY_NAMES = vocabulary().family_words
PLURALS = {family: plural(word) for family, word in FAMILY_NAMES.items()}


def _names(category: str) -> list[str]:
    cat = get_category(category)
    family = cat.family
    names = [cat.display.lower(), *(a.lower() for a in cat.aliases)]
    if family in FAMILY_NAMES:
        names += [FAMILY_NAMES[family].lower(), PLURALS[family].lower()]
    return names


def mask_region(mask: np.ndarray, score: float, label: str) -> Region:
    """A region of a (non-empty) mask, its box around it."""
    rows, cols = np.nonzero(mask)
    return Region((int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1), score, mask, label)


class ScriptedBackend:
    """Grounds phrases on the env's instance masks by catalog attributes; answers count/colour/exists questions."""

    name = "scripted"

    def __init__(self, env, noise: float = 0.0, seed: int = 0):
        self.env = env.unwrapped
        self.calls = 0
        self.rng = np.random.default_rng(seed)
        self.noise = noise

    def _segmentation(self, view: View) -> np.ndarray:
        seg = self.env.world.render(view.camera, rgb=False, depth=False, segmentation=True).segmentation
        step = seg.shape[0] // view.rgb.shape[0]  # a decimated view (the planner's second look) has every step-th pixel
        return seg[::step, ::step]

    def ground(self, view: View, phrase: str) -> list[Region]:
        self.calls += 1
        seg = self._segmentation(view)
        words = phrase.lower()
        out = []
        for obj in self.env.world.spec.objects:
            score = self._score(obj, words)
            mask = seg == self.env.world.instance_ids[obj.name]
            if score <= 0 or not mask.any():
                continue
            score = float(np.clip(score + self.noise * self.rng.standard_normal(), 0, 1))
            out.append(mask_region(mask, score, obj.category))
        return sorted(out, key=lambda r: -r.score)

    @staticmethod
    def _score(obj, words: str) -> float:
        if obj.category in ("bin", "parts_tray"):
            if obj.category == "parts_tray":
                return 1.0 if "tray" in words else 0.0
            side = obj.name.removeprefix("bin_")
            return 1.0 if "bin" in words and (side in words or obj.colour in words) else 0.0
        if not any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", words) for n in _names(obj.category)):
            return 0.0
        score = 0.6
        colours = [w for w in words.split() if w in COLOURS]
        if colours:
            score += 0.3 if obj.colour in colours else -0.4
        sizes = [w for w in words.split() if w in SIZE_LABELS]
        if sizes:
            score += 0.1 if obj.size in sizes else -0.3
        return score

    def answer(self, view: View, question: str) -> str:
        self.calls += 1
        q = question.lower()
        tools = self.env.world.spec.tools
        family = next((f for f, p in PLURALS.items() if p.lower() in q), None) or next(f for f, n in FAMILY_NAMES.items() if n.lower() in q)
        members = [t for t in tools if get_category(t.category).family == family]
        if "colour" in q or "color" in q:
            return f"it is {members[0].colour}" if members else "I can't see one"
        if "how many" in q or "number" in q or "count" in q:
            return str(len(members))
        return "yes" if members else "no"

    def plan(self, view: View, instruction: str) -> StructuredTask | None:
        return None
