"""The catalog of workshop tools and containers: categories, real-world size variants and colours.

Each entry is data only; `geometry.py` turns a (category, size) pair into parts. Sizes are the
tool's nominal overall length in metres (case width for a tape measure, across-flats for a nut),
taken from common retail variants.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Named colours (linear RGB in 0..1) that instances and containers may take.
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.78, 0.10, 0.10),
    "blue": (0.12, 0.28, 0.75),
    "yellow": (0.95, 0.78, 0.10),
    "green": (0.15, 0.55, 0.22),
    "orange": (0.95, 0.45, 0.08),
    "black": (0.08, 0.08, 0.09),
    "grey": (0.45, 0.47, 0.50),
    "silver": (0.75, 0.76, 0.78),
    "brass": (0.78, 0.62, 0.25),
    "wood": (0.62, 0.42, 0.22),
}

#: Colours of materials for parts that do not take the instance colour.
MATERIAL_COLOURS: dict[str, tuple[float, float, float]] = {
    "steel": (0.62, 0.64, 0.67),
    "plastic": (0.20, 0.20, 0.22),
    "rubber": (0.10, 0.10, 0.10),
    "wood": COLOURS["wood"],
    "brass": COLOURS["brass"],
}

#: Lateral friction of each material; a body takes its heaviest part's. The bench keeps Bullet's default.
MATERIAL_FRICTION: dict[str, float] = {"steel": 0.6, "plastic": 0.7, "rubber": 1.0, "wood": 0.7, "brass": 0.6}
BENCH_FRICTION = 0.5

SIZE_LABELS = ("small", "medium", "large")


@dataclass(frozen=True)
class Category:
    """A kind of tool or container as a shop would list it.

    `family` groups subtypes for sorting ("wrench" holds adjustable and combination wrenches);
    `sizes` maps a size label to the nominal dimension in metres; `aliases` are the trade's other
    words for it ("spanner", "hex key"), used by instructions and planners.
    """

    name: str
    display: str
    family: str
    sizes: dict[str, float]
    colours: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    is_container: bool = False

    def display_name(self, size: str, colour: str) -> str:
        """Human name of one instance, e.g. "large red adjustable wrench"."""
        return f"{size} {colour} {self.display}"


def _category(name, display, family, sizes, colours, aliases=(), is_container=False) -> Category:
    return Category(name, display, family, dict(zip(SIZE_LABELS, sizes)), tuple(colours), tuple(aliases), is_container)


TOOLS: dict[str, Category] = {
    c.name: c
    for c in (
        _category("adjustable_wrench", "adjustable wrench", "wrench", (0.15, 0.20, 0.25), ("red", "blue", "black", "silver"), ("adjustable spanner", "crescent wrench", "shifter")),
        _category("combination_wrench", "combination wrench", "wrench", (0.13, 0.17, 0.21), ("silver", "black", "blue"), ("spanner", "combination spanner")),
        _category("phillips_screwdriver", "Phillips screwdriver", "screwdriver", (0.15, 0.20, 0.25), ("red", "yellow", "blue", "black", "green"), ("crosshead screwdriver", "cross-head screwdriver", "phillips")),
        _category("flathead_screwdriver", "flathead screwdriver", "screwdriver", (0.15, 0.20, 0.25), ("red", "yellow", "blue", "black", "green"), ("slotted screwdriver", "flat screwdriver", "flat-blade screwdriver")),
        _category("needle_nose_pliers", "needle-nose pliers", "pliers", (0.13, 0.16, 0.20), ("red", "blue", "yellow", "orange"), ("long-nose pliers", "snipe-nose pliers")),
        _category("slip_joint_pliers", "slip-joint pliers", "pliers", (0.15, 0.18, 0.22), ("red", "blue", "yellow", "orange"), ("combination pliers", "groove-joint pliers")),
        _category("claw_hammer", "claw hammer", "hammer", (0.28, 0.31, 0.34), ("wood", "black", "yellow", "red"), ("hammer", "nail hammer")),
        _category("tape_measure", "tape measure", "tape_measure", (0.055, 0.062, 0.068), ("yellow", "black", "orange", "red"), ("measuring tape", "tape rule")),
        _category("allen_key", "Allen key", "allen_key", (0.06, 0.09, 0.12), ("black", "silver"), ("hex key", "allen wrench", "hex wrench")),
        _category("screw", "screw", "screw", (0.016, 0.025, 0.040), ("silver", "brass", "black"), ("wood screw", "bolt")),
        _category("nut", "nut", "nut", (0.010, 0.013, 0.017), ("silver", "brass"), ("hex nut",)),
    )
}

CONTAINERS: dict[str, Category] = {
    c.name: c
    for c in (
        # Bin sizes are outer lengths; the small-parts tray is a shallow tray with compartments.
        _category("bin", "bin", "container", (0.16, 0.22, 0.28), ("blue", "grey", "green", "orange", "red"), ("box", "tub"), True),
        _category("parts_tray", "small-parts tray", "container", (0.16, 0.20, 0.24), ("grey", "blue", "orange"), ("tray", "parts tray", "small parts container"), True),
    )
}

CATALOG: dict[str, Category] = {**TOOLS, **CONTAINERS}


def is_held_out(category: str, size: str, colour: str) -> bool:
    """Whether a variant belongs to the "unseen" split: a third of each category's size x colour grid.

    Held-out variants never appear in "seen" scenes; "unseen" episodes make them the goal.
    """
    cat = get_category(category)
    return (list(cat.sizes).index(size) + cat.colours.index(colour)) % 3 == 2


def get_category(name: str) -> Category:
    """Look up a category by name, with an error that lists the known names."""
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown category {name!r}; expected one of {sorted(CATALOG)}") from None
