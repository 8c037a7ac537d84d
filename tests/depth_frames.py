"""Hand-built RGB-D frames of boxes on a bench, ray-cast in numpy: known geometry, K and extrinsics, no simulator.

A scene is a list of `Box`es (a tool is a box, or the boxes of its catalog parts; a bin is a floor and four
walls). `render` casts one ray per pixel and keeps the nearest hit, giving the RGB, metric depth and the
index of the box each pixel sees, so a test knows exactly which pixels are which object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from workbench_gym.policies.backend import View
from workbench_gym.scenes.geometry import build_geometry

BENCH_Z = 0.75
BENCH_RGB = (150, 150, 150)
FRONT = dict(eye=(1.45, 0.0, 1.45), target=(0.45, 0.0, 0.75), up=(0.0, 0.0, 1.0), fov=50.0)  # the env's front camera


@dataclass(frozen=True)
class Box:
    """A box standing on or above the bench: centre (x, y), yaw, half extents, bottom and top heights, colour, owner."""

    xy: tuple[float, float]
    yaw: float
    half: tuple[float, float]
    z0: float
    z1: float
    rgb: tuple[int, int, int]
    owner: int  # which object the box belongs to (several boxes make a bin or a catalog tool)


def look_at(eye, target, up) -> np.ndarray:
    """World-to-camera 4x4 (OpenCV axes: x right, y down, z forward)."""
    eye, target, up = (np.asarray(v, float) for v in (eye, target, up))
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    rot = np.stack([right, np.cross(forward, right), forward])
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = rot, -rot @ eye
    return out


def intrinsics(size: int, fov: float) -> np.ndarray:
    f = size / 2 / math.tan(math.radians(fov) / 2)
    return np.array([[f, 0.0, size / 2], [0.0, f, size / 2], [0.0, 0.0, 1.0]])


def render(boxes: list[Box], eye, target, up=(0.0, 0.0, 1.0), fov: float = 50.0, size: int = 256,
           camera: str = "front") -> tuple[View, np.ndarray]:
    """(View, owner image) of the boxes on the bench; the owner image is -1 where a pixel sees the bench."""
    k, ext = intrinsics(size, fov), look_at(eye, target, up)
    cols, rows = np.meshgrid(np.arange(size, dtype=float), np.arange(size, dtype=float))
    cam_dirs = np.stack([(cols - k[0, 2]) / k[0, 0], (rows - k[1, 2]) / k[1, 1], np.ones_like(cols)], -1)
    dirs = cam_dirs @ ext[:3, :3]  # world directions whose ray parameter is the camera depth
    origin = np.asarray(eye, float)
    depth = np.where(dirs[..., 2] < 0, (BENCH_Z - origin[2]) / np.minimum(dirs[..., 2], -1e-12), np.inf)
    owner = np.full(depth.shape, -1)
    rgb = np.empty((*depth.shape, 3), np.uint8)
    rgb[:] = BENCH_RGB
    for box in boxes:
        t = _hit(box, origin, dirs)
        nearer = t < depth
        depth[nearer], owner[nearer] = t[nearer], box.owner
        rgb[nearer] = box.rgb
    return View(rgb, depth.astype(np.float32), k.astype(np.float32), ext.astype(np.float32), camera), owner


def _hit(box: Box, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Ray parameter of each ray's entry into the box (slab method in the box frame); inf where it misses."""
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    to_local = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
    o = to_local @ (origin - np.array([*box.xy, 0.0]))
    d = dirs @ to_local.T
    lo, hi = np.array([-box.half[0], -box.half[1], box.z0]), np.array([box.half[0], box.half[1], box.z1])
    with np.errstate(divide="ignore", invalid="ignore"):
        t0, t1 = (lo - o) / d, (hi - o) / d
    near = np.nanmax(np.minimum(t0, t1), axis=-1)
    far = np.nanmin(np.maximum(t0, t1), axis=-1)
    return np.where((near <= far) & (far > 0), np.maximum(near, 0.0), np.inf)


def bar(owner: int, xy, yaw: float, length: float, width: float = 0.02, height: float = 0.01, rgb=(200, 30, 30)) -> Box:
    """A tool-like bar lying on the bench, its long axis at `yaw`."""
    return Box(tuple(xy), yaw, (length / 2, width / 2), BENCH_Z, BENCH_Z + height, rgb, owner)


def bin_boxes(owner: int, xy, yaw: float, outer: tuple[float, float], height: float, wall: float = 0.006,
              rgb=(40, 90, 200)) -> list[Box]:
    """A bin as a floor and four walls: `outer` full extents (x, y) in its own frame."""
    hx, hy = outer[0] / 2, outer[1] / 2
    c, s = math.cos(yaw), math.sin(yaw)

    def at(dx, dy):
        return (xy[0] + c * dx - s * dy, xy[1] + s * dx + c * dy)

    top = BENCH_Z + height
    return [
        Box(tuple(xy), yaw, (hx, hy), BENCH_Z, BENCH_Z + 0.005, rgb, owner),
        Box(at(hx - wall / 2, 0), yaw, (wall / 2, hy), BENCH_Z, top, rgb, owner),
        Box(at(-hx + wall / 2, 0), yaw, (wall / 2, hy), BENCH_Z, top, rgb, owner),
        Box(at(0, hy - wall / 2), yaw, (hx, wall / 2), BENCH_Z, top, rgb, owner),
        Box(at(0, -hy + wall / 2), yaw, (hx, wall / 2), BENCH_Z, top, rgb, owner),
    ]


def catalog_tool(owner: int, category: str, size: str, position, yaw: float, rgb=(200, 30, 30)) -> list[Box]:
    """A catalog tool lying flat, as the boxes of its parts' bounds (what the catalog's footprints describe)."""
    c, s = math.cos(yaw), math.sin(yaw)
    out = []
    for lo, hi in build_geometry(category, size).part_bounds:
        mid = (lo + hi) / 2
        xy = (position[0] + c * mid[0] - s * mid[1], position[1] + s * mid[0] + c * mid[1])
        out.append(Box(xy, yaw, tuple((hi[:2] - lo[:2]) / 2), BENCH_Z + lo[2], BENCH_Z + hi[2], rgb, owner))
    return out
