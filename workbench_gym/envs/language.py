"""Referring expressions and instruction phrasing shared by the tasks.

`referring_expressions` lists the phrases that pick out exactly one tool in a scene, by category,
subtype, colour, size order (largest, smallest) and space (leftmost, nearest the tray). Templates
come in disjoint "train" and "test" phrasings so planners can be tested on wording they never saw.
"""

from __future__ import annotations

import numpy as np

from workbench_gym.scenes.catalog import get_category
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec

#: Plural and family words as people say them.
FAMILY_NAMES = {
    "wrench": "wrench", "screwdriver": "screwdriver", "pliers": "pliers", "hammer": "hammer",
    "tape_measure": "tape measure", "allen_key": "Allen key", "screw": "screw", "nut": "nut",
}
PLURALS = {"wrench": "wrenches", "screwdriver": "screwdrivers", "pliers": "pliers", "hammer": "hammers",
           "tape_measure": "tape measures", "allen_key": "Allen keys", "screw": "screws", "nut": "nuts"}


def _length(tool: ObjectSpec) -> float:
    return get_category(tool.category).sizes[tool.size]


def referring_expressions(target: ObjectSpec, spec: SceneSpec) -> list[str]:
    """Phrases (without "the") that fit `target` and no other tool in the scene, most specific first."""
    tools = spec.tools
    cat = get_category(target.category)
    family = FAMILY_NAMES[cat.family]
    same_cat = [t for t in tools if t.category == target.category]
    same_family = [t for t in tools if get_category(t.category).family == cat.family]
    out = []

    def unique(group, key) -> bool:
        return sum(key(t) == key(target) for t in group) == 1

    if unique(tools, lambda t: (t.category, t.size, t.colour)):
        out.append(target.display_name)
    if unique(same_cat, lambda t: t.colour):
        out.append(f"{target.colour} {cat.display}")
    if len(same_cat) == 1:
        out.append(cat.display)
    if unique(same_family, lambda t: t.colour) and family != cat.display:
        out.append(f"{target.colour} {family}")
    for group, noun in ((same_cat, cat.display), (same_family, family)):
        lengths = [_length(t) for t in group]
        if len(group) >= 2 and lengths.count(_length(target)) == 1:
            if _length(target) == max(lengths):
                out.append(f"largest {noun}")
            if _length(target) == min(lengths):
                out.append(f"smallest {noun}")
    ys = [t.pose.position[1] for t in same_cat]
    if len(same_cat) >= 2:
        if target.pose.position[1] == max(ys):
            out.append(f"leftmost {cat.display}")
        if target.pose.position[1] == min(ys):
            out.append(f"rightmost {cat.display}")
        tray = next((c for c in spec.containers if c.category == "parts_tray"), None)
        if tray is not None:
            dist = [np.hypot(*(np.asarray(t.pose.position[:2]) - tray.pose.position[:2])) for t in same_cat]
            if min(dist) == dist[same_cat.index(target)] and sorted(dist)[1] - min(dist) > 0.05:
                out.append(f"{cat.display} nearest the tray")
    return list(dict.fromkeys(out))


def phrase(templates: dict[str, tuple[str, ...]], split: str, rng: np.random.Generator, **slots) -> str:
    """One template of the split, filled in."""
    options = templates[split]
    return options[int(rng.integers(len(options)))].format(**slots)
