"""Footprints of posed bodies on the bench: oriented rectangles and their overlap tests.

Used by spec validation and by the clutter sampler, so both agree on what counts as overlapping.
The sampler tests thousands of candidate poses per scene and validation then re-tests the scene,
so what depends only on a shape or a pose (box corners, rotations, footprints, a rectangle's edge
normals) is kept in small caches, and overlap tests far from a tie are decided in closed form in
plain floats. Cached values are the very arrays the computation gave (made read-only) and a tie
within rounding always goes to the original numpy test, so every answer is the one an uncached
numpy call gives: the scene of a seed must never change.
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from workbench_gym.scenes.parts import quat_from_euler, quat_to_matrix

_CACHE_LIMIT = 1 << 14  # entries per cache; a full cache starts again empty


def _memo(cache: dict, key, compute):
    value = cache.get(key)
    if value is None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        value = cache[key] = compute()
    return value


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


_ROTATIONS: dict = {}
_CORNERS: dict = {}
_FOOTPRINTS: dict = {}
_POINTS: dict = {}
_QUADS: dict = {}


def rotation(rpy) -> np.ndarray:
    """Rotation matrix of roll, pitch, yaw (PyBullet's convention); read-only."""
    key = tuple(rpy)
    return _memo(_ROTATIONS, key, lambda: _frozen(quat_to_matrix(quat_from_euler(*key))))


def _corners(bounds: np.ndarray) -> np.ndarray:
    return _memo(_CORNERS, (bounds.shape, bounds.tobytes()),
                 lambda: _frozen(np.array([[x, y, z] for x in bounds[:, 0] for y in bounds[:, 1] for z in bounds[:, 2]])))


def world_points(bounds: np.ndarray, position, rpy) -> np.ndarray:
    """The 8 corners of body-frame `bounds` after posing the body at (position, rpy); read-only."""
    return _memo(_POINTS, (bounds.shape, bounds.tobytes(), tuple(position), tuple(rpy)),
                 lambda: _frozen(_corners(bounds) @ rotation(rpy).T + np.asarray(position, dtype=float)))


def footprint(bounds: np.ndarray, position, rpy) -> np.ndarray:
    """Rectangle (4x2 corners, counter-clockwise) covering the posed body seen from above; read-only.

    The rectangle is aligned with the body's yaw, so a flat tool's footprint is tight.
    """
    return _memo(_FOOTPRINTS, (bounds.shape, bounds.tobytes(), tuple(position), tuple(rpy)), lambda: _frozen(_footprint(bounds, position, rpy)))


def _footprint(bounds: np.ndarray, position, rpy) -> np.ndarray:
    yaw = rpy[2]
    c, s = np.cos(yaw), np.sin(yaw)
    axes = np.array([[c, s], [-s, c]])  # rows: body x and y directions in the world
    xy = world_points(bounds, position, rpy)[:, :2]
    local = xy @ axes.T
    lo, hi = local.min(0), local.max(0)
    square = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    return square @ axes


class Outline:
    """A posed body seen from above: its whole footprint and one rectangle per part, each made when first read.

    Part rectangles let tools nest (a screw between a pair of pliers' handles) where whole-body
    rectangles would call them overlapping; most overlap tests end at the whole rectangle.
    """

    def __init__(self, geometry, position, rpy):
        self._geometry, self._position, self._rpy = geometry, position, rpy

    @cached_property
    def whole(self) -> np.ndarray:
        return footprint(self._geometry.bounds, self._position, self._rpy)

    @cached_property
    def parts(self) -> tuple[np.ndarray, ...]:
        return tuple(footprint(b, self._position, self._rpy) for b in self._geometry.part_bounds)

    @cached_property
    def z_range(self) -> tuple[float, float]:
        z = world_points(self._geometry.bounds, self._position, self._rpy)[:, 2]
        return float(z.min()), float(z.max())


def outline(geometry, position, rpy) -> Outline:
    """Outline of a `BodyGeometry` posed at (position, rpy)."""
    return Outline(geometry, position, rpy)


#: A closed-form separation closer than this (metres) to its threshold is left to the numpy test; the two
#: compute the same projections in another order and differ by rounding, ~1e-15 m.
UNSURE = 1e-9


class Rect:
    """An oriented rectangle in the plane in plain floats: centre, unit axis u (v is u turned +90 degrees), half extents."""

    __slots__ = ("cx", "cy", "ux", "uy", "hx", "hy")

    def __init__(self, cx: float, cy: float, ux: float, uy: float, hx: float, hy: float):
        self.cx, self.cy, self.ux, self.uy, self.hx, self.hy = cx, cy, ux, uy, hx, hy

    @classmethod
    def of_corners(cls, corners: np.ndarray) -> Rect | None:
        """The rectangle with these 4 corners (in order), or None if they are not a proper rectangle."""
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = corners.tolist()
        ax, ay, bx, by = x1 - x0, y1 - y0, x3 - x0, y3 - y0
        length, width = math.hypot(ax, ay), math.hypot(bx, by)
        if min(length, width) <= UNSURE or abs(ax * bx + ay * by) > UNSURE * length * width or math.hypot(x2 - x1 - bx, y2 - y1 - by) > UNSURE:
            return None
        return cls((x0 + x2) / 2, (y0 + y2) / 2, ax / length, ay / length, length / 2, width / 2)


def separation(a: Rect, b: Rect, margin: float) -> bool | None:
    """The separating-axis test of `rectangles_overlap` in closed form: True apart, False overlapping, None too close to call."""
    dx, dy = b.cx - a.cx, b.cy - a.cy
    unsure = False
    for nx, ny in ((a.ux, a.uy), (-a.uy, a.ux), (b.ux, b.uy), (-b.uy, b.ux)):
        reach_a = a.hx * abs(a.ux * nx + a.uy * ny) + a.hy * abs(a.ux * ny - a.uy * nx)
        reach_b = b.hx * abs(b.ux * nx + b.uy * ny) + b.hy * abs(b.ux * ny - b.uy * nx)
        gap = abs(dx * nx + dy * ny) - reach_a - reach_b - margin
        if gap > UNSURE:
            return True
        unsure = unsure or gap >= -UNSURE
    return None if unsure else False


class _Quad:
    """A quadrilateral's closed-form rectangle (None if it is none) and, when first needed, its exact edge normals."""

    __slots__ = ("poly", "rect", "_axes")

    def __init__(self, poly: np.ndarray):
        self.poly, self.rect, self._axes = poly, Rect.of_corners(poly), None

    @property
    def axes(self) -> tuple[tuple[np.ndarray, float, float], ...]:
        """Each edge's unit normal, in edge order, with the span of the quadrilateral's projection onto it."""
        if self._axes is None:
            out = []
            for i in range(4):
                edge = self.poly[(i + 1) % 4] - self.poly[i]
                axis = _frozen(np.array([-edge[1], edge[0]]) / np.linalg.norm(edge))
                projection = (self.poly @ axis).tolist()
                out.append((axis, min(projection), max(projection)))
            self._axes = tuple(out)
        return self._axes


def _quad(poly: np.ndarray) -> _Quad:
    """The array's `_Quad`, kept by identity: footprints come from a cache, so the same arrays come back (the
    entry holds the array, so its id cannot pass to another while cached)."""
    quad = _QUADS.get(id(poly))
    if quad is None or quad.poly is not poly:
        if len(_QUADS) >= _CACHE_LIMIT:
            _QUADS.clear()
        quad = _QUADS[id(poly)] = _Quad(poly)
    return quad


def rectangles_overlap(a: np.ndarray, b: np.ndarray, margin: float = 0.0) -> bool:
    """Separating-axis test of two convex quadrilaterals, grown by `margin` on each side.

    Rectangles far from touching are decided in closed form; the rest by projecting the corners
    onto every edge normal, which is what defines the answer.
    """
    qa, qb = _quad(a), _quad(b)
    if qa.rect is not None and qb.rect is not None:
        apart = separation(qa.rect, qb.rect, margin)
        if apart is not None:
            return not apart
    for own, other in ((qa, b), (qb, a)):
        for axis, own_min, own_max in own.axes:
            projection = (other @ axis).tolist()
            if own_max + margin <= min(projection) or max(projection) + margin <= own_min:
                return False
    return True


def bodies_overlap(a, b, margin: float = 0.0) -> bool:
    """Whether two `Outline`s touch: their whole rectangles first, then part by part."""
    if not rectangles_overlap(a.whole, b.whole, margin):
        return False
    return any(rectangles_overlap(pa, pb, margin) for pa in a.parts for pb in b.parts)


def inside_rectangle(points: np.ndarray, lo, hi) -> bool:
    """Whether every point lies within the axis-aligned rectangle [lo, hi]."""
    return bool(np.all(points >= np.asarray(lo) - 1e-9) and np.all(points <= np.asarray(hi) + 1e-9))
