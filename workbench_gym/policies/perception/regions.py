"""A region of one view lifted to the bench frame: its pixels' world points above the bench, and whether
something nearer the camera borders it (then the object may go on where the camera cannot see)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench_gym.policies.backend import Region, View
from workbench_gym.policies.perception.camera import view_points
from workbench_gym.policies.perception.proposals import FrameAnalysis

ABOVE_BENCH = 0.0015  # metres: lifted points lower than this over the bench are the bench itself
OCCLUSION_GAP = 0.015  # metres nearer the camera a neighbouring pixel must be to hide part of a region


@dataclass(frozen=True)
class LiftedRegion:
    """The pixels of one view's region that stand above the bench, with their world points."""

    camera: str
    rows: np.ndarray  # (N,) pixel rows
    cols: np.ndarray  # (N,) pixel columns
    points: np.ndarray  # (N, 3) world xyz, metres
    shape: tuple[int, int]  # the image's (H, W)

    def __len__(self) -> int:
        return len(self.points)

    def mask(self) -> np.ndarray:
        """(H, W) bool image of the region's lifted pixels."""
        out = np.zeros(self.shape, bool)
        out[self.rows, self.cols] = True
        return out

    def subset(self, keep: np.ndarray) -> LiftedRegion:
        """The same region with only the points `keep` (a bool or index array) selects."""
        return LiftedRegion(self.camera, self.rows[keep], self.cols[keep], self.points[keep], self.shape)

    @staticmethod
    def join(regions: list[LiftedRegion]) -> LiftedRegion:
        """One region of all the pixels of several regions of the same view."""
        first = regions[0]
        if any(r.camera != first.camera or r.shape != first.shape for r in regions):
            raise ValueError(f"cannot join regions of different views: {sorted({r.camera for r in regions})}")
        return LiftedRegion(first.camera, *(np.concatenate([getattr(r, k) for r in regions]) for k in ("rows", "cols", "points")), first.shape)


def region_mask(view: View, region: Region) -> np.ndarray:
    """A region's (H, W) mask: its own, else its box."""
    if region.mask is not None:
        return np.asarray(region.mask, bool)
    x0, y0, x1, y1 = region.box
    mask = np.zeros(view.depth.shape, bool)
    mask[max(y0, 0):y1, max(x0, 0):x1] = True
    return mask


def lift_mask(view: View, mask: np.ndarray, bench_z: float, points: np.ndarray | None = None,
              box: tuple[int, int, int, int] | None = None) -> LiftedRegion:
    """The pixels of `mask` whose world points stand above the bench, lifted.

    `points`, the (H, W, 3) world points of the whole view when they are at hand (a `FrameAnalysis` has them),
    saves lifting the pixels again; `box` (x0, y0, x1, y1), one that holds the whole mask, saves searching the
    rest of the image for its pixels.
    """
    x0, y0, x1, y1 = box or (0, 0, mask.shape[1], mask.shape[0])
    rows, cols = np.nonzero(mask[y0:y1, x0:x1])
    rows, cols = rows + y0, cols + x0
    lifted = view_points(view, rows, cols) if points is None else np.asarray(points[rows, cols], np.float64)
    keep = np.isfinite(lifted).all(1) & (lifted[:, 2] > bench_z + ABOVE_BENCH)
    return LiftedRegion(view.camera, rows[keep], cols[keep], lifted[keep], tuple(view.depth.shape))


def lift_proposals(view: View, analysis: FrameAnalysis, containers: bool = False) -> list[LiftedRegion]:
    """Every proposal of a view's analysis lifted above the bench (containers only when asked), in proposal order."""
    return [lift_mask(view, p.mask, analysis.bench_z, analysis.points, p.box) for p in analysis.proposals if containers or not p.is_container]


def lift_region(view: View, region: Region, bench_z: float) -> LiftedRegion:
    """A backend's region (its mask, else its box) lifted to the points that stand above the bench."""
    return lift_mask(view, region_mask(view, region), bench_z)


def occluded(view: View, mask: np.ndarray, bench_z: float, ring: int = 2) -> bool:
    """Whether the mask touches the image edge or a pixel just outside it is nearer the camera (by > 1.5 cm).

    Then the object may go on where the camera cannot see, and its measured length is only a lower bound.
    """
    from scipy.ndimage import binary_dilation, grey_erosion  # scipy comes with trimesh, a core dependency

    rows, cols = np.nonzero(mask)
    h, w = mask.shape
    if rows.min() == 0 or cols.min() == 0 or rows.max() == h - 1 or cols.max() == w - 1:
        return True
    r0, r1, c0, c1 = max(rows.min() - ring, 0), rows.max() + ring + 1, max(cols.min() - ring, 0), cols.max() + ring + 1
    crop, depth = mask[r0:r1, c0:c1], np.asarray(view.depth[r0:r1, c0:c1], np.float64)
    around = binary_dilation(crop, iterations=ring) & ~crop
    nearest_own = grey_erosion(np.where(crop, depth, np.inf), size=2 * ring + 1)  # the object's nearest depth close by
    front_rows, front_cols = np.nonzero(around & np.isfinite(nearest_own) & (depth < nearest_own - OCCLUSION_GAP))
    # Only things standing on the bench hide a tool: the bench itself is nearer below a tool's front edge.
    heights = view_points(view, front_rows + r0, front_cols + c0)[:, 2]
    return bool(np.any(heights > bench_z + ABOVE_BENCH))
