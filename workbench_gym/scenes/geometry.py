"""Procedural geometry: each catalog category built from parts at real dimensions.

Body frame convention for every tool: it lies flat with its long axis along +x, z = 0 is the plane
it rests on, and the origin is near the middle of its footprint. Containers open upwards.
The builders aim for silhouettes that read at 128x128 (a wrench shows a head and an open jaw,
pliers two handles and a jaw), not for CAD accuracy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from workbench_gym.scenes.catalog import COLOURS, MATERIAL_COLOURS, MATERIAL_FRICTION, get_category
from workbench_gym.scenes.parts import Part, box, polygon, prism, rod


@dataclass(frozen=True)
class GraspRegion:
    """Where a parallel gripper should hold a tool, in the body frame.

    The fingers close along `closing_yaw` (radians about z in the body frame) on a section
    `width` wide, centred at `center`; `half_length` is how far along the other horizontal axis
    the grasp may slide and stay on the region. `turns` are other closing directions (radians added
    to `closing_yaw`) across which the region is as wide: a hex nut's other pairs of flats, a square
    case's other pair of sides; a retry can take them when the fingers met a neighbour.
    """

    center: tuple[float, float, float]
    closing_yaw: float
    width: float
    half_length: float
    turns: tuple[float, ...] = ()


@dataclass(frozen=True)
class BodyGeometry:
    """Parts of one body with derived mass properties and bounds."""

    parts: tuple[Part, ...]
    coloured_roles: frozenset[str]
    grasp: GraspRegion | None

    @property
    def mass(self) -> float:
        return sum(p.mass for p in self.parts)

    @property
    def center_of_mass(self) -> np.ndarray:
        masses = np.array([p.mass for p in self.parts])
        return (masses[:, None] * np.array([p.position for p in self.parts])).sum(0) / masses.sum()

    def part_colour(self, part: Part, colour: str) -> tuple[float, float, float]:
        """The instance colour for the category's coloured parts, the material's colour for the rest."""
        return COLOURS[colour] if part.role in self.coloured_roles else MATERIAL_COLOURS[part.material]

    @property
    def friction(self) -> float:
        """Lateral friction of the body: that of its heaviest part's material."""
        return MATERIAL_FRICTION[max(self.parts, key=lambda p: p.mass).material]

    @cached_property
    def part_bounds(self) -> np.ndarray:
        """Per-part axis-aligned bounds in the body frame, shape (parts, 2, 3)."""
        return np.stack([np.stack([v.min(0), v.max(0)]) for v in (p.body_vertices() for p in self.parts)])

    @cached_property
    def bounds(self) -> np.ndarray:
        """Axis-aligned bounds [[xmin, ymin, zmin], [xmax, ymax, zmax]] in the body frame."""
        return np.stack([self.part_bounds[:, 0].min(0), self.part_bounds[:, 1].max(0)])


def _wrench_jaw(length: float, x0: float, head_r: float, t: float) -> list[Part]:
    """Open jaw of two prongs facing +x, starting at x0."""
    prong = 0.42 * head_r
    gap = 0.7 * head_r
    reach = 0.9 * head_r
    return [
        box("jaw", (reach, prong, t), (x0 + reach / 2, (gap + prong) / 2, t / 2), "steel"),
        box("jaw", (reach, prong, t), (x0 + reach / 2, -(gap + prong) / 2, t / 2), "steel"),
    ]


def _adjustable_wrench(length: float) -> tuple[list[Part], GraspRegion]:
    t = 0.008 + 0.02 * length
    head_r = 0.11 * length
    handle_len = 0.66 * length
    head_x = length / 2 - 0.9 * head_r - head_r * 0.8
    parts = [
        box("grip", (handle_len, 0.12 * length, 0.7 * t), (-length / 2 + handle_len / 2, 0, 0.35 * t), "rubber"),
        rod("head", head_r, t, (head_x, 0, t / 2), "steel", axis="z"),
        box("neck", (head_x - (-length / 2 + handle_len), 0.09 * length, 0.8 * t), ((head_x + (-length / 2 + handle_len)) / 2, 0, 0.4 * t), "steel"),
        rod("worm", 0.22 * head_r, 0.5 * head_r, (head_x - 0.2 * head_r, -0.55 * head_r, t / 2), "steel", axis="x"),
        *_wrench_jaw(length, head_x + 0.5 * head_r, head_r, t),
    ]
    grasp = GraspRegion((-length / 2 + handle_len * 0.45, 0, 0.35 * t), math.pi / 2, 0.12 * length, handle_len * 0.3)
    return parts, grasp


def _combination_wrench(length: float) -> tuple[list[Part], GraspRegion]:
    t = 0.006 + 0.01 * length
    end_r = 0.075 * length
    shaft_len = length - 2 * end_r - 0.9 * end_r
    parts = [
        box("shaft", (shaft_len, 0.07 * length, t), (-length / 2 + 2 * end_r + shaft_len / 2 - end_r * 0.3, 0, t / 2), "steel"),
        rod("ring", end_r, t * 1.2, (-length / 2 + end_r, 0, t * 0.6), "steel", axis="z"),
        box("ring_hole", (0.9 * end_r, 0.9 * end_r, 0.1 * t), (-length / 2 + end_r, 0, t * 1.25), "rubber"),
        box("open_end", (0.5 * end_r, 2 * end_r, t), (length / 2 - 1.15 * end_r, 0, t / 2), "steel"),
        *_wrench_jaw(length, length / 2 - 0.9 * end_r, end_r, t),
    ]
    grasp = GraspRegion((0.0, 0, t / 2), math.pi / 2, 0.07 * length, shaft_len * 0.3)
    return parts, grasp


def _screwdriver(length: float, phillips: bool) -> tuple[list[Part], GraspRegion]:
    r = 0.011 + 0.02 * length
    handle_len = 0.42 * length
    shaft_r = 0.0025 + 0.006 * length
    shaft_len = length - handle_len - 0.012
    x_handle = -length / 2 + handle_len / 2
    z = r  # axis height when lying on the handle
    tip_x = length / 2 - 0.006
    if phillips:
        tip = [prism("tip", [(-0.006, -shaft_r), (-0.006, shaft_r), (0.006, 0.0008), (0.006, -0.0008)], 2 * shaft_r, (tip_x, 0, z), "steel")]
    else:
        tip = [box("tip", (0.012, 3.2 * shaft_r, 0.0015), (tip_x, 0, z), "steel")]
    parts = [
        rod("grip", r, handle_len, (x_handle, 0, z), "plastic", capsule=True),
        rod("ferrule", 0.55 * r, 0.012, (-length / 2 + handle_len + 0.004, 0, z), "steel"),
        rod("shaft", shaft_r, shaft_len, (-length / 2 + handle_len + shaft_len / 2, 0, z), "steel"),
        *tip,
    ]
    grasp = GraspRegion((x_handle, 0, z), math.pi / 2, 2 * r, handle_len * 0.25)
    return parts, grasp


def _pliers(length: float, needle: bool) -> tuple[list[Part], GraspRegion]:
    t = 0.009 + 0.01 * length
    pivot_x = length * (0.12 if needle else 0.05)
    handle_len = length / 2 + pivot_x - 0.01
    spread = math.radians(7)
    hw = 0.09 * length
    parts = []
    for sign in (1, -1):
        cx = pivot_x - handle_len / 2 * math.cos(spread)
        cy = sign * handle_len / 2 * math.sin(spread)
        parts.append(box("grip", (handle_len, hw, t * 0.9), (cx, cy, t * 0.45), "rubber", yaw=-sign * spread))
    parts.append(rod("pivot", 0.08 * length, t, (pivot_x, 0, t / 2), "steel", axis="z"))
    jaw_len = length / 2 - pivot_x
    if needle:
        outline = [(0, -0.07 * length), (0, 0.07 * length), (jaw_len, 0.012 * length), (jaw_len, -0.012 * length)]
    else:
        outline = [(0, -0.08 * length), (0, 0.08 * length), (jaw_len * 0.8, 0.06 * length), (jaw_len, 0.02 * length), (jaw_len, -0.02 * length), (jaw_len * 0.8, -0.06 * length)]
    parts.append(prism("jaw", outline, t, (pivot_x, 0, t / 2), "steel"))
    grasp = GraspRegion((pivot_x - 0.05 * length, 0, t / 2), math.pi / 2, 0.2 * length, 0.02)
    return parts, grasp


def _claw_hammer(length: float) -> tuple[list[Part], GraspRegion]:
    t = 0.026
    head_len = 0.36 * length
    head_x = length / 2 - 0.016
    parts = [
        box("grip", (length - 0.03, 0.03, t * 0.9), (-0.015, 0, t * 0.45), "wood"),
        box("head", (0.028, head_len * 0.55, t), (head_x, 0.05 * head_len, t / 2), "steel"),
        rod("face", 0.011, head_len * 0.3, (head_x, head_len * 0.42, t / 2), "steel", axis="y"),
        prism("claw", [(-0.016, 0), (0.016, 0), (0.006, -head_len * 0.45), (-0.004, -head_len * 0.48)], t * 0.9, (head_x, -0.2 * head_len, t / 2), "steel"),
    ]
    grasp = GraspRegion((-length * 0.15, 0, t * 0.45), math.pi / 2, 0.03, length * 0.2)
    return parts, grasp


def _tape_measure(width: float) -> tuple[list[Part], GraspRegion]:
    h = 0.45 * width
    s = width / 2
    rounded = [(s * math.cos(a) * 1.0, s * math.sin(a) * 1.0) for a in np.linspace(math.pi / 2, 3 * math.pi / 2, 7)]
    outline = rounded + [(s * 0.9, -s), (s, -s * 0.9), (s, s * 0.9), (s * 0.9, s)]
    parts = [
        prism("case", outline, h, (0, 0, h / 2), "plastic"),
        box("clip", (0.6 * width, 0.15 * width, 0.006), (-0.05 * width, 0, h + 0.003), "steel"),
        box("tape_tip", (0.008, 0.5 * width, 0.004), (s + 0.004, -0.1 * width, 0.006), "steel"),
    ]
    grasp = GraspRegion((0, 0, h / 2), math.pi / 2, width, 0.01, turns=(math.pi / 2,))
    return parts, grasp


def _allen_key(length: float) -> tuple[list[Part], GraspRegion]:
    r = 0.002 + 0.02 * length
    short = 0.3 * length
    parts = [
        rod("arm", r, length, (0, 0, r), "steel"),
        rod("arm", r, short, (-length / 2 + r, short / 2 - r, r), "steel", axis="y"),
    ]
    grasp = GraspRegion((0.15 * length, 0, r), math.pi / 2, 2 * r, 0.25 * length)
    return parts, grasp


def _screw(length: float) -> tuple[list[Part], GraspRegion]:
    shank_r = 0.0012 + 0.06 * length
    head_r = 2.0 * shank_r
    head_t = 0.5 * head_r
    parts = [
        rod("head", head_r, head_t, (-length / 2 + head_t / 2, 0, head_r), "steel"),
        rod("shank", shank_r, length - head_t, (head_t / 2, 0, head_r), "steel"),
    ]
    grasp = GraspRegion((-length / 2 + head_t / 2, 0, head_r), math.pi / 2, 2 * head_r, head_t / 2)
    return parts, grasp


def _nut(across_flats: float) -> tuple[list[Part], GraspRegion]:
    t = 0.5 * across_flats  # ISO 4032 nuts are about half as tall as they are wide
    r = across_flats / math.sqrt(3)
    parts = [prism("body", polygon(6, r), t, (0, 0, t / 2), "steel")]
    grasp = GraspRegion((0, 0, t / 2), math.pi / 2, across_flats, 0.002, turns=(math.pi / 3, -math.pi / 3))
    return parts, grasp


def _bin(length: float) -> tuple[list[Part], None]:
    w, h, wall = 0.72 * length, 0.3 * length, 0.005
    parts = [
        box("floor", (length, w, wall), (0, 0, wall / 2), "plastic"),
        box("wall", (length, wall, h), (0, (w - wall) / 2, h / 2), "plastic"),
        box("wall", (length, wall, h), (0, -(w - wall) / 2, h / 2), "plastic"),
        box("wall", (wall, w - 2 * wall, h), ((length - wall) / 2, 0, h / 2), "plastic"),
        box("wall", (wall, w - 2 * wall, h), (-(length - wall) / 2, 0, h / 2), "plastic"),
    ]
    return parts, None


def _parts_tray(length: float) -> tuple[list[Part], None]:
    w, h, wall = 0.65 * length, 0.035, 0.004
    parts = [
        box("floor", (length, w, wall), (0, 0, wall / 2), "plastic"),
        box("wall", (length, wall, h), (0, (w - wall) / 2, h / 2), "plastic"),
        box("wall", (length, wall, h), (0, -(w - wall) / 2, h / 2), "plastic"),
        box("wall", (wall, w - 2 * wall, h), ((length - wall) / 2, 0, h / 2), "plastic"),
        box("wall", (wall, w - 2 * wall, h), (-(length - wall) / 2, 0, h / 2), "plastic"),
        box("divider", (wall, w - 2 * wall, 0.7 * h), (0, 0, 0.35 * h), "plastic"),
        box("divider", (length / 2 - wall, wall, 0.7 * h), (length / 4, 0, 0.35 * h), "plastic"),
    ]
    return parts, None


_BUILDERS = {
    "adjustable_wrench": (_adjustable_wrench, {"grip"}),
    "combination_wrench": (_combination_wrench, {"shaft", "open_end"}),
    "phillips_screwdriver": (lambda n: _screwdriver(n, phillips=True), {"grip"}),
    "flathead_screwdriver": (lambda n: _screwdriver(n, phillips=False), {"grip"}),
    "needle_nose_pliers": (lambda n: _pliers(n, needle=True), {"grip"}),
    "slip_joint_pliers": (lambda n: _pliers(n, needle=False), {"grip"}),
    "claw_hammer": (_claw_hammer, {"grip"}),
    "tape_measure": (_tape_measure, {"case"}),
    "allen_key": (_allen_key, {"arm"}),
    "screw": (_screw, {"head", "shank"}),
    "nut": (_nut, {"body"}),
    "bin": (_bin, {"floor", "wall"}),
    "parts_tray": (_parts_tray, {"floor", "wall", "divider"}),
}


@lru_cache(maxsize=None)
def build_geometry(category: str, size: str) -> BodyGeometry:
    """Parts, colour roles and grasp region of one (category, size) variant."""
    cat = get_category(category)
    if size not in cat.sizes:
        raise KeyError(f"unknown size {size!r} for {category}; expected one of {list(cat.sizes)}")
    builder, coloured = _BUILDERS[category]
    parts, grasp = builder(cat.sizes[size])
    return BodyGeometry(tuple(parts), frozenset(coloured), grasp)


def container_interior(category: str, size: str) -> np.ndarray:
    """Inner floor rectangle [[xmin, ymin], [xmax, ymax]] of a container, in its body frame."""
    bounds = build_geometry(category, size).bounds
    wall = 0.006
    return np.stack([bounds[0, :2] + wall, bounds[1, :2] - wall])
