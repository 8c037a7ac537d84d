"""Perturbation factors: seeded changes of a sampled `SceneSpec` that a benchmark turns on one at a time or together.

Each factor changes only the spec fields it names, with draws from its own generator seeded by (scene seed, factor),
so a perturbed scene is as reproducible as any other, and a factor draws the same values alone as in combination:

- "lighting": the light's direction, intensity (ambient and diffuse) and colour;
- "bench": the bench's colour and a texture over it;
- "camera": the world cameras' eye and target, jittered (the wrist camera rides on the hand and stays);
- "clutter": distractor tools packed around the tools already there (a caller's `accept` keeps them from changing
  what the instruction means);
- "tool_colour": a per-tool tint of how its colours render (the named colour, which instructions use, stays);
- "physics": per-tool mass and friction.

`RANGES` holds the v1 magnitudes; a suite records them, and the benchmark refuses to run if they have changed.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from workbench_gym.scenes.catalog import TOOLS, is_held_out
from workbench_gym.scenes.footprint import inside_rectangle, rectangles_overlap
from workbench_gym.scenes.sampler import CLUTTER_REGION
from workbench_gym.scenes.spec import BENCH_TEXTURES, LightSpec, ObjectSpec, Pose, SceneSpec, tools_overlap, validate

#: In the order they are applied: distractors first, so tints and masses are drawn for them as well.
FACTORS = ("clutter", "tool_colour", "physics", "bench", "lighting", "camera")
_GAP = 0.004  # metres between a distractor and its neighbours, as the sampler leaves
_TRIES = 300  # placements tried per distractor


@dataclass(frozen=True)
class Ranges:
    """How far each factor moves a scene. Intervals are (low, high), drawn uniformly unless said otherwise."""

    light_elevation_deg: tuple[float, float] = (25.0, 80.0)  # azimuth: any
    light_ambient: tuple[float, float] = (0.3, 0.8)
    light_diffuse: tuple[float, float] = (0.2, 0.7)
    light_tint: tuple[float, float] = (0.75, 1.0)  # per channel
    bench_colours: tuple[str, ...] = ("grey", "silver", "black", "green", "blue", "red", "yellow", "orange")
    camera_eye_std: float = 0.03  # metres, per axis
    camera_target_std: float = 0.02
    distractors: tuple[int, int] = (3, 6)  # inclusive
    distractor_radius: float = 0.12  # metres from a tool already on the bench
    tool_tint: tuple[float, float] = (0.7, 1.0)  # per channel
    mass_scale: tuple[float, float] = (0.5, 2.0)  # log-uniform
    friction_scale: tuple[float, float] = (0.6, 1.4)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


RANGES = Ranges()


def check_factors(factors: Sequence[str]) -> tuple[str, ...]:
    """The factors as a tuple (one name alone is a tuple of one); `ValueError` naming an unknown or repeated one."""
    factors = (factors,) if isinstance(factors, str) else tuple(factors)
    unknown = [f for f in factors if f not in FACTORS]
    if unknown or len(set(factors)) != len(factors):
        raise ValueError(f"perturbation factors must be distinct names from {FACTORS}, got {factors!r}")
    return factors


def factor_rng(seed: int, factor: str, *extra: int) -> np.random.Generator:
    """The generator of one factor of one scene."""
    return np.random.default_rng([int(seed), FACTORS.index(factor), *extra])


def perturb_scene(spec: SceneSpec, factors: Sequence[str], accept: Callable[[SceneSpec, ObjectSpec], bool] | None = None,
                  keep_clear: Sequence[tuple[tuple[float, float], tuple[float, float]]] = (), seen_variants_only: bool = False,
                  ranges: Ranges = RANGES) -> SceneSpec:
    """A copy of `spec` with the named factors applied (see the module docstring); `spec.seed` seeds every draw.

    Distractors ("clutter") are taken only where `accept(scene_with_it, distractor)` agrees, keep off the
    `keep_clear` rectangles, and are seen variants when `seen_variants_only`.
    """
    factors = check_factors(factors)
    if spec.seed is None:
        raise ValueError("perturb_scene needs a spec with a seed: the perturbations are drawn from it")
    out = dataclasses.replace(spec, bench=dataclasses.replace(spec.bench), tools=list(spec.tools), cameras=list(spec.cameras), lights=list(spec.lights))
    for factor in (f for f in FACTORS if f in factors):
        rng = factor_rng(spec.seed, factor)
        if factor == "clutter":
            out.tools = _with_distractors(out, rng, ranges, accept, keep_clear, seen_variants_only)
        elif factor == "tool_colour":
            out.tools = [dataclasses.replace(t, tint=tuple(float(v) for v in rng.uniform(*ranges.tool_tint, 3))) for t in out.tools]
        elif factor == "physics":
            out.tools = [_physics(t, rng, ranges) for t in out.tools]
        elif factor == "bench":
            colours = [c for c in ranges.bench_colours if c != out.bench.colour]
            out.bench = dataclasses.replace(out.bench, colour=colours[int(rng.integers(len(colours)))],
                                            texture=BENCH_TEXTURES[int(rng.integers(len(BENCH_TEXTURES)))])
        elif factor == "lighting":
            out.lights = [_light(light, rng, ranges) for light in out.lights]
        elif factor == "camera":
            out.cameras = [_jittered(cam, spec.seed, ranges) if cam.mount == "world" else cam for cam in out.cameras]
    return out


def _physics(tool: ObjectSpec, rng: np.random.Generator, ranges: Ranges) -> ObjectSpec:
    low, high = (math.log(v) for v in ranges.mass_scale)
    mass = tool.geometry.mass * math.exp(rng.uniform(low, high))
    friction = min(2.0, tool.geometry.friction * rng.uniform(*ranges.friction_scale))
    return dataclasses.replace(tool, mass=float(mass), friction=float(friction))


def _light(light: LightSpec, rng: np.random.Generator, ranges: Ranges) -> LightSpec:
    azimuth, elevation = rng.uniform(-math.pi, math.pi), math.radians(rng.uniform(*ranges.light_elevation_deg))
    direction = (math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation))
    return dataclasses.replace(
        light, direction=tuple(float(v) for v in direction), colour=tuple(float(v) for v in rng.uniform(*ranges.light_tint, 3)),
        ambient=float(rng.uniform(*ranges.light_ambient)), diffuse=float(rng.uniform(*ranges.light_diffuse)),
    )


def _jittered(cam, seed: int, ranges: Ranges):
    """A world camera moved by a draw of its own (by name), so adding a camera never moves another."""
    rng = factor_rng(seed, "camera", zlib.crc32(cam.name.encode()))
    eye = np.asarray(cam.eye) + rng.normal(0.0, ranges.camera_eye_std, 3)
    target = np.asarray(cam.target) + rng.normal(0.0, ranges.camera_target_std, 3)
    return dataclasses.replace(cam, eye=tuple(float(v) for v in eye), target=tuple(float(v) for v in target))


def _with_distractors(spec: SceneSpec, rng: np.random.Generator, ranges: Ranges, accept, keep_clear, seen_only: bool) -> list[ObjectSpec]:
    """The spec's tools plus distractors, each placed near a tool already there, without overlaps."""
    tools = list(spec.tools)
    lo, hi = np.asarray(CLUTTER_REGION[0]), np.asarray(CLUTTER_REGION[1])
    walls = [c.footprint() for c in spec.containers]
    walls += [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]) for (x0, y0), (x1, y1) in keep_clear]
    names = list(TOOLS)
    for i in range(int(rng.integers(ranges.distractors[0], ranges.distractors[1] + 1))):
        outlines = [t.outline() for t in tools]
        circles = [_circle(o) for o in outlines]  # a cheap first test, as the sampler's
        for _ in range(_TRIES):
            category = TOOLS[names[int(rng.integers(len(names)))]]
            variants = [(s, c) for s in category.sizes for c in category.colours if not (seen_only and is_held_out(category.name, s, c))]
            size, colour = variants[int(rng.integers(len(variants)))]
            anchor = np.asarray(tools[int(rng.integers(len(tools)))].pose.position[:2])
            xy = np.clip(anchor + rng.uniform(-ranges.distractor_radius, ranges.distractor_radius, 2), lo, hi)
            pose = Pose((float(xy[0]), float(xy[1]), spec.bench.height + 5e-4), (0.0, 0.0, float(rng.uniform(-math.pi, math.pi))))
            candidate = ObjectSpec(f"distractor_{i:02d}", category.name, size, colour, pose, distractor=True)
            out = candidate.outline()
            if not inside_rectangle(out.whole, spec.bench.lo + 0.01, spec.bench.hi - 0.01):
                continue
            centre, radius = _circle(out)
            near = [o for o, (c, r) in zip(outlines, circles) if np.linalg.norm(c - centre) < r + radius + _GAP]
            if any(rectangles_overlap(out.whole, w, _GAP) for w in walls) or any(tools_overlap(out, o, _GAP) for o in near):
                continue
            if accept is None or accept(dataclasses.replace(spec, tools=[*tools, candidate]), candidate):
                tools.append(candidate)
                break
    validate(dataclasses.replace(spec, tools=tools))
    return tools


def _circle(outline) -> tuple[np.ndarray, float]:
    """Centre and radius of a circle around an outline's footprint."""
    centre = outline.whole.mean(0)
    return centre, float(np.linalg.norm(outline.whole - centre, axis=1).max())
