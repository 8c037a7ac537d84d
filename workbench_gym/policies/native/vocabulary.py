"""The words the native model is trained on, and a parser that splits a referring expression into its parts.

Every catalog category is named by its display name, its family word and plural, and the trade's aliases
("spanner", "hex key", "crosshead screwdriver"); colours by the catalog's colour names. A crop of a red
Phillips screwdriver is a positive for all of those names and for "red".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench_gym.envs.language import FAMILY_NAMES, PLURALS
from workbench_gym.scenes.catalog import CATALOG, COLOURS, SIZE_LABELS

#: Spelling variants people type; mapped before parsing.
_SYNONYMS = {"gray": "grey", "colour": "colour", "color": "colour", "biggest": "largest", "longest": "largest",
             "shortest": "smallest", "tiniest": "smallest", "big": "large", "little": "small", "center": "middle",
             "centre": "middle"}
ORDER_WORDS = ("largest", "smallest", "leftmost", "rightmost", "middle")
_FILLER = {"the", "a", "an", "one", "please", "that", "is", "on", "bench", "workbench"}


def category_texts(category: str) -> tuple[str, ...]:
    """Names of one category, most specific first: display name, catalog name, aliases, family word and plural."""
    cat = CATALOG[category]
    texts = [cat.display.lower(), cat.name.replace("_", " "), *(a.lower() for a in cat.aliases)]
    if cat.is_container:
        texts += ["container"]
    else:
        texts += [FAMILY_NAMES[cat.family].lower(), PLURALS[cat.family].lower()]
    return tuple(dict.fromkeys(texts))


#: The phrase bank: every category name and colour word the model is trained to recognise.
CATEGORIES: tuple[str, ...] = tuple(CATALOG)
COLOUR_WORDS: tuple[str, ...] = tuple(COLOURS)
BANK: tuple[str, ...] = tuple(dict.fromkeys([t for c in CATEGORIES for t in category_texts(c)] + list(COLOUR_WORDS)))


_LONGEST_FIRST = tuple(sorted((t for t in BANK if t not in COLOUR_WORDS), key=len, reverse=True))


def positives(category: str, colour: str) -> set[str]:
    """Bank phrases that describe an object of this category and colour."""
    return {*category_texts(category), colour}


@dataclass(frozen=True)
class Query:
    """A referring expression split into parts: "the largest red screwdriver left of the hammer"."""

    noun: str  # what kind of thing ("screwdriver"); "" when only attributes are given
    colour: str | None = None
    size: str | None = None  # small / medium / large (catalog size label)
    order: str | None = None  # one of ORDER_WORDS
    relation: str | None = None  # "left of" / "right of" / "nearest"
    anchor: str | None = None  # the expression the relation refers to ("the hammer", "the tray")


def normalise(text: str) -> str:
    """Lower case, single spaces, spelling variants mapped, punctuation dropped."""
    words = re.findall(r"[a-z0-9-]+", text.lower())
    return " ".join(_SYNONYMS.get(w, w) for w in words)


_RELATION = re.compile(
    r"^(?P<head>.+?) (?:(?:that is|which is|lying) )?(?:(?:to the|on the) )?(?P<rel>left|right) (?:of|from) (?P<anchor>.+)$"
)
_NEAREST = re.compile(r"^(?P<head>.+?) (?:nearest|closest)(?: to)? (?P<anchor>.+)$")


def parse(text: str) -> Query:
    """Split an expression into noun, colour, size, order word and relation; unknown words stay in the noun."""
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
    # A bank name may itself hold a size or colour word ("small parts container"): take the longest first.
    noun = []
    for name in _LONGEST_FIRST:
        padded = f" {text} "
        if f" {name} " in padded:
            noun, text = [name], padded.replace(f" {name} ", " ").strip()
            break
    colour = size = order = None
    for word in text.split():
        if word in COLOURS and colour is None:
            colour = word
        elif word in SIZE_LABELS and size is None:
            size = word
        elif word in ORDER_WORDS and order is None:
            order = word
        elif word in ("left", "right") and order is None:  # "the left bin": no "of", so an order word
            order = f"{word}most"
        elif word not in _FILLER:
            noun.append(word)
    return Query(" ".join(noun), colour, size, order, relation, anchor)
