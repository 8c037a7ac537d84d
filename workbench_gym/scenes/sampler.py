"""Seeded clutter sampler: (seed, tool count, category mix, density) -> a valid `SceneSpec`.

Same arguments, same spec: all randomness comes from one `numpy.random.Generator` seeded here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from workbench_gym.scenes.catalog import TOOLS, is_held_out
from workbench_gym.scenes.footprint import UNSURE, Rect, rectangles_overlap, separation
from workbench_gym.scenes.geometry import build_geometry
from workbench_gym.scenes.spec import BenchSpec, ObjectSpec, Pose, SceneSpec, tools_overlap, validate

MAX_TOOLS = 40
#: Where tools are scattered: the part of the bench the arm reaches, in front of the bins.
CLUTTER_REGION = ((0.18, -0.70), (0.56, 0.70))
_PLACEMENT_TRIES = 1000
_TRIES_PER_REGION = 200  # failed tries before the scatter region grows by 10%
_GAP = 0.004  # clearance between footprints, metres


def default_containers(bench: BenchSpec) -> list[ObjectSpec]:
    """Three bins (left, middle, right as the robot sees them) behind the clutter and a parts tray.

    The bins are 28 cm long, along x, so the longest wrenches lie flat in them.
    """
    z = bench.height
    bins = [
        ObjectSpec(f"bin_{side}", "bin", "large", colour, Pose((0.72, y, z)))
        for side, y, colour in (("left", 0.25, "blue"), ("middle", 0.0, "grey"), ("right", -0.25, "green"))
    ]
    return [*bins, ObjectSpec("parts_tray", "parts_tray", "medium", "orange", Pose((0.28, 0.50, z)))]


def _category_weights(category_mix) -> tuple[list[str], np.ndarray]:
    if category_mix is None:
        names, weights = list(TOOLS), np.ones(len(TOOLS))
    elif isinstance(category_mix, Mapping):
        names, weights = list(category_mix), np.asarray(list(category_mix.values()), dtype=float)
    elif isinstance(category_mix, Sequence) and not isinstance(category_mix, str):
        names, weights = list(category_mix), np.ones(len(category_mix))
    else:
        raise TypeError(f"category_mix must be None, a list of categories or a dict of weights, got {category_mix!r}")
    unknown = [n for n in names if n not in TOOLS]
    if unknown:
        raise ValueError(f"category_mix: unknown tool categories {unknown}; expected some of {sorted(TOOLS)}")
    if not names or np.any(weights < 0) or not np.isfinite(weights).all() or weights.sum() <= 0:
        raise ValueError(f"category_mix: weights must be finite, non-negative and not all zero, got {category_mix!r}")
    return names, weights / weights.sum()



_checked_bench: list = []  # the last (bench, containers) that passed `_check_bench`


def _check_bench(bench: BenchSpec, containers: list[ObjectSpec]) -> None:
    """Name a bad bench, or one too small for its bins, before sampling (0.5 ms, so the last one that passed is remembered)."""
    if _checked_bench != [bench, containers]:
        validate(SceneSpec(bench=bench, containers=containers))
        _checked_bench[:] = [bench, containers]


class _ExactTest:
    """Whether a candidate fits among the walls and the tools placed so far: the test that defines every scene."""

    def __init__(self, walls: list[np.ndarray]):
        self.walls = walls
        self.outlines: list = []
        self._circles: list[tuple[np.ndarray, float]] = []  # bounding circles (a cheap first test), made when first needed

    def fits(self, out, bounds) -> bool:
        x_lo, y_lo, x_hi, y_hi = bounds
        if any(x < x_lo or y < y_lo or x > x_hi or y > y_hi for x, y in out.whole.tolist()):
            return False
        self._circles += [self._circle(o) for o in self.outlines[len(self._circles):]]
        centres = np.array([c for c, _ in self._circles]).reshape(-1, 2)
        radii = np.array([r for _, r in self._circles])
        centre_xy, radius = self._circle(out)
        near = np.flatnonzero(np.linalg.norm(centres - centre_xy, axis=1) < radii + radius + _GAP)
        return not any(rectangles_overlap(out.whole, w, _GAP) for w in self.walls) and not any(tools_overlap(out, self.outlines[j], _GAP) for j in near)

    @staticmethod
    def _circle(out) -> tuple[np.ndarray, float]:
        centre_xy = out.whole.mean(0)
        return centre_xy, float(np.linalg.norm(out.whole - centre_xy, axis=1).max())

    def add(self, out) -> None:
        self.outlines.append(out)


@lru_cache(maxsize=None)
def _plan_bounds(category: str, size: str) -> tuple[tuple[float, ...], tuple[tuple[float, ...], ...], tuple[float, float]]:
    """Body-frame xy bounds (xmin, ymin, xmax, ymax) of a variant and of each part, and its z bounds."""
    geometry = build_geometry(category, size)
    def plan(b):
        return (float(b[0, 0]), float(b[0, 1]), float(b[1, 0]), float(b[1, 1]))
    return plan(geometry.bounds), tuple(plan(b) for b in geometry.part_bounds), (float(geometry.bounds[0, 2]), float(geometry.bounds[1, 2]))


def _rect(bounds, x: float, y: float, c: float, s: float) -> Rect:
    """Footprint of body-frame xy bounds on a flat body at (x, y) turned by the yaw whose cosine and sine are c, s."""
    x0, y0, x1, y1 = bounds
    bx, by = (x0 + x1) / 2, (y0 + y1) / 2
    return Rect(x + c * bx - s * by, y + s * bx + c * by, c, s, (x1 - x0) / 2, (y1 - y0) / 2)


class _QuickTest:
    """`_ExactTest`'s answer for flat candidates, from closed-form footprints in plain floats, or None when too close to call.

    The sampler tries ~150 poses per 20-tool scene; testing them with numpy footprints took most of
    a reset. Every decision of the exact test is made here from the same geometry with rounding
    ~1e-15 m; any one closer than `UNSURE` to its threshold is handed back, so scenes do not change.
    """

    def __init__(self, walls: list[np.ndarray], z: float):
        self.walls = [Rect.of_corners(w) for w in walls]
        self.walls_ok = all(w is not None for w in self.walls)  # a degenerate keep-clear box: exact test only
        self.z = z
        self.tools: list[tuple[Rect, list[Rect], tuple[float, float], float, float, float]] = []

    def _whole(self, obj: ObjectSpec) -> tuple[Rect, tuple[float, float], tuple]:
        """A candidate's whole footprint and height range, and what its part footprints are made from."""
        whole, parts, (z0, z1) = _plan_bounds(obj.category, obj.size)
        x, y, _ = obj.pose.position
        c, s = math.cos(obj.pose.rpy[2]), math.sin(obj.pose.rpy[2])
        return _rect(whole, x, y, c, s), (self.z + z0, self.z + z1), (parts, x, y, c, s)

    @staticmethod
    def _parts(plan) -> list[Rect]:
        parts, x, y, c, s = plan
        return [_rect(p, x, y, c, s) for p in parts]

    def add(self, obj: ObjectSpec) -> None:
        whole, z_range, plan = self._whole(obj)
        self.tools.append((whole, self._parts(plan), z_range, whole.cx, whole.cy, math.hypot(whole.hx, whole.hy)))

    def fits(self, obj: ObjectSpec, bounds, exact: _ExactTest) -> bool | None:
        if not self.walls_ok:
            return None
        whole, (z0, z1), plan = self._whole(obj)
        x_lo, y_lo, x_hi, y_hi = bounds
        sure = True
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            x = whole.cx + sx * whole.hx * whole.ux - sy * whole.hy * whole.uy
            y = whole.cy + sx * whole.hx * whole.uy + sy * whole.hy * whole.ux
            margin = min(x - x_lo, y - y_lo, x_hi - x, y_hi - y)
            if margin < -UNSURE:
                return False
            sure = sure and margin > UNSURE
        for wall in self.walls:
            apart = separation(whole, wall, _GAP)
            if apart is False:
                return False
            sure = sure and apart is not None
        radius, parts = math.hypot(whole.hx, whole.hy), None
        for other, other_parts, (o0, o1), ox, oy, other_radius in self.tools:
            near = math.hypot(ox - whole.cx, oy - whole.cy) - (other_radius + radius + _GAP)
            if near > UNSURE:
                continue
            if z1 <= o0 - UNSURE or o1 <= z0 - UNSURE:
                continue  # one above the other
            if min(abs(z1 - o0), abs(o1 - z0)) <= UNSURE:
                touching = None
            else:  # `bodies_overlap`: the whole footprints first, then part by part
                apart = separation(whole, other, _GAP)
                if apart is False:
                    parts = parts or self._parts(plan)
                    touching = _parts_overlapping(parts, other_parts)
                else:
                    touching = None if apart is None else False
            if touching is False:
                continue
            if touching and near < -UNSURE:
                return False
            sure = False  # an overlap too close to call, or one with a tool on the edge of `near`
        return True if sure else None


def _parts_overlapping(parts: list[Rect], other_parts: list[Rect]) -> bool | None:
    """Whether any part of one outline overlaps any of another's (margin _GAP); None when too close to call."""
    unsure = False
    for a in parts:
        for b in other_parts:
            apart = separation(a, b, _GAP)
            if apart is False:
                return True
            unsure = unsure or apart is None
    return None if unsure else False


def sample_clutter(
    seed: int,
    n_tools: int = 12,
    category_mix: Sequence[str] | Mapping[str, float] | None = None,
    density: float = 0.35,
    bench: BenchSpec | None = None,
    with_containers: bool = True,
    seen_variants_only: bool = False,
    keep_clear: Sequence[tuple[tuple[float, float], tuple[float, float]]] = (),
) -> SceneSpec:
    """Scatter `n_tools` catalog tools over the bench without overlaps.

    `density` in (0, 1] is the fraction of the scatter area that tool footprints cover: low values
    spread tools over the whole reachable region, high values pack them tightly around its centre.
    `seen_variants_only` leaves out the held-out (size, colour) variants of `catalog.is_held_out`;
    `keep_clear` lists bench rectangles ((xmin, ymin), (xmax, ymax)) no tool may cover.
    """
    if not isinstance(n_tools, (int, np.integer)) or not 1 <= n_tools <= MAX_TOOLS:
        raise ValueError(f"n_tools must be an integer in [1, {MAX_TOOLS}], got {n_tools!r}")
    if not (isinstance(density, (int, float)) and 0 < density <= 1):
        raise ValueError(f"density must be in (0, 1], got {density!r}")
    names, weights = _category_weights(category_mix)
    rng = np.random.default_rng(seed)
    bench = bench or BenchSpec()
    containers = default_containers(bench) if with_containers else []
    _check_bench(bench, containers)

    drafts = []
    cdf = weights.cumsum()
    cdf /= cdf[-1]
    for _ in range(n_tools):
        # What `rng.choice(len(names), p=weights)` draws (one `random()` and this search), without its 12 us of checks.
        category = TOOLS[names[int(cdf.searchsorted(rng.random(), side="right"))]]
        variants = [(s, c) for s in category.sizes for c in category.colours if not (seen_variants_only and is_held_out(category.name, s, c))]
        size, colour = variants[rng.integers(len(variants))]
        drafts.append((category.name, size, colour))
    # Place big tools first: small ones fill the gaps left between them.
    extents = [(x1 - x0, y1 - y0) for x0, y0, x1, y1 in (_plan_bounds(c, s)[0] for c, s, _ in drafts)]
    areas = [dx * dy for dx, dy in extents]
    order = np.argsort(areas, kind="stable")[::-1]

    # The scatter region is CLUTTER_REGION scaled to the area `density` asks for; when tools do not
    # fit it grows, up to the whole bench (tools then lie beyond easy reach, as clutter does).
    region_lo, region_hi = np.asarray(CLUTTER_REGION[0]), np.asarray(CLUTTER_REGION[1])
    centre, full = (region_lo + region_hi) / 2, region_hi - region_lo
    bench_lo, bench_hi = bench.lo + 0.01, bench.hi - 0.01
    longest = max(max(extent) for extent in extents)
    half = np.maximum(full * math.sqrt(sum(areas) / density / float(np.prod(full))), 1.2 * longest) / 2

    placed: list[ObjectSpec] = []
    walls = [c.footprint() for c in containers]
    walls += [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) for (x0, y0), (x1, y1) in keep_clear]
    exact = _ExactTest(walls)
    quick = _QuickTest(walls, bench.height + 5e-4)
    random = rng.random
    for rank, idx in enumerate(order):
        category, size, colour = drafts[idx]
        for attempt in range(_PLACEMENT_TRIES):
            if attempt % _TRIES_PER_REGION == 0:
                if attempt:
                    half = half * 1.1
                lo, hi = np.maximum(centre - half, bench_lo), np.minimum(centre + half, bench_hi)
                bounds = (x_lo, y_lo, x_hi, y_hi) = (*lo.tolist(), *hi.tolist())
            # `lo + (hi - lo) * random()` is what `rng.uniform(lo, hi)` computes (the same numbers: 0 of 10^6
            # draws differed), without its argument checks (1.7 against 0.5 us; `uniform` on arrays costs 4x more).
            x, y = x_lo + (x_hi - x_lo) * random(), y_lo + (y_hi - y_lo) * random()
            yaw = -math.pi + 2 * math.pi * random()
            obj = ObjectSpec(f"tool_{rank:02d}", category, size, colour, Pose((x, y, bench.height + 5e-4), (0.0, 0.0, yaw)))
            fits = quick.fits(obj, bounds, exact)
            if fits is None:  # within rounding of a decision: the exact test decides
                fits = exact.fits(obj.outline(), bounds)
            if fits:
                placed.append(obj)
                exact.add(obj.outline())
                quick.add(obj)
                break
        else:
            raise ValueError(f"could not place {n_tools} tools at density={density} (seed {seed}); lower the density or the tool count")
    # The tools are valid by construction (each pose passed the exact overlap test with a gap, inside
    # the bench and clear of the containers; tests/test_sampler.py validates sampled scenes), so
    # `validate` is not run again on the whole scene: re-testing every pair cost ~2.5 ms of a 20-tool reset.
    return SceneSpec(bench=bench, tools=placed, containers=containers, seed=int(seed))
