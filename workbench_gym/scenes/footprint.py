"""Footprints of posed bodies on the bench: oriented rectangles and their overlap tests.

Used by spec validation and by the clutter sampler, so both agree on what counts as overlapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench_gym.scenes.parts import quat_from_euler, quat_to_matrix


def rotation(rpy) -> np.ndarray:
    """Rotation matrix of roll, pitch, yaw (PyBullet's convention)."""
    return quat_to_matrix(quat_from_euler(*rpy))


def world_points(bounds: np.ndarray, position, rpy) -> np.ndarray:
    """The 8 corners of body-frame `bounds` after posing the body at (position, rpy)."""
    corners = np.array([[x, y, z] for x in bounds[:, 0] for y in bounds[:, 1] for z in bounds[:, 2]])
    return corners @ rotation(rpy).T + np.asarray(position, dtype=float)


def footprint(bounds: np.ndarray, position, rpy) -> np.ndarray:
    """Rectangle (4x2 corners, counter-clockwise) covering the posed body seen from above.

    The rectangle is aligned with the body's yaw, so a flat tool's footprint is tight.
    """
    yaw = rpy[2]
    c, s = np.cos(yaw), np.sin(yaw)
    axes = np.array([[c, s], [-s, c]])  # rows: body x and y directions in the world
    xy = world_points(bounds, position, rpy)[:, :2]
    local = xy @ axes.T
    lo, hi = local.min(0), local.max(0)
    square = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    return square @ axes


@dataclass(frozen=True)
class Outline:
    """A posed body seen from above: its whole footprint and one rectangle per part.

    Part rectangles let tools nest (a screw between a pair of pliers' handles) where whole-body
    rectangles would call them overlapping.
    """

    whole: np.ndarray
    parts: tuple[np.ndarray, ...]
    z_range: tuple[float, float]


def outline(geometry, position, rpy) -> Outline:
    """Outline of a `BodyGeometry` posed at (position, rpy)."""
    parts = tuple(footprint(b, position, rpy) for b in geometry.part_bounds)
    z = world_points(geometry.bounds, position, rpy)[:, 2]
    return Outline(footprint(geometry.bounds, position, rpy), parts, (float(z.min()), float(z.max())))


def rectangles_overlap(a: np.ndarray, b: np.ndarray, margin: float = 0.0) -> bool:
    """Separating-axis test of two convex quadrilaterals, grown by `margin` on each side."""
    for poly in (a, b):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            axis = np.array([-edge[1], edge[0]]) / np.linalg.norm(edge)
            pa, pb = a @ axis, b @ axis
            if pa.max() + margin <= pb.min() or pb.max() + margin <= pa.min():
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
