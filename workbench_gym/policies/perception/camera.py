"""Pinhole geometry of one calibrated camera: pixels + metric depth <-> world points, and what a view can see.

The one back-projection of the package: everything that lifts pixels (proposals, region fits, fusion) calls
`backproject`. Conventions are the env's (OpenCV): K maps camera coordinates to (column, row), the extrinsics
map world to camera, depth is the camera z in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench_gym.policies.backend import View


def backproject(depth: np.ndarray, intrinsics: np.ndarray, extrinsics: np.ndarray, rows: np.ndarray | None = None,
                cols: np.ndarray | None = None, dtype=np.float64) -> np.ndarray:
    """World points of pixels at their depth: (N, 3) for the pixels `rows`, `cols`, else (H, W, 3) for every pixel.

    `dtype` is the arithmetic's precision: float32 for a whole frame (speed), float64 for a region's pixels.
    """
    depth = np.asarray(depth)
    k = np.asarray(intrinsics, dtype)
    ext = np.asarray(extrinsics, dtype)
    if rows is None:
        return _backproject_frame(depth.astype(dtype, copy=False), k, ext)
    z = depth[rows, cols].astype(dtype, copy=False)
    rows, cols = np.asarray(rows, dtype), np.asarray(cols, dtype)
    cam = np.stack([(cols - k[0, 2]) * z / k[0, 0], (rows - k[1, 2]) * z / k[1, 1], z], axis=-1)
    return (cam - ext[:3, 3]) @ ext[:3, :3]  # R^T (p - t), row-wise


def _backproject_frame(z: np.ndarray, k: np.ndarray, ext: np.ndarray) -> np.ndarray:
    """(H, W, 3) world points of every pixel: world = z * R^T ray(u, v) - R^T t, where each world axis's ray
    component is a row term plus a column term, so a frame costs a few (H, W) products rather than a batched
    (H*W, 3) @ (3, 3) product (10x slower in numpy); the two agree to float32 rounding (under 1e-6 m)."""
    h, w = z.shape
    rot, offset = ext[:3, :3], ext[:3, 3] @ ext[:3, :3]
    x = (np.arange(w, dtype=z.dtype) - k[0, 2]) / k[0, 0]
    y = (np.arange(h, dtype=z.dtype) - k[1, 2]) / k[1, 1]
    out = np.empty((h, w, 3), z.dtype)
    for axis in range(3):
        ray = x[None, :] * rot[0, axis] + (y[:, None] * rot[1, axis] + rot[2, axis])
        np.multiply(ray, z, out=out[..., axis])
        out[..., axis] -= offset[axis]
    return out


def view_points(view: View, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """World points (N, 3) of a view's pixels (row, column), float64."""
    if view.depth is None:
        raise ValueError(f"camera {view.camera!r} has no depth image; lifting pixels to 3D needs metric depth")
    return backproject(view.depth, view.intrinsics, view.extrinsics, rows, cols)


def decimate(view: View, factor: int) -> View:
    """The view with every `factor`-th pixel in each direction and K to match: a cheaper look at a close view
    (the wrist camera 30 cm above the bench still resolves 2 mm at half of 384x384, finer than the front view)."""
    if factor < 1:
        raise ValueError(f"decimation factor {factor!r}; expected a whole number >= 1")
    k = np.asarray(view.intrinsics, np.float64).copy()
    k[:2] /= factor  # pixel i of the smaller image is pixel factor * i of the view
    depth = None if view.depth is None else view.depth[::factor, ::factor]
    return View(view.rgb[::factor, ::factor], depth, k.astype(np.asarray(view.intrinsics).dtype), view.extrinsics, view.camera)


def camera_points(view: View, points: np.ndarray) -> np.ndarray:
    """World points (N, 3) in the camera frame of a view."""
    ext = np.asarray(view.extrinsics, np.float64)
    return np.asarray(points, np.float64) @ ext[:3, :3].T + ext[:3, 3]


def project(view: View, points: np.ndarray) -> np.ndarray:
    """Pixel coordinates (column, row) of world points (N, 3)."""
    pix = camera_points(view, points) @ np.asarray(view.intrinsics, np.float64).T
    return pix[:, :2] / pix[:, 2:3]


@dataclass(frozen=True)
class Sight:
    """What a view sees of world points, per point: whether each falls in its image (in front of the camera), at
    which pixel (-1 outside), and whether the depth there is nearer than the point (something stands in front of
    it: `hidden`) or farther (the view sees past where the point is: `through`), by more than a gap."""

    in_frame: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    hidden: np.ndarray
    through: np.ndarray


def sight(view: View, points: np.ndarray, gap: float) -> Sight:
    """What `view` sees of world points (N, 3), with `gap` metres of depth tolerance (see `Sight`)."""
    cam = camera_points(view, points)
    h, w = view.depth.shape
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        pix = np.rint((cam @ np.asarray(view.intrinsics, np.float64).T)[:, :2] / z[:, None])  # pixel indices are coordinates
    in_frame = (z > 1e-6) & (pix[:, 0] >= 0) & (pix[:, 0] < w) & (pix[:, 1] >= 0) & (pix[:, 1] < h)
    cols, rows = np.where(in_frame[:, None], pix, -1).astype(np.int64).T
    seen = np.full(len(cam), np.nan)
    seen[in_frame] = np.asarray(view.depth)[rows[in_frame], cols[in_frame]]
    with np.errstate(invalid="ignore"):
        return Sight(in_frame, rows, cols, seen < z - gap, seen > z + gap)


def standing_at(view: View, points: np.ndarray, bench_z: float, height: float = 0.05, reach: float = 0.03, rise: float = 0.003) -> np.ndarray:
    """Per world point (N, 3) on the bench, what the view sees there: 1 something lying on it (the surface its ray
    meets lies within `reach` of the point, between `rise` and `height` above the bench), 0 the bare bench, -1 it
    cannot tell (out of frame, something in the line of sight away from the point, or something hovering above it)."""
    points = np.asarray(points, np.float64)
    seen = sight(view, points, 0.0)
    out = np.full(len(points), -1, np.int8)
    if not seen.in_frame.any():
        return out
    surface = view_points(view, seen.rows[seen.in_frame], seen.cols[seen.in_frame])
    off = np.linalg.norm(surface[:, :2] - points[seen.in_frame, :2], axis=1)
    above = surface[:, 2] - bench_z
    lying = (above > rise) & (above <= height) & (off < reach)
    out[seen.in_frame] = np.where(lying, 1, np.where((above <= rise) & (off < reach / 3), 0, -1))
    return out


def pixel_size(view: View) -> float:
    """One pixel's width, metres, at the view's median depth (what the pixel grid adds to a measured length)."""
    if view.depth is None:
        raise ValueError(f"camera {view.camera!r} has no depth image; a pixel's size on the bench needs metric depth")
    return float(np.median(view.depth[view.depth > 0]) / view.intrinsics[0, 0])


def bench_area(depth: np.ndarray, intrinsics: np.ndarray, extrinsics: np.ndarray) -> np.ndarray:
    """(H, W) area in m² each pixel covers on a horizontal surface at its depth: depth² / (fx fy |ray_z|).

    With the ray (x/z, y/z, 1) in the camera frame and ray_z its world z component, this is the pixel's
    footprint projected onto the bench plane; it does not change with resolution as a pixel count does.
    """
    h, w = depth.shape
    k = np.asarray(intrinsics, np.float32)
    rot = np.asarray(extrinsics, np.float32)[:3, :3]
    x = (np.arange(w, dtype=np.float32) - k[0, 2]) / k[0, 0]
    y = (np.arange(h, dtype=np.float32) - k[1, 2]) / k[1, 1]
    ray_z = np.abs(rot[0, 2] * x[None, :] + rot[1, 2] * y[:, None] + rot[2, 2])
    return np.asarray(depth, np.float32) ** 2 / (k[0, 0] * k[1, 1] * np.maximum(ray_z, 0.1))  # grazing rays capped
