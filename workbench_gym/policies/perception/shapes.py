"""Shape measures of point sets on the bench plane: rotations, the principal axis, the smallest enclosing rectangle."""

from __future__ import annotations

import math

import numpy as np


def rotation(yaw: float) -> np.ndarray:
    """3x3 rotation about the vertical by `yaw`."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def principal_yaw(xy: np.ndarray) -> float:
    """Yaw of the points' (N, 2) principal axis, the direction they spread most along."""
    _, vectors = np.linalg.eigh(np.cov((xy - xy.mean(0)).T))
    return math.atan2(vectors[1, -1], vectors[0, -1])


def extent_along(xy: np.ndarray, yaw: float) -> float:
    """Length of the points' (N, 2) shadow on the axis of direction `yaw`, metres."""
    along = xy @ np.array([math.cos(yaw), math.sin(yaw)])
    return float(along.max() - along.min()) if len(along) else 0.0


def min_area_rectangle(xy: np.ndarray) -> tuple[float, np.ndarray, np.ndarray] | None:
    """Yaw of the smallest rectangle around points (rotating calipers on the hull), and its extents in that frame."""
    from scipy.spatial import ConvexHull, QhullError  # scipy comes with trimesh, a core dependency

    try:
        hull = xy[ConvexHull(xy).vertices]
    except QhullError:  # all points on a line
        return None
    edges = np.roll(hull, -1, axis=0) - hull
    yaws = np.arctan2(edges[:, 1], edges[:, 0])
    c, s = np.cos(yaws)[:, None], np.sin(yaws)[:, None]
    local = np.stack([c * hull[None, :, 0] + s * hull[None, :, 1], -s * hull[None, :, 0] + c * hull[None, :, 1]], -1)  # hull in each edge's frame
    lo, hi = local.min(1), local.max(1)
    best = int(np.argmin(np.prod(hi - lo, axis=1)))  # the first of equal areas, as a loop over the edges finds it
    return float(yaws[best]), lo[best], hi[best]
