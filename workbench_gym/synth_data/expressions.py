"""Referring expressions for dataset images: a small grammar, a resolver for it, and candidates checked unique.

Grammar (every expression starts with "the"):

    the [largest|smallest|leftmost|rightmost|middle] [small|medium|large] [<colour>] <noun>
        [left of the <expression> | right of the <expression> | nearest the tray]

Nouns are a category's display name ("Phillips screwdriver"), its family word ("screwdriver", from
`envs.language.FAMILY_NAMES`) or one of its catalog aliases ("hex key"). Sizes compare by the catalog's
nominal length. Left and right compare each object's `leftness` (see `Thing`), with a margin so that
"left of" never hinges on a millimetre. An expression is kept only when `resolve` finds exactly its
target among all objects of the scene, hidden ones included, and the target is visible in the image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from workbench_gym.envs.language import FAMILY_NAMES, referring_expressions
from workbench_gym.scenes.catalog import CATALOG, COLOURS, SIZE_LABELS
from workbench_gym.scenes.spec import SceneSpec

ORDER_WORDS = ("largest", "smallest", "leftmost", "rightmost", "middle")
RELATIONS = ("left of", "right of")
NEAREST_TRAY = "nearest the tray"
_TRAY_GAP = 0.05  # metres the nearest tool must beat the runner-up by (as envs.language does)
_ANCHORS_PER_TARGET = 3  # nearest uniquely named objects tried as anchors of "left of the ..."


def nouns(category: str) -> tuple[str, ...]:
    """Words that name a category: display name, family word (tools), aliases; most specific first."""
    cat = CATALOG[category]
    family = () if cat.is_container else (FAMILY_NAMES[cat.family],)
    return tuple(dict.fromkeys((cat.display, *family, *cat.aliases)))


#: noun -> categories it names; an alias may name several.
NOUNS: dict[str, frozenset[str]] = {}
for _name in CATALOG:
    for _noun in nouns(_name):
        NOUNS[_noun] = NOUNS.get(_noun, frozenset()) | {_name}


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_PATTERN = re.compile(
    rf"^the (?:(?P<order>{_alternation(ORDER_WORDS)}) )?(?:(?P<size>{_alternation(SIZE_LABELS)}) )?"
    rf"(?:(?P<colour>{_alternation(COLOURS)}) )?(?P<noun>{_alternation(NOUNS)})"
    rf"(?: (?P<relation>{_alternation(RELATIONS)}) (?P<anchor>the .+)| (?P<tray>{NEAREST_TRAY}))?$"
)


@dataclass(frozen=True)
class Thing:
    """A scene object as the language sees it. `leftness` grows to the left in the dataset's spatial frame."""

    name: str
    category: str
    size: str
    colour: str
    xy: tuple[float, float]
    leftness: float

    @property
    def length(self) -> float:
        return CATALOG[self.category].sizes[self.size]


def things_of(spec: SceneSpec, leftness: dict[str, float]) -> list[Thing]:
    """The spec's objects with their leftness (keyed by object name)."""
    return [Thing(o.name, o.category, o.size, o.colour, tuple(o.pose.position[:2]), float(leftness[o.name])) for o in spec.objects]


def robot_leftness(spec: SceneSpec) -> dict[str, float]:
    """Left as the robot sees the bench (the envs' convention): world +y, in metres."""
    return {o.name: float(o.pose.position[1]) for o in spec.objects}


def image_leftness(spec: SceneSpec, intrinsics: np.ndarray, extrinsics: np.ndarray, width: int) -> dict[str, float]:
    """Left in the camera image: minus the projected column of each object's centre, in image widths."""
    centres = np.array([o.world_bounds().mean(0) for o in spec.objects]).reshape(-1, 3)
    cam = centres @ extrinsics[:3, :3].T + extrinsics[:3, 3]
    u = intrinsics[0, 0] * cam[:, 0] / np.maximum(cam[:, 2], 1e-6) + intrinsics[0, 2]
    return {o.name: float(-u[i] / width) for i, o in enumerate(spec.objects)}


def _extreme(group: list[Thing], key, largest: bool, margin: float) -> list[Thing]:
    """The one member whose key beats every other by more than `margin`, or nothing."""
    if len(group) < 2:
        return []
    ranked = sorted(group, key=key, reverse=largest)
    gap = key(ranked[0]) - key(ranked[1])
    return [ranked[0]] if (gap if largest else -gap) > margin else []


def resolve(text: str, things: list[Thing], margin: float) -> list[Thing]:
    """All objects an expression fits. Raises ValueError for text outside the grammar."""
    m = _PATTERN.match(text)
    if m is None:
        raise ValueError(f"not a referring expression of this grammar: {text!r}")
    categories = NOUNS[m["noun"]]
    group = [t for t in things if t.category in categories and m["size"] in (None, t.size) and m["colour"] in (None, t.colour)]
    if m["relation"]:
        anchors = resolve(m["anchor"], things, margin)
        if len(anchors) != 1:
            return []
        sign = 1.0 if m["relation"] == "left of" else -1.0
        group = [t for t in group if t is not anchors[0] and sign * (t.leftness - anchors[0].leftness) > margin]
    if m["tray"]:
        trays = [t for t in things if t.category == "parts_tray"]
        if len(trays) != 1:
            return []
        tray = np.asarray(trays[0].xy)
        group = _extreme([t for t in group if t is not trays[0]], lambda t: -float(np.hypot(*(np.asarray(t.xy) - tray))), True, _TRAY_GAP)
    order = m["order"]
    if order in ("largest", "smallest"):
        group = _extreme(group, lambda t: t.length, order == "largest", 0.0)
    elif order in ("leftmost", "rightmost"):
        group = _extreme(group, lambda t: t.leftness, order == "leftmost", margin)
    elif order == "middle":
        ranked = sorted(group, key=lambda t: t.leftness)
        ok = len(ranked) == 3 and ranked[1].leftness - ranked[0].leftness > margin and ranked[2].leftness - ranked[1].leftness > margin
        group = [ranked[1]] if ok else []
    return group


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
        for order in ORDER_WORDS:
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
    """Expressions whose only referent in the scene is the object named `target`."""
    thing = next(t for t in things if t.name == target)
    return [text for text in _candidates(thing, spec, things) if resolve(text, things, margin) == [thing]]


def anchor_of(text: str) -> str | None:
    """The anchor phrase of a relational expression ("the hammer" in "the pliers left of the hammer")."""
    m = _PATTERN.match(text)
    return m["anchor"] if m and m["relation"] else None
