"""The bench plane: its height, from the heights of a view's back-projected pixels.

The bench is level (the robot knows how it is mounted) and fills most of any view of the workbench, so its
top is the most common height; a plane fit by RANSAC would find the same on a real robot at more cost.
"""

from __future__ import annotations

import math

import numpy as np

from workbench_gym.policies.backend import View
from workbench_gym.policies.perception.camera import view_points

BENCH_FIT_PIXELS = 16384  # pixels, evenly spread, whose heights find the bench plane
BIN = 0.001  # metres: height histogram bin


def _stride(h: int, w: int) -> int:
    """Grid step that leaves about BENCH_FIT_PIXELS of an (h, w) image."""
    return max(1, round(math.sqrt(h * w / BENCH_FIT_PIXELS)))


def bench_height(heights: np.ndarray) -> float:
    """Height of the bench top from world heights (H, W) of an image's pixels: the most common height (1 mm bins),
    refined by the median of the heights in that bin and its neighbours. An even grid of about BENCH_FIT_PIXELS of
    them is used; NaN and inf (no depth) are ignored."""
    heights = np.asarray(heights)
    if heights.ndim == 2:
        step = _stride(*heights.shape)
        heights = heights[::step, ::step]
    z = heights.ravel()
    z = z[np.isfinite(z)].astype(np.float64)
    if z.size == 0:
        raise ValueError("no finite heights to find the bench in; expected a view with metric depth")
    lo = z.min()
    counts = np.bincount(((z - lo) / BIN).astype(np.int64))
    i = int(np.argmax(counts))
    near = (z >= lo + (i - 1) * BIN) & (z <= lo + (i + 2) * BIN)
    return float(np.median(z[near]))


def view_bench_height(view: View) -> float:
    """Height of the bench top seen in a view (see `bench_height`), lifting only the pixels it needs."""
    h, w = view.depth.shape
    step = _stride(h, w)
    rows, cols = np.mgrid[0:h:step, 0:w:step]
    return bench_height(view_points(view, rows.ravel(), cols.ravel())[:, 2])
