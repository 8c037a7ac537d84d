"""Footprints of posed bodies on the bench: oriented rectangles and their overlap tests.

Used by spec validation and by the clutter sampler, so both agree on what counts as overlapping.
The sampler tests thousands of candidate poses per scene and validation then re-tests the scene,
so what depends only on a shape or a pose (box corners, rotations, footprints, a rectangle's edge
normals) is kept in small caches. Cached values are the very arrays the computation gave (made
read-only), so every answer is bit for bit what an uncached call returns: the scene of a seed
must never change.
"""

from __future__ import annotations

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
_EDGE_AXES: dict = {}


def rotation(rpy) -> np.ndarray:
    """Rotation matrix of roll, pitch, yaw (PyBullet's convention); read-only."""
    key = tuple(rpy)
    return _memo(_ROTATIONS, key, lambda: _frozen(quat_to_matrix(quat_from_euler(*key))))


def _corners(bounds: np.ndarray) -> np.ndarray:
    return _memo(_CORNERS, (bounds.shape, bounds.tobytes()),
                 lambda: _frozen(np.array([[x, y, z] for x in bounds[:, 0] for y in bounds[:, 1] for z in bounds[:, 2]])))


def world_points(bounds: np.ndarray, position, rpy) -> np.ndarray:
    """The 8 corners of body-frame `bounds` after posing the body at (position, rpy)."""
    return _corners(bounds) @ rotation(rpy).T + np.asarray(position, dtype=float)


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


def _edge_axes(poly: np.ndarray) -> tuple[tuple[np.ndarray, float, float], ...]:
    """Each edge's unit normal, in edge order, with the span of the quadrilateral's projection onto it."""
    def compute():
        out = []
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            axis = _frozen(np.array([-edge[1], edge[0]]) / np.linalg.norm(edge))
            projection = (poly @ axis).tolist()
            out.append((axis, min(projection), max(projection)))
        return tuple(out)

    return _memo(_EDGE_AXES, (poly.shape, poly.tobytes()), compute)


def rectangles_overlap(a: np.ndarray, b: np.ndarray, margin: float = 0.0) -> bool:
    """Separating-axis test of two convex quadrilaterals, grown by `margin` on each side."""
    for own, other in ((a, b), (b, a)):
        for axis, own_min, own_max in _edge_axes(own):
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
