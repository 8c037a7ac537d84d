"""Generation of referring expressions and instructions: the envs' instructions and the datasets' annotations.

Every expression generated here is checked with the grammar's own `resolve` to pick out exactly its target, so the
envs' instructions and the datasets' expressions come from one grammar. `referring_expressions` is what the envs say
(robot's left, no margin); `unique_expressions` is what the datasets say (any spatial frame, a margin, relations to
other objects). Templates come in disjoint "train" and "test" phrasings; `phrase` fills one in.
"""

from __future__ import annotations

import numpy as np

from workbench_gym.language.grammar import EXPRESSION_ORDERS, NEAREST_TRAY, RELATIONS, Thing, nouns, resolve, robot_leftness, things_of
from workbench_gym.language.task import StructuredTask, ToolReference
from workbench_gym.language.vocabulary import UNLISTED, category_noun, plural, vocabulary
from workbench_gym.scenes.catalog import CATALOG, get_category
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec

_ANCHORS_PER_TARGET = 3  # nearest uniquely named objects tried as anchors of "left of the ..."


def _env_candidates(target: ObjectSpec) -> list[str]:
    """What the envs may call a tool, most specific first: attributes, colour, kind, size order, place."""
    cat = get_category(target.category)
    family = vocabulary().family_words[cat.family]
    out = [target.display_name, f"{target.colour} {cat.display}", cat.display]
    if family.lower() != cat.display.lower():
        out.append(f"{target.colour} {family}")
    for noun in (cat.display, family):
        out += [f"largest {noun}", f"smallest {noun}"]
    return out + [f"leftmost {cat.display}", f"rightmost {cat.display}", f"{cat.display} {NEAREST_TRAY}"]


def referring_expressions(target: ObjectSpec, spec: SceneSpec) -> list[str]:
    """Phrases (without "the") that fit `target` and no other tool in the scene, most specific first."""
    return EnvNames(spec)(target)


class EnvNames:
    """`referring_expressions` for the tools of one scene: a task names many, and their phrases overlap
    ("largest wrench" is tried for every wrench), so each phrase is resolved once per scene."""

    def __init__(self, spec: SceneSpec):
        self.things = things_of(spec, robot_leftness(spec))
        self._referents: dict[str, list[Thing]] = {}

    def __call__(self, target: ObjectSpec) -> list[str]:
        thing = next(t for t in self.things if t.name == target.name)
        return [p for p in dict.fromkeys(_env_candidates(target)) if self._resolve(p) == [thing]]

    def _resolve(self, phrase: str) -> list[Thing]:
        found = self._referents.get(phrase)
        if found is None:
            found = self._referents[phrase] = resolve(f"the {phrase}", self.things, 0.0)
        return found


def phrase(templates: dict[str, tuple[str, ...]], split: str, rng: np.random.Generator, **slots) -> str:
    """One template of the split, filled in."""
    options = templates[split]
    return options[int(rng.integers(len(options)))].format(**slots)


def _candidates(target: Thing, spec: SceneSpec, things: list[Thing]) -> list[str]:
    """Phrases that might single out `target`, most specific wording first (unchecked)."""
    words = nouns(target.category)
    out = []
    for noun in words[:2]:
        out += [f"the {noun}", f"the {target.colour} {noun}", f"the {target.size} {noun}", f"the {target.size} {target.colour} {noun}"]
    for noun in words[2:]:  # aliases without size words: "the medium small parts container" reads wrong
        out += [f"the {noun}", f"the {target.colour} {noun}"]
    tool = not CATALOG[target.category].is_container
    for noun in words[:2]:
        for order in EXPRESSION_ORDERS:
            out += [f"the {order} {noun}", f"the {order} {target.colour} {noun}"]
        if tool:
            out.append(f"the {noun} {NEAREST_TRAY}")
    obj = next(o for o in spec.objects if o.name == target.name)
    if tool:
        out += [f"the {p}" for p in referring_expressions(obj, spec)]
    # Relations to nearby objects that a bare noun names unambiguously ("the pliers left of the hammer").
    here = np.asarray(target.xy)
    named = [(float(np.hypot(*(np.asarray(t.xy) - here))), t) for t in things if t is not target and sum(u.category == t.category for u in things) == 1]
    for _, anchor in sorted(named, key=lambda d: d[0])[:_ANCHORS_PER_TARGET]:
        for relation in RELATIONS:
            out += [f"the {noun} {relation} the {CATALOG[anchor.category].display}" for noun in words[:2]]
    return list(dict.fromkeys(out))


def unique_expressions(target: str, spec: SceneSpec, things: list[Thing], margin: float) -> list[str]:
    """Expressions whose only referent in the scene is the object named `target` (datasets' referring expressions)."""
    thing = next(t for t in things if t.name == target)
    return [text for text in _candidates(thing, spec, things) if resolve(text, things, margin) == [thing]]


def describe(ref: ToolReference) -> str:
    """A structured reference in words, without "the": "largest red wrench", "screws nearest the tray"."""
    noun = category_noun(ref.category) or ("unlisted tool" if ref.category == UNLISTED else "tool")
    if ref.every:
        noun = plural(noun)
    words = [ref.order, ref.size, ref.colour, noun]
    text = " ".join(w for w in words if w)
    return f"{text} {NEAREST_TRAY}" if ref.relation == "nearest_tray" else text


def question_text(task: StructuredTask) -> str:
    """A question task in the envs' first training wording ("how many wrenches are there?"), for a backend to answer."""
    from workbench_gym.language.questions import QUESTIONS

    kind = {"count": "count", "colour_question": "colour", "existence_question": "exists"}.get(task.intent)
    if kind is None or task.reference is None:
        raise ValueError(f"not a question the envs ask: intent {task.intent!r}; expected count, colour_question or existence_question")
    ref = task.reference
    category = ref.category
    if category in CATALOG and vocabulary().families.get(CATALOG[category].family) == (category,):
        category = CATALOG[category].family  # the envs ask about families: "how many hammers", not "claw hammers"
    noun = describe(ToolReference(category, ref.colour, ref.size))
    return QUESTIONS[kind]["train"][0].format(noun=noun, plural=plural(noun))
