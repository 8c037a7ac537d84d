"""Seeded clutter sampler: (seed, tool count, category mix, density) -> a valid `SceneSpec`.

Same arguments, same spec: all randomness comes from one `numpy.random.Generator` seeded here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from workbench_gym.scenes.catalog import TOOLS, is_held_out
from workbench_gym.scenes.footprint import rectangles_overlap
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

    drafts = []
    for _ in range(n_tools):
        category = TOOLS[names[rng.choice(len(names), p=weights)]]
        variants = [(s, c) for s in category.sizes for c in category.colours if not (seen_variants_only and is_held_out(category.name, s, c))]
        size, colour = variants[rng.integers(len(variants))]
        drafts.append((category.name, size, colour))
    # Place big tools first: small ones fill the gaps left between them.
    areas = [np.prod(np.ptp(ObjectSpec("", c, s, k, Pose((0, 0, 0))).geometry.bounds[:, :2], axis=0)) for c, s, k in drafts]
    order = np.argsort(areas, kind="stable")[::-1]

    # The scatter region is CLUTTER_REGION scaled to the area `density` asks for; when tools do not
    # fit it grows, up to the whole bench (tools then lie beyond easy reach, as clutter does).
    region_lo, region_hi = np.asarray(CLUTTER_REGION[0]), np.asarray(CLUTTER_REGION[1])
    centre, full = (region_lo + region_hi) / 2, region_hi - region_lo
    bench_lo, bench_hi = bench.lo + 0.01, bench.hi - 0.01
    longest = max(np.ptp(ObjectSpec("", c, s, k, Pose((0, 0, 0))).geometry.bounds[:, :2], axis=0).max() for c, s, k in drafts)
    half = np.maximum(full * math.sqrt(sum(areas) / density / float(np.prod(full))), 1.2 * longest) / 2

    placed: list[ObjectSpec] = []
    walls = [c.footprint() for c in containers]
    walls += [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) for (x0, y0), (x1, y1) in keep_clear]
    outlines = []
    centres, radii = np.zeros((0, 2)), np.zeros(0)  # bounding circles: a cheap first test
    for rank, idx in enumerate(order):
        category, size, colour = drafts[idx]
        for attempt in range(_PLACEMENT_TRIES):
            if attempt % _TRIES_PER_REGION == 0:
                if attempt:
                    half = half * 1.1
                lo, hi = np.maximum(centre - half, bench_lo), np.minimum(centre + half, bench_hi)
                (x_lo, y_lo), (x_hi, y_hi) = lo.tolist(), hi.tolist()
            xy = rng.uniform(lo, hi)
            yaw = float(rng.uniform(-math.pi, math.pi))
            obj = ObjectSpec(f"tool_{rank:02d}", category, size, colour, Pose((float(xy[0]), float(xy[1]), bench.height + 5e-4), (0.0, 0.0, yaw)))
            out = obj.outline()  # lazy: part footprints are made only if a test needs them
            if any(x < x_lo or y < y_lo or x > x_hi or y > y_hi for x, y in out.whole.tolist()):
                continue
            centre_xy = out.whole.mean(0)
            radius = float(np.linalg.norm(out.whole - centre_xy, axis=1).max())
            near = np.flatnonzero(np.linalg.norm(centres - centre_xy, axis=1) < radii + radius + _GAP)
            if not any(rectangles_overlap(out.whole, w, _GAP) for w in walls) and not any(tools_overlap(out, outlines[j], _GAP) for j in near):
                placed.append(obj)
                outlines.append(out)
                centres, radii = np.vstack([centres, centre_xy]), np.append(radii, radius)
                break
        else:
            raise ValueError(f"could not place {n_tools} tools at density={density} (seed {seed}); lower the density or the tool count")
    return validate(SceneSpec(bench=bench, tools=placed, containers=containers, seed=int(seed)))
