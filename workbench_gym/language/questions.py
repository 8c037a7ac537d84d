"""Questions about the bench and captions: the CountTools task's wordings, and dataset question-answer pairs.

Dataset questions are asked about tool families ("screwdriver"), in the CountTools task's training wording. A
question is only asked when the image shows enough to answer it: counts and colours only for families all of whose
members are visible, "no" to existence only for families absent from the whole scene, and left/right only between
uniquely named visible objects that are clearly apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from workbench_gym.language.grammar import Thing
from workbench_gym.language.vocabulary import plural, vocabulary
from workbench_gym.scenes.catalog import CATALOG, TOOLS

#: The CountTools task's question templates by kind, in disjoint "train" and "test" phrasings.
QUESTIONS = {
    "count": {"train": ("how many {plural} are there?", "count the {plural} on the bench"),
              "test": ("how many {plural} can you see?", "tell me the number of {plural} on the workbench")},
    "colour": {"train": ("what colour is the {noun}?",), "test": ("which colour does the {noun} have?",)},
    "exists": {"train": ("is there a {noun} on the bench?",), "test": ("do you see any {noun} on the workbench?",)},
}
QA_KINDS = ("count", "colour", "exists", "spatial")
SPATIAL_QUESTION = "is the {a} left of the {b}?"
_PER_KIND = 2  # questions of each kind per image at most
_SINGULAR = {"pliers": "pair of pliers"}  # for captions: "a pair of pliers", not "a pliers"
_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str
    kind: str


def family(category: str) -> str:
    return CATALOG[category].family


def _template(kind: str, rng: np.random.Generator) -> str:
    options = QUESTIONS[kind]["train"]
    return options[int(rng.integers(len(options)))]


def _pick(items: list, rng: np.random.Generator) -> list:
    """Up to _PER_KIND items, in a seeded order."""
    return [items[i] for i in rng.permutation(len(items))[:_PER_KIND]]


def questions(things: list[Thing], visible: set[str], margin: float, rng: np.random.Generator) -> list[QAPair]:
    """Seeded question-answer pairs about one image; `visible` names the objects it shows."""
    words = vocabulary().family_words
    tools = [t for t in things if t.category in TOOLS]
    members: dict[str, list[Thing]] = {}
    for t in tools:
        members.setdefault(family(t.category), []).append(t)
    seen = sorted(f for f, ts in members.items() if all(t.name in visible for t in ts))
    absent = sorted({family(c) for c in TOOLS} - set(members))
    out = []
    for fam in _pick(seen + absent[:1], rng):
        out.append(QAPair(_template("count", rng).format(plural=plural(words[fam])), str(len(members.get(fam, []))), "count"))
    for fam in _pick([f for f in seen if len(members[f]) == 1], rng):
        out.append(QAPair(_template("colour", rng).format(noun=words[fam]), members[fam][0].colour, "colour"))
    shown = sorted({family(t.category) for t in tools if t.name in visible})
    for fam in _pick(shown, rng) + _pick(absent, rng)[:1]:
        out.append(QAPair(_template("exists", rng).format(noun=words[fam]), "yes" if fam in members else "no", "exists"))
    counts = Counter(t.category for t in things)
    named = [t for t in things if counts[t.category] == 1 and t.name in visible]
    pairs = [(a, b) for a in named for b in named if a is not b and abs(a.leftness - b.leftness) > margin]
    for a, b in _pick(pairs, rng):
        text = SPATIAL_QUESTION.format(a=CATALOG[a.category].display, b=CATALOG[b.category].display)
        out.append(QAPair(text, "yes" if a.leftness > b.leftness else "no", "spatial"))
    return out


def _count_phrase(n: int, singular: str, plural_: str) -> str:
    if n == 1:
        return f"{'an' if singular[0] in 'aeiouAEIOU' else 'a'} {singular}"
    return f"{_NUMBER_WORDS[n] if n < len(_NUMBER_WORDS) else n} {plural_}"


def caption(things: list[Thing], visible: set[str], bench_colour: str, robot_visible: bool) -> str:
    """One sentence naming what the image shows, family by family, most numerous first."""
    words = vocabulary().family_words
    shown = [t for t in things if t.name in visible]
    tools = Counter(family(t.category) for t in shown if t.category in TOOLS)
    containers = Counter(CATALOG[t.category].display for t in shown if t.category not in TOOLS)
    parts = [_count_phrase(n, _SINGULAR.get(f, words[f]), plural(words[f])) for f, n in sorted(tools.items(), key=lambda kv: (-kv[1], kv[0]))]
    parts += [_count_phrase(n, d, d + "s") for d, n in sorted(containers.items())]
    where = f"A {bench_colour} workbench" + (" beside a robot arm" if robot_visible else "")
    if not parts:
        return f"{where}, empty in this view."
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"{where} with {listed}."
