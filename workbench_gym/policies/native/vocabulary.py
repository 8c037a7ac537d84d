"""The phrase bank the native model is trained on, drawn from the language package's catalog words.

Every catalog category is named by its names (`language.vocabulary.category_texts`: display name, family word and
plural, the trade's aliases); colours by the catalog's colour names. A crop of a red Phillips screwdriver is a
positive for all of those names and for "red".
"""

from __future__ import annotations

from workbench_gym.language.vocabulary import category_texts
from workbench_gym.scenes.catalog import CATALOG, COLOURS

CATEGORIES: tuple[str, ...] = tuple(CATALOG)
COLOUR_WORDS: tuple[str, ...] = tuple(COLOURS)
BANK: tuple[str, ...] = tuple(dict.fromkeys([t for c in CATEGORIES for t in category_texts(c)] + list(COLOUR_WORDS)))


def positives(category: str, colour: str) -> set[str]:
    """Bank phrases that describe an object of this category and colour."""
    return {*category_texts(category), colour}
