"""Class-agnostic object proposals from one RGB-D frame: what stands on the bench, split into instances.

Only camera data is used (RGB, metric depth, K, world-to-camera extrinsics) and two facts a robot knows
about itself: where its base is mounted and that nothing on the bench is taller than a bin. Pixels above
the bench plane (`bench`) form connected components; large, box-filled components are containers, and
tools lying in them are split off by their colour. Every measure of a proposal is in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from workbench_gym.policies.perception.bench import bench_height
from workbench_gym.policies.perception.camera import backproject, bench_area

MAX_DESCRIBED_POINTS = 1500  # pixels that find a proposal's axes and middle; tools have fewer, bins are sampled


@dataclass(frozen=True)
class ProposalConfig:
    """Thresholds of the proposal step, in metres unless named otherwise."""

    min_height: float = 0.003  # above the bench plane: thinner than the thinnest part (a 5 mm nut)
    max_object_height: float = 0.12  # the tallest bin is 8.4 cm; anything higher is the arm
    robot_base_xy: tuple[float, float] = (0.0, 0.0)  # where the arm is mounted (the robot's own kinematics)
    robot_radius: float = 0.16  # the pedestal and the arm's lowest links stay inside this disc
    min_pixels: int = 2
    container_min_side: float = 0.09  # both footprint sides of a bin or tray exceed this
    container_min_fill: float = 0.6  # and it fills most of its footprint rectangle (a hammer does not)
    inner_colour_distance: float = 0.08  # chromaticity distance from the container's colour that marks a tool inside it
    robot_depth_jump: float = 0.02  # the arm is not grown across a depth jump larger than this
    object_depth_jump: float = 0.02  # neighbours further apart along the ray than this are different objects
    jump_pixels: float = 3.0  # ... or than this many pixel footprints


@dataclass
class Proposal:
    """One candidate object: its pixels and what the depth says about its size and place."""

    mask: np.ndarray  # (H, W) bool
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
    point: tuple[int, int]  # (column, row) of a mask pixel near its middle
    centre: np.ndarray  # world xyz of the visible points' middle
    extent: np.ndarray  # length, width (plan, principal axes) and height above the bench, metres
    fill: float  # visible pixels' share of the footprint rectangle
    colour: np.ndarray  # median RGB of the mask, 0..255
    is_container: bool
    area: float  # m² the visible pixels cover on the bench plane (as if each were a horizontal surface)


def _depth_edges(depth: np.ndarray, jump: float | np.ndarray, both_sides: bool) -> np.ndarray:
    """Pixels at a depth jump larger than `jump` between 4-neighbours: object boundaries.

    With `both_sides` False only the farther pixel is marked, so an occluder keeps its outline and a thin
    tool is not eaten by its own edges.
    """
    edges = np.zeros(depth.shape, bool)
    jump = np.broadcast_to(np.asarray(jump, dtype=np.float32), depth.shape)
    dy = np.diff(depth, axis=0)
    dx = np.diff(depth, axis=1)
    big_y = np.abs(dy) > jump[:-1]
    big_x = np.abs(dx) > jump[:, :-1]
    edges[:-1] |= big_y & (both_sides | (dy < 0))
    edges[1:] |= big_y & (both_sides | (dy > 0))
    edges[:, :-1] |= big_x & (both_sides | (dx < 0))
    edges[:, 1:] |= big_x & (both_sides | (dx > 0))
    return edges


@dataclass
class _Footprint:
    """Where a region's pixels lie on the bench: their principal-axis extents and how fully they cover them."""

    rows: np.ndarray
    cols: np.ndarray
    sample: slice  # an even sample of at most MAX_DESCRIBED_POINTS pixels: enough for axes and a middle
    mean: np.ndarray  # xy middle of the sample
    span: np.ndarray  # extents along the two principal axes, metres
    fill: float


def _footprint(mask: np.ndarray, window: tuple[slice, slice], points: np.ndarray) -> _Footprint:
    """Footprint of the pixels of `mask` inside `window`: extents and fill from every pixel, axes from a sample."""
    rows, cols = np.nonzero(mask[window])
    rows, cols = rows + window[0].start, cols + window[1].start
    xy = points[rows, cols, :2]
    sample = slice(None, None, -(-len(rows) // MAX_DESCRIBED_POINTS))
    mean = xy[sample].mean(0)
    if len(xy) >= 3:
        _, _, axes = np.linalg.svd(xy[sample] - mean, full_matrices=False)
        proj = axes @ (xy - mean).T  # (2, N): reductions along rows are fast
    else:
        proj = (xy - mean).T
    lo, hi = proj.min(1), proj.max(1)
    span = np.maximum(hi - lo, 1e-3)
    return _Footprint(rows, cols, sample, mean, span, _fill(proj, lo, span))


@dataclass(frozen=True)
class _Maps:
    """Per-pixel maps of one frame that proposals are measured on."""

    points: np.ndarray  # (H, W, 3) world xyz
    height: np.ndarray  # (H, W) above the bench plane
    rgb: np.ndarray  # (H, W, 3) uint8
    area: np.ndarray  # (H, W) m² on the bench plane (`camera.bench_area`)


def _describe(mask: np.ndarray, window: tuple[slice, slice], maps: _Maps, is_container: bool,
              footprint: _Footprint | None = None) -> Proposal:
    """Measure the object whose pixels are `mask`, all inside `window` (its middle and colour from a sample of them)."""
    fp = footprint or _footprint(mask, window, maps.points)
    rows, cols = fp.rows[fp.sample], fp.cols[fp.sample]
    middle = np.argmin(np.abs(cols - cols.mean()) + np.abs(rows - rows.mean()))
    return Proposal(
        mask=mask,
        box=(int(fp.cols.min()), int(fp.rows.min()), int(fp.cols.max()) + 1, int(fp.rows.max()) + 1),
        point=(int(cols[middle]), int(rows[middle])),
        centre=np.array([*fp.mean, _quantile(maps.points[rows, cols, 2], 0.5)], np.float32),
        extent=np.array([fp.span.max(), fp.span.min(), _quantile(maps.height[fp.rows, fp.cols], 0.95)], np.float32),
        fill=fp.fill,
        colour=_quantile(maps.rgb[rows, cols].astype(np.float32), 0.5),
        is_container=is_container,
        area=float(maps.area[fp.rows, fp.cols].sum()),
    )


def _quantile(values: np.ndarray, q: float) -> np.ndarray:
    """`np.quantile(values, q, axis=0)` (linear interpolation) by one partition: a tenth of its overhead on small arrays."""
    position = q * (len(values) - 1)
    lo = int(position)
    hi = min(lo + 1, len(values) - 1)
    part = np.partition(values, (lo, hi), axis=0)
    return part[lo] + (part[hi] - part[lo]) * (position - lo)


def _fill(proj: np.ndarray, lo: np.ndarray, span: np.ndarray, cell: float = 0.01) -> float:
    """Share of the footprint rectangle's 1 cm cells that hold a visible point (`proj`: (2, N) in its axes)."""
    idx = ((proj - lo[:, None]) / cell).astype(np.int64)
    shape = (span / cell).astype(np.int64) + 1
    occupied = np.count_nonzero(np.bincount(idx[0] * shape[1] + idx[1], minlength=int(shape.prod())))
    return float(min(1.0, occupied / float(shape.prod())))


def propose(rgb: np.ndarray, depth: np.ndarray, intrinsics: np.ndarray, extrinsics: np.ndarray,
            config: ProposalConfig = ProposalConfig()) -> list[Proposal]:
    """Objects on the bench in one frame, containers first, then tools by decreasing size."""
    return analyse(rgb, depth, intrinsics, extrinsics, config).proposals


@dataclass
class FrameAnalysis:
    """Proposals of one frame with the bench plane and per-pixel maps they were cut from."""

    proposals: list[Proposal]
    height: np.ndarray  # (H, W) metres above the bench plane
    points: np.ndarray  # (H, W, 3) world xyz of every pixel, float32
    bench_z: float  # world height of the bench top


def analyse(rgb: np.ndarray, depth: np.ndarray, intrinsics: np.ndarray, extrinsics: np.ndarray,
            config: ProposalConfig = ProposalConfig(), bench_z: float | None = None) -> FrameAnalysis:
    """Height map and proposals of one frame (see `propose`).

    `bench_z`, when known (from another view of the same bench), is used instead of this frame's own estimate:
    a close view over a bin sees too little bench to find it.
    """
    if depth is None:
        raise ValueError("proposals need a depth image; got a view without depth")
    depth = np.asarray(depth, dtype=np.float32)
    if depth.shape != rgb.shape[:2]:
        raise ValueError(f"depth shape {depth.shape} does not match the RGB image {rgb.shape[:2]}")
    points = backproject(depth, intrinsics, extrinsics, dtype=np.float32)
    bench_z = bench_height(points[..., 2]) if bench_z is None else float(bench_z)
    height = points[..., 2] - np.float32(bench_z)
    maps = _Maps(points, height, rgb, bench_area(depth, intrinsics, extrinsics))
    base = np.hypot(points[..., 0] - config.robot_base_xy[0], points[..., 1] - config.robot_base_xy[1])
    robot = (height > config.max_object_height) | (base < config.robot_radius)
    # The arm's lower links hang below the height limit but join its upper ones without a depth jump.
    robot = _grow(robot, (height > config.min_height) & ~_depth_edges(depth, config.robot_depth_jump, True))
    # A jump counts between objects when it exceeds what a steep surface gives over a few pixels.
    jump = np.maximum(config.object_depth_jump, config.jump_pixels * depth / float(intrinsics[1][1]))
    above = (height > config.min_height) & ~robot & ~_depth_edges(depth, jump, False)
    # 4-connected: with 8-connectivity components leak diagonally past a one-pixel depth edge.
    labels, _ = ndimage.label(above)
    out: list[Proposal] = []
    for index, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        mask = np.zeros(above.shape, bool)
        mask[sl] = labels[sl] == index
        if mask[sl].sum() < config.min_pixels:
            continue
        footprint = _footprint(mask, sl, points)
        if footprint.span.min() >= config.container_min_side and footprint.fill >= config.container_min_fill:
            out.extend(_split_container(mask, sl, maps, config, footprint))
        else:
            out.append(_describe(mask, sl, maps, False, footprint))
    out.sort(key=lambda p: (not p.is_container, -float(p.mask.sum())))
    return FrameAnalysis(out, height, points, bench_z)


def _grow(seed: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """`seed` extended over the `allowed` pixels connected to it."""
    labels, count = ndimage.label(allowed | seed)  # 4-connected: no leaking diagonally past an edge line
    hit = np.zeros(count + 1, bool)  # a lookup by label: a tenth of np.isin's time on a whole frame
    hit[labels[seed]] = True  # every seed pixel has a label: seed is part of what was labelled
    return hit[labels] | seed


def _split_container(mask: np.ndarray, window: tuple[slice, slice], maps: _Maps, config: ProposalConfig,
                     footprint: _Footprint) -> list[Proposal]:
    """A container and the tools lying in it, told apart by colour (all within the container's `window`; `footprint`
    is the whole region's, which the container keeps when no tool lies in it)."""
    local, height = mask[window], maps.height
    colours = maps.rgb[window].astype(np.float32)
    # Chromaticity, not RGB: the walls are the container's colour in other shades.
    chroma = colours / (colours.sum(-1, keepdims=True) + 1.0)
    own = _quantile(chroma[local], 0.5)
    floor = float(_quantile(height[window][local], 0.2))
    distance = np.linalg.norm(chroma - own, axis=-1)
    inner = local & (distance > config.inner_colour_distance) & (height[window] > floor + config.min_height)
    inner = ndimage.binary_opening(inner, np.ones((2, 2), bool)) if inner.sum() > 8 else inner
    if not inner.any():  # nothing lies in it: the whole region is the container, as already measured
        return [_describe(mask, window, maps, True, footprint)]
    labels, _ = ndimage.label(inner, structure=np.ones((3, 3), bool))
    tools = []
    r0, c0 = window[0].start, window[1].start
    for index, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        part = np.zeros(mask.shape, bool)
        part_window = (slice(sl[0].start + r0, sl[0].stop + r0), slice(sl[1].start + c0, sl[1].stop + c0))
        part[part_window] = labels[sl] == index
        if part[part_window].sum() >= config.min_pixels:
            tools.append(_describe(part, part_window, maps, False))
    rest = mask.copy()
    rest[window] &= ~inner
    return [_describe(rest if rest[window].any() else mask, window, maps, True), *tools]
