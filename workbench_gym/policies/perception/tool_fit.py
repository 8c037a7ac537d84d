"""Fitting a catalog tool to lifted points: which kind and size it is, and where it lies.

Public catalog data only (tool shapes, as a shop's CAD would give them, and how each lies at rest on a flat
top). The long axis comes from PCA or the smallest enclosing rectangle, the size from the catalog length
nearest the measured one and, where a kind's sizes lie at clearly different heights, from the height of its
top, and which end is which from how well the catalog's part footprints cover the points either way round.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from workbench_gym.policies.backend import Region, View
from workbench_gym.policies.perception.camera import pixel_size
from workbench_gym.policies.perception.regions import lift_region, occluded
from workbench_gym.policies.perception.shapes import min_area_rectangle, principal_yaw, rotation
from workbench_gym.scenes.catalog import get_category
from workbench_gym.scenes.geometry import build_geometry

FOOTPRINT_MARGIN = 0.004  # metres each part rectangle grows by when scoring a pose (pixel footprint, noise)
MAX_FIT_POINTS = 150  # points scored per pose hypothesis
REFINED_HYPOTHESES = 4  # best coarse poses refined on the grid
SHORT_WEIGHT = 0.3  # weight of a tool seen shorter than a catalog length, against seen longer
TRUNCATED = 0.9  # an occluded tool seen shorter than this share of its kind's shortest variant is partly hidden
FRAGMENT = 0.85  # a tool seen shorter than this share of its kind's shortest variant is a piece of one
#: A kind's sizes are told apart by the height of their tops where adjacent sizes rest this much apart or more (on dev
#: scenes a depth camera's top lies 0-0.8 mm below the drawn one, within 0.05 mm for flat wrenches; pliers' sizes
#: differ by 0.3 mm and hammers' not at all).
HEIGHT_STEP = 0.0005
HEIGHT_SLACK = 0.0015  # metres: a top further outside a kind's resting tops (raised, tilted, merged) says nothing of size
HEIGHT_WEIGHT = 0.5  # weight of a top one size step off, against the footprint fit (0..1)
#: Each variant's top at rest on a flat top, in metres (catalog data: scripts/resting_tops.py settles the shapes).
RESTING_TOPS = Path(__file__).with_name("resting_tops.json")
#: Offsets (dx, dy, dyaw) tried around a coarse pose: +-1.5 cm, +-6 degrees.
_REFINE_GRID = np.stack(np.meshgrid(np.linspace(-0.015, 0.015, 5), np.linspace(-0.015, 0.015, 5), np.radians(np.linspace(-6, 6, 5)), indexing="ij"), -1).reshape(-1, 3)


@lru_cache(maxsize=None)
def catalog_model(category: str, size: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Catalog length along the body x axis, xy bounds centre, and part rectangles (P, 2, 2) in the body frame."""
    geometry = build_geometry(category, size)
    bounds = geometry.bounds
    return float(np.ptp(bounds[:, 0])), bounds[:, :2].mean(0), geometry.part_bounds[:, :, :2]


def _footprint_fit(xy: np.ndarray, parts: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """Fraction of points (N, 2) inside a body's part rectangles, for each pose (G, 3: x, y, yaw)."""
    c, s = np.cos(poses[:, 2])[:, None], np.sin(poses[:, 2])[:, None]
    dx, dy = xy[None, :, 0] - poses[:, 0:1], xy[None, :, 1] - poses[:, 1:2]
    local_x, local_y = c * dx + s * dy, -s * dx + c * dy  # R^T (p - o)
    inside = np.zeros(local_x.shape, bool)
    for (x0, y0), (x1, y1) in parts - np.array([FOOTPRINT_MARGIN, -FOOTPRINT_MARGIN])[:, None]:
        inside |= (local_x >= x0) & (local_x <= x1) & (local_y >= y0) & (local_y <= y1)
    return inside.mean(1)


@dataclass(frozen=True)
class ToolEstimate:
    """A tool's pose and identity fitted to its lifted points."""

    category: str
    size: str
    position: tuple[float, float, float]  # body origin in the world (on the bench)
    yaw: float
    length: float  # measured along the long axis, metres
    top: float  # highest point above the bench, metres
    fit: float  # fraction of the points the catalog footprint covers, in [0, 1]
    points: int
    occluded: bool = False  # something nearer the camera borders the region: the tool may go on behind it

    @property
    def xy(self) -> np.ndarray:
        return np.asarray(self.position[:2])

    @property
    def rotation(self) -> np.ndarray:
        """The body's 3x3 rotation (a yaw: tools lie flat)."""
        return rotation(self.yaw)

    @property
    def centre(self) -> np.ndarray:
        """World xy of the middle of the tool's catalog bounds (what a zone's containment test looks at)."""
        return self.xy + rotation(self.yaw)[:2, :2] @ catalog_model(self.category, self.size)[1]

    @property
    def truncated(self) -> bool:
        """Whether part of the tool is surely hidden: occluded, and seen shorter than any variant of its kind."""
        return self.occluded and self.length < TRUNCATED * self.shortest

    @property
    def fragment(self) -> bool:
        """Whether the tool is seen much shorter than any variant of its kind, hidden or not: a piece of one."""
        return self.length < FRAGMENT * self.shortest

    @property
    def shortest(self) -> float:
        """The catalog length of the shortest variant of the fitted kind, metres."""
        return min(self._variant_lengths)

    @property
    def centre_slack(self) -> float:
        """How far the true middle may lie from `centre` along the tool: half of what may be hidden of an occluded
        tool (up to its kind's longest variant), else 0."""
        return max(max(self._variant_lengths) - self.length, 0.0) / 2 if self.occluded else 0.0

    @property
    def _variant_lengths(self) -> list[float]:
        return [catalog_model(self.category, size)[0] for size in get_category(self.category).sizes]

    @property
    def model_length(self) -> float:
        """The fitted variant's catalog length along its long axis, metres."""
        return catalog_model(self.category, self.size)[0]

    @property
    def nominal(self) -> float:
        """The catalog's nominal dimension of the fitted size (what "largest" compares)."""
        return get_category(self.category).sizes[self.size]

    def flipped(self) -> ToolEstimate:
        """The same footprint the other way round: yaw turned half a turn about the bounds' middle."""
        yaw = (self.yaw + 2 * math.pi) % (2 * math.pi) - math.pi
        origin = self.centre - rotation(yaw)[:2, :2] @ catalog_model(self.category, self.size)[1]
        return replace(self, position=(float(origin[0]), float(origin[1]), self.position[2]), yaw=yaw)

    @property
    def grip_height(self) -> float:
        """Height of the grasp point above the tool's underside."""
        return float(build_geometry(self.category, self.size).grasp.center[2])


def fit_tool(view: View, region: Region, categories: tuple[str, ...], bench_z: float, pixel: float | None = None) -> ToolEstimate | None:
    """The best-fitting pose and size of a tool of one of `categories` in a view's region; None if too few points.
    `pixel` is the view's `pixel_size` where the caller has it already (a median over the frame)."""
    lifted = lift_region(view, region, bench_z)
    if len(lifted) < 3:
        return None
    hidden = region.mask is not None and occluded(view, np.asarray(region.mask, bool), bench_z)
    return fit_points(lifted.points, categories, bench_z, pixel_size(view) if pixel is None else pixel, hidden)


def fit_points(points: np.ndarray, categories: tuple[str, ...], bench_z: float, pixel: float,
               hidden: bool = False) -> ToolEstimate | None:
    """The best-fitting catalog tool of one of `categories` to world points (N, 3) of one object; None if too few.

    `pixel` is the pixel width on the bench of the view that measured them (the grid adds it to a length);
    `hidden` says part of the object may be out of sight. Axes tried: the points' principal axis (long tools)
    and the sides of their smallest enclosing rectangle (near-square ones, such as a tape measure's case,
    whose principal axis means nothing), each either way round.
    """
    if len(points) < 3:
        return None
    xy = points[:, :2]
    fit_xy = xy[:: max(1, len(xy) // MAX_FIT_POINTS)]  # evenly thinned: the footprint test needs shape, not every pixel
    axes = [principal_yaw(xy)]
    rectangle = min_area_rectangle(xy)
    if rectangle is not None:
        axes += [rectangle[0], rectangle[0] + math.pi / 2]
    extents = []  # (axis yaw, centre, length) per axis: coarse origins come from the extents' centre
    for axis_yaw in axes:
        rot = rotation(axis_yaw)[:2, :2]
        local = xy @ rot
        lo, hi = local.min(0), local.max(0)
        extents.append((axis_yaw, rot @ ((lo + hi) / 2), float(hi[0] - lo[0]) + pixel))
    top = float(points[:, 2].max() - bench_z)
    hypotheses = []  # (score, order, category, size, yaw, origin, length); order keeps ties in axis-major order
    for c, category in enumerate(categories):
        for s, size in enumerate(get_category(category).sizes):
            model_length, model_centre, parts = catalog_model(category, size)
            height = HEIGHT_WEIGHT * height_penalty(top, category, size, hidden)
            poses, keys = [], []
            for a, (axis_yaw, centre, length) in enumerate(extents):
                for turn in (0, 1):
                    yaw = axis_yaw + turn * math.pi
                    poses.append([*(centre - rotation(yaw)[:2, :2] @ model_centre), yaw])
                    keys.append(((a, c, s, turn), length))
            fits = _footprint_fit(fit_xy, parts, np.array(poses))  # every axis and end of this variant at once
            for pose, (order, length), fit in zip(poses, keys, fits):
                hypotheses.append((float(fit) - length_penalty(length, model_length) - height, order, category, size, pose[2], np.array(pose[:2]), length))
    hypotheses.sort(key=lambda h: (-h[0], h[1]))
    # Refine the best few: a coarse centre a centimetre off can favour the wrong end or the wrong size.
    best = None
    for _, _, category, size, yaw, origin, length in hypotheses[:REFINED_HYPOTHESES]:
        model_length, _, parts = catalog_model(category, size)
        poses = np.array([[*origin, yaw]]) + _REFINE_GRID
        fits = _footprint_fit(fit_xy, parts, poses)
        i = int(np.argmax(fits))
        height = HEIGHT_WEIGHT * height_penalty(top, category, size, hidden)
        refined = (float(fits[i]) - length_penalty(length, model_length) - height, category, size, poses[i, 2], poses[i, :2], float(fits[i]), length)
        if best is None or refined[0] > best[0]:
            best = refined
    _, category, size, yaw, origin, fit, length = best
    yaw = (yaw + math.pi) % (2 * math.pi) - math.pi
    return ToolEstimate(category, size, (float(origin[0]), float(origin[1]), bench_z), yaw, length, top, fit, len(points), hidden)


@lru_cache(maxsize=1)
def _resting_table() -> dict[str, dict[str, float]]:
    return json.loads(RESTING_TOPS.read_text())


def resting_tops(category: str) -> dict[str, float] | None:
    """Each size's resting top where a depth camera tells them apart, else None (also for a kind the table lacks)."""
    return _resting_table()[category] if _height_scale(category) is not None else None


@lru_cache(maxsize=None)
def _height_scale(category: str) -> tuple[float, float, float] | None:
    """(lowest resting top - HEIGHT_SLACK, highest + HEIGHT_SLACK, smallest step between sizes), or None where the
    table lacks the kind's sizes or they rest less than HEIGHT_STEP apart."""
    tops = _resting_table().get(category)
    if tops is None or set(tops) != set(get_category(category).sizes) or len(tops) < 2:
        return None
    ordered = sorted(tops.values())
    step = float(min(np.diff(ordered)))
    return (ordered[0] - HEIGHT_SLACK, ordered[-1] + HEIGHT_SLACK, step) if step >= HEIGHT_STEP else None


def height_penalty(top: float, category: str, size: str, hidden: bool = False) -> float:
    """How far (in size steps, at most 1) a measured top lies from the size's resting top; 0 where height says nothing.

    With part of the tool out of sight (`hidden`) its highest point may be hidden too: a top seen lower than a size's
    then counts at SHORT_WEIGHT, as a length seen shorter does; a top seen higher is strong evidence either way.
    Called for every size hypothesis of every fit, so the per-kind figures are worked out once.
    """
    scale = _height_scale(category)
    if scale is None or not scale[0] <= top <= scale[1]:
        return 0.0
    above = top - resting_tops(category)[size]
    return min((above if above > 0 else -above * (SHORT_WEIGHT if hidden else 1.0)) / scale[2], 1.0)


def size_misfit(estimate: ToolEstimate, size: str) -> float:
    """How much a tool's measured length speaks against it being `size` of its fitted category."""
    return length_penalty(estimate.length, catalog_model(estimate.category, size)[0])


def length_penalty(measured: float, model: float) -> float:
    """How much a measured length speaks against a catalog length, relative to it.

    Seen shorter is weak evidence (thin shafts and tips vanish at camera resolution, neighbours hide ends);
    seen longer is strong evidence.
    """
    return (max(measured - model, 0.0) + SHORT_WEIGHT * max(model - measured, 0.0)) / model
