"""3D lifting for the VLM planner: image regions + metric depth + calibration -> world points, tool poses, zones.

Everything here uses what a robot's camera gives (a `View`) and public catalog data (tool shapes and grasp
regions, as a shop's CAD would); nothing reads the simulator. A tool's pose is fitted to its lifted points:
the long axis by PCA, the size by the catalog length nearest the measured one, and which end is which by
how well the catalog's part footprints cover the points either way round.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from workbench_gym.envs.grasping import GRASP_SLIDES, finger_width, region_grasp
from workbench_gym.envs.high_level import Pick
from workbench_gym.envs.tasks.placement import TRAY_SLOTS, Zone
from workbench_gym.policies.backend import Region, View
from workbench_gym.scenes.catalog import get_category
from workbench_gym.scenes.geometry import build_geometry

ABOVE_BENCH = 0.0015  # metres: lifted points lower than this over the bench are the bench itself
FOOTPRINT_MARGIN = 0.004  # metres each part rectangle grows by when scoring a pose (pixel footprint, noise)
CONTAINER_WALL = 0.006  # metres from a container's outer edge to its inner floor (catalog bins and tray)
CONTAINER_FLOOR = 0.005  # metres from the bench to a container's floor top
BENCH_FIT_PIXELS = 16384  # pixels, evenly spread, whose heights find the bench plane


def backproject(view: View, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """World points (N, 3) of pixels (row, column) at their depth."""
    depth = np.asarray(view.depth, np.float64)[rows, cols]
    k = np.asarray(view.intrinsics, np.float64)
    cam = np.stack([(cols - k[0, 2]) / k[0, 0] * depth, (rows - k[1, 2]) / k[1, 1] * depth, depth], axis=1)
    ext = np.asarray(view.extrinsics, np.float64)
    return (cam - ext[:3, 3]) @ ext[:3, :3]  # R^T (p - t), row-wise


def project(view: View, points: np.ndarray) -> np.ndarray:
    """Pixel coordinates (column, row) of world points (N, 3)."""
    ext = np.asarray(view.extrinsics, np.float64)
    cam = np.asarray(points, np.float64) @ ext[:3, :3].T + ext[:3, 3]
    pix = cam @ np.asarray(view.intrinsics, np.float64).T
    return pix[:, :2] / pix[:, 2:3]


def bench_height(view: View) -> float:
    """Height of the bench top: the most common height (1 mm bins) of the scene's lifted pixels.

    The bench fills most of any view of the workbench, so the mode is its top; a plane fit would do the
    same on a real robot.
    """
    h, w = view.depth.shape
    stride = max(1, round(math.sqrt(h * w / BENCH_FIT_PIXELS)))
    rows, cols = np.mgrid[0:h:stride, 0:w:stride]
    z = backproject(view, rows.ravel(), cols.ravel())[:, 2]
    z = z[np.isfinite(z)]
    hist, edges = np.histogram(z, bins=np.arange(z.min(), z.max() + 0.002, 0.001))
    i = int(np.argmax(hist))
    near = (z >= edges[max(i - 1, 0)]) & (z <= edges[min(i + 2, len(edges) - 1)])
    return float(np.median(z[near]))


def region_points(view: View, region: Region, bench_z: float) -> np.ndarray:
    """Lifted points of a region (its mask, else its box) that stand above the bench."""
    if region.mask is not None:
        mask = np.asarray(region.mask, bool)
    else:
        x0, y0, x1, y1 = region.box
        mask = np.zeros(view.depth.shape, bool)
        mask[max(y0, 0):y1, max(x0, 0):x1] = True
    rows, cols = np.nonzero(mask)
    points = backproject(view, rows, cols)
    return points[np.isfinite(points).all(1) & (points[:, 2] > bench_z + ABOVE_BENCH)]


@lru_cache(maxsize=None)
def _model(category: str, size: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Catalog length along the body x axis, xy bounds centre, and part rectangles (P, 2, 2) in the body frame."""
    geometry = build_geometry(category, size)
    bounds = geometry.bounds
    return float(np.ptp(bounds[:, 0])), bounds[:, :2].mean(0), geometry.part_bounds[:, :, :2]


def _rotation(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


#: Offsets (dx, dy, dyaw) tried around a coarse pose: +-1.5 cm, +-6 degrees.
_REFINE_GRID = np.stack(np.meshgrid(np.linspace(-0.015, 0.015, 5), np.linspace(-0.015, 0.015, 5), np.radians(np.linspace(-6, 6, 5)), indexing="ij"), -1).reshape(-1, 3)
MAX_FIT_POINTS = 150  # points scored per pose hypothesis
REFINED_HYPOTHESES = 4  # best coarse poses refined on the grid
SHORT_WEIGHT = 0.3  # weight of a tool seen shorter than a catalog length, against seen longer
OCCLUSION_GAP = 0.015  # metres nearer the camera a neighbouring pixel must be to hide part of a region
TRUNCATED = 0.9  # an occluded tool seen shorter than this share of its kind's shortest variant is partly hidden


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
    def centre(self) -> np.ndarray:
        """World xy of the middle of the tool's catalog bounds (what a zone's containment test looks at)."""
        return self.xy + _rotation(self.yaw)[:2, :2] @ _model(self.category, self.size)[1]

    @property
    def truncated(self) -> bool:
        """Whether part of the tool is surely hidden: occluded, and seen shorter than any variant of its kind."""
        shortest = min(_model(self.category, size)[0] for size in get_category(self.category).sizes)
        return self.occluded and self.length < TRUNCATED * shortest

    @property
    def model_length(self) -> float:
        """The fitted variant's catalog length along its long axis, metres."""
        return _model(self.category, self.size)[0]

    @property
    def nominal(self) -> float:
        """The catalog's nominal dimension of the fitted size (what "largest" compares)."""
        return get_category(self.category).sizes[self.size]

    def grasp(self, attempt: int = 0) -> Pick:
        """The Pick at the catalog grasp region.

        Odd retries assume the fit had the tool the wrong way round (ends are what a partial mask gets wrong);
        later ones slide along the region as the oracle's retries do.
        """
        pose = self.flipped() if attempt % 2 else self
        grasp = build_geometry(self.category, self.size).grasp
        slide = GRASP_SLIDES[(attempt // 2) % len(GRASP_SLIDES)]
        point, yaw = region_grasp(pose.position, _rotation(pose.yaw), grasp, slide)
        return Pick((float(point[0]), float(point[1]), float(point[2]), float(yaw)), finger_width(grasp))

    def flipped(self) -> ToolEstimate:
        """The same footprint the other way round: yaw turned half a turn about the bounds' middle."""
        yaw = (self.yaw + 2 * math.pi) % (2 * math.pi) - math.pi
        origin = self.centre - _rotation(yaw)[:2, :2] @ _model(self.category, self.size)[1]
        return replace(self, position=(float(origin[0]), float(origin[1]), self.position[2]), yaw=yaw)

    @property
    def grip_height(self) -> float:
        """Height of the grasp point above the tool's underside."""
        return float(build_geometry(self.category, self.size).grasp.center[2])


def fit_tool(view: View, region: Region, categories: tuple[str, ...], bench_z: float) -> ToolEstimate | None:
    """The best-fitting pose and size of a tool of one of `categories` in a region; None if too few points.

    Axes tried: the points' principal axis (long tools) and the sides of their smallest enclosing rectangle
    (near-square ones, such as a tape measure's case, whose principal axis means nothing), each either way round.
    """
    points = region_points(view, region, bench_z)
    if len(points) < 3:
        return None
    xy = points[:, :2]
    fit_xy = xy[:: max(1, len(xy) // MAX_FIT_POINTS)]  # evenly thinned: the footprint test needs shape, not every pixel
    pixel = float(np.median(view.depth[view.depth > 0]) / view.intrinsics[0, 0])  # one pixel's width on the bench
    _, vectors = np.linalg.eigh(np.cov((xy - xy.mean(0)).T))
    axes = [math.atan2(vectors[1, -1], vectors[0, -1])]
    rectangle = _min_area_rectangle(xy)
    if rectangle is not None:
        axes += [rectangle[0], rectangle[0] + math.pi / 2]
    extents = []  # (axis yaw, centre, length) per axis: coarse origins come from the extents' centre
    for axis_yaw in axes:
        rot = _rotation(axis_yaw)[:2, :2]
        local = xy @ rot
        lo, hi = local.min(0), local.max(0)
        extents.append((axis_yaw, rot @ ((lo + hi) / 2), float(hi[0] - lo[0]) + pixel))
    hypotheses = []  # (score, order, category, size, yaw, origin, length); order keeps ties in axis-major order
    for c, category in enumerate(categories):
        for s, size in enumerate(get_category(category).sizes):
            model_length, model_centre, parts = _model(category, size)
            poses, keys = [], []
            for a, (axis_yaw, centre, length) in enumerate(extents):
                for turn in (0, 1):
                    yaw = axis_yaw + turn * math.pi
                    poses.append([*(centre - _rotation(yaw)[:2, :2] @ model_centre), yaw])
                    keys.append(((a, c, s, turn), length))
            fits = _footprint_fit(fit_xy, parts, np.array(poses))  # every axis and end of this variant at once
            for pose, (order, length), fit in zip(poses, keys, fits):
                hypotheses.append((float(fit) - _length_penalty(length, model_length), order, category, size, pose[2], np.array(pose[:2]), length))
    hypotheses.sort(key=lambda h: (-h[0], h[1]))
    # Refine the best few: a coarse centre a centimetre off can favour the wrong end or the wrong size.
    best = None
    for _, _, category, size, yaw, origin, length in hypotheses[:REFINED_HYPOTHESES]:
        model_length, _, parts = _model(category, size)
        poses = np.array([[*origin, yaw]]) + _REFINE_GRID
        fits = _footprint_fit(fit_xy, parts, poses)
        i = int(np.argmax(fits))
        refined = (float(fits[i]) - _length_penalty(length, model_length), category, size, poses[i, 2], poses[i, :2], float(fits[i]), length)
        if best is None or refined[0] > best[0]:
            best = refined
    _, category, size, yaw, origin, fit, length = best
    yaw = (yaw + math.pi) % (2 * math.pi) - math.pi
    top = float(points[:, 2].max() - bench_z)
    return ToolEstimate(category, size, (float(origin[0]), float(origin[1]), bench_z), yaw, length, top, fit, len(points),
                        region.mask is not None and occluded(view, np.asarray(region.mask, bool), bench_z))


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
    heights = backproject(view, front_rows + r0, front_cols + c0)[:, 2]
    return bool(np.any(heights > bench_z + ABOVE_BENCH))


def size_misfit(estimate: ToolEstimate, size: str) -> float:
    """How much a tool's measured length speaks against it being `size` of its fitted category."""
    return _length_penalty(estimate.length, _model(estimate.category, size)[0])


def _length_penalty(measured: float, model: float) -> float:
    """How much a measured length speaks against a catalog length, relative to it.

    Seen shorter is weak evidence (thin shafts and tips vanish at camera resolution, neighbours hide ends);
    seen longer is strong evidence.
    """
    return (max(measured - model, 0.0) + SHORT_WEIGHT * max(model - measured, 0.0)) / model


def _min_area_rectangle(xy: np.ndarray) -> tuple[float, np.ndarray, np.ndarray] | None:
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


def fit_zone(view: View, region: Region, bench_z: float, name: str, tray: bool = False) -> Zone | None:
    """A container's inner floor as a `Zone`, from the smallest rectangle around its lifted points."""
    points = region_points(view, region, bench_z)
    rectangle = _min_area_rectangle(points[:, :2]) if len(points) >= 10 else None
    if rectangle is None:
        return None
    yaw, lo, hi = rectangle
    rot = _rotation(yaw)[:2, :2]
    if hi[1] - lo[1] > hi[0] - lo[0]:  # the zone's x axis runs along the container's long side
        yaw += math.pi / 2
        rot = _rotation(yaw)[:2, :2]
        local = points[:, :2] @ rot
        lo, hi = local.min(0), local.max(0)
    centre = rot @ ((lo + hi) / 2)
    half = tuple(float(v) for v in np.maximum((hi - lo) / 2 - CONTAINER_WALL, 0.005))
    yaw = (yaw + math.pi / 2) % math.pi - math.pi / 2
    zone = Zone(name, (float(centre[0]), float(centre[1])), yaw, half, bench_z + CONTAINER_FLOOR, float(points[:, 2].max()))
    if tray:  # the tray's compartments as four quadrants: the same set whichever way round its x axis was fitted
        zone = Zone(zone.name, zone.center, zone.yaw, zone.half, zone.floor_z, zone.rim_z, TRAY_SLOTS[1:])
    return zone
