"""The grammar of referring expressions: one parser, and a resolver that finds what an expression picks out.

    the [largest|smallest|leftmost|rightmost|middle] [small|medium|large] [<colour>] <noun>
        [left of the <expression> | right of the <expression> | nearest the tray]

Nouns are a category's names (`vocabulary.category_texts`: display name, aliases, family word and plural). Sizes
compare by the catalog's nominal length; left and right compare each object's `leftness` (see `Thing`), with a
margin so that "left of" never hinges on a millimetre. `parse_phrase` reads any phrase tolerantly (unknown words stay
in the noun, for a grounding model to embed); `resolve` accepts only the grammar's nouns. The envs' instructions,
the datasets' expressions and the native model's grounding all go through this one parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from workbench_gym.language.vocabulary import catalog_key, category_texts, vocabulary
from workbench_gym.scenes import catalog
from workbench_gym.scenes.spec import SceneSpec

#: Order words of the grammar (the structured task's ORDERS, and "middle" of three).
EXPRESSION_ORDERS = ("largest", "smallest", "leftmost", "rightmost", "middle")
RELATIONS = ("left of", "right of")
NEAREST_TRAY = "nearest the tray"
TRAY_GAP = 0.05  # metres the tool nearest the tray must beat the runner-up by
#: Words mapped before parsing: spelling variants and informal comparison and size words.
_SYNONYMS = {"gray": "grey", "color": "colour", "biggest": "largest", "longest": "largest", "shortest": "smallest",
             "tiniest": "smallest", "big": "large", "little": "small", "center": "middle", "centre": "middle"}
_FILLER = {"the", "a", "an", "one", "please", "that", "is", "on", "bench", "workbench"}
_RELATION = re.compile(
    r"^(?P<head>.+?) (?:(?:that is|which is|lying) )?(?:(?:to the|on the) )?(?P<rel>left|right) (?:of|from) (?P<anchor>.+)$"
)
_NEAREST = re.compile(r"^(?P<head>.+?) (?:nearest|closest)(?: to)? (?P<anchor>.+)$")


def nouns(category: str) -> tuple[str, ...]:
    """Words an expression names a category by: display name, family word (tools), aliases; most specific first."""
    cat = catalog.CATALOG[category]
    family = () if cat.is_container else (vocabulary().family_words[cat.family],)
    return tuple(dict.fromkeys((cat.display, *family, *cat.aliases)))


def noun_categories() -> dict[str, frozenset[str]]:
    """Every lower-case name of the grammar -> the categories it names (an alias may name several)."""
    return _noun_table(catalog_key())


@lru_cache(maxsize=4)
def _noun_table(key: tuple) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for name in catalog.CATALOG:
        for text in category_texts(name):
            table.setdefault(text, set()).add(name)
    return {k: frozenset(v) for k, v in table.items()}


@lru_cache(maxsize=4)
def _longest_first(key: tuple) -> tuple[str, ...]:
    return tuple(sorted(_noun_table(key), key=len, reverse=True))


@dataclass(frozen=True)
class Query:
    """A referring expression split into parts: "the largest red screwdriver left of the hammer"."""

    noun: str  # what kind of thing ("screwdriver"); "" when only attributes are given
    colour: str | None = None
    size: str | None = None  # small / medium / large (catalog size label)
    order: str | None = None  # one of EXPRESSION_ORDERS
    relation: str | None = None  # "left of" / "right of" / "nearest"
    anchor: str | None = None  # the expression the relation refers to ("the hammer", "the tray")


def normalise(text: str) -> str:
    """Lower case, single spaces, spelling variants mapped, punctuation dropped."""
    words = re.findall(r"[a-z0-9-]+", text.lower())
    return " ".join(_SYNONYMS.get(w, w) for w in words)


def parse_phrase(text: str) -> Query:
    """Split an expression into noun, colour, size, order word and relation; unknown words stay in the noun."""
    return _parse(text, catalog_key())


@lru_cache(maxsize=16384)  # resets and annotation parse the same few hundred phrases thousands of times
def _parse(text: str, key: tuple) -> Query:
    text = normalise(text)
    if not text:
        raise ValueError("empty referring expression; expected text such as 'the red screwdriver'")
    relation = anchor = None
    m = _RELATION.match(text)
    if m:
        text, relation, anchor = m["head"], f"{m['rel']} of", m["anchor"]
    else:
        m = _NEAREST.match(text)
        if m:
            text, relation, anchor = m["head"], "nearest", m["anchor"]
    # A name may itself hold a size or colour word ("small parts container"): take the longest first.
    noun = []
    padded = f" {text} "
    for name in _longest_first(key):
        if f" {name} " in padded:
            noun, text = [name], padded.replace(f" {name} ", " ").strip()
            break
    colour = size = order = None
    for word in text.split():
        if word in catalog.COLOURS and colour is None:
            colour = word
        elif word in catalog.SIZE_LABELS and size is None:
            size = word
        elif word in EXPRESSION_ORDERS and order is None:
            order = word
        elif word in ("left", "right") and order is None:  # "the left bin": no "of", so an order word
            order = f"{word}most"
        elif word not in _FILLER:
            noun.append(word)
    return Query(" ".join(noun), colour, size, order, relation, anchor)


@dataclass(frozen=True)
class Thing:
    """A scene object as the language sees it. `leftness` grows to the left in the chosen spatial frame."""

    name: str
    category: str
    size: str
    colour: str
    xy: tuple[float, float]
    leftness: float

    @property
    def length(self) -> float:
        return catalog.CATALOG[self.category].sizes[self.size]


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
    """All objects an expression fits. Raises ValueError for a noun outside the grammar."""
    query = parse_phrase(text)
    categories = noun_categories().get(query.noun)
    if categories is None:
        raise ValueError(f"not a referring expression of this grammar: {text!r} (unknown noun {query.noun!r})")
    group = [t for t in things if t.category in categories and query.size in (None, t.size) and query.colour in (None, t.colour)]
    if query.relation in ("left of", "right of"):
        anchors = resolve(query.anchor, things, margin)
        if len(anchors) != 1:
            return []
        sign = 1.0 if query.relation == "left of" else -1.0
        group = [t for t in group if t is not anchors[0] and sign * (t.leftness - anchors[0].leftness) > margin]
    elif query.relation == "nearest":
        anchors = resolve(query.anchor, things, margin)
        if len(anchors) != 1:
            return []
        here = np.asarray(anchors[0].xy)
        group = _extreme([t for t in group if t is not anchors[0]], lambda t: -float(np.hypot(*(np.asarray(t.xy) - here))), True, TRAY_GAP)
    order = query.order
    if order in ("largest", "smallest"):
        group = _extreme(group, lambda t: t.length, order == "largest", 0.0)
    elif order in ("leftmost", "rightmost"):
        group = _extreme(group, lambda t: t.leftness, order == "leftmost", margin)
    elif order == "middle":
        ranked = sorted(group, key=lambda t: t.leftness)
        ok = len(ranked) == 3 and ranked[1].leftness - ranked[0].leftness > margin and ranked[2].leftness - ranked[1].leftness > margin
        group = [ranked[1]] if ok else []
    return group


def anchor_of(text: str) -> str | None:
    """The anchor phrase of a relational expression ("the hammer" in "the pliers left of the hammer")."""
    query = parse_phrase(text)
    return query.anchor if query.relation in RELATIONS else None
