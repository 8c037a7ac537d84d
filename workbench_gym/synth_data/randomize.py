"""Domain randomisation: (dataset config, scene index) -> a seeded `SceneSpec` with its cameras and light.

Everything random about a scene comes from one generator seeded with (dataset seed, scene index), so a
scene is the same whichever worker makes it, in whatever order. What varies per scene:

- clutter: tool count, packing density and a random category mix (a Dirichlet draw over the catalog, so
  some benches are all screwdrivers and others a bit of everything); tool colours and sizes are drawn
  by the sampler from each category's catalog variants;
- distractors: the bins and the parts tray are present or absent and take other catalog colours;
- the bench colour;
- one directional light: direction, tint, ambient/diffuse/specular strength (the specular strength is the
  PyBullet renderer's only handle on how shiny materials look);
- cameras: the env's front and overhead cameras with jittered eye, target and field of view, plus
  `orbit_views` cameras on random points of a hemisphere in front of the robot, plus `wrist_views` looks
  through the wrist camera with the hand hovering top-down over the clutter (the second look a planner
  takes before grasping).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from workbench_gym.scenes.catalog import CONTAINERS, TOOLS
from workbench_gym.scenes.sampler import CLUTTER_REGION, MAX_TOOLS, default_containers, sample_clutter
from workbench_gym.scenes.spec import BenchSpec, CameraSpec, LightSpec, SceneSpec, default_cameras
from workbench_gym.sim.world import SceneSettleError

BENCH_COLOURS = ("wood", "grey", "silver", "black", "green", "blue")
SPATIAL_FRAMES = ("robot", "image")
_SCENE_ATTEMPTS = 20  # fresh draws before a scene index is declared impossible


@dataclass(frozen=True)
class SynthConfig:
    """What a dataset is made of; the manifest stores it and a resume must match it exactly.

    `holdout_every`: scenes whose index % holdout_every == holdout_every - 1 form the "test" split
    (0 puts every scene in "train"). `spatial_frame`: "robot" says left/right as the robot sees the
    bench (the envs' instructions: left is +y), "image" as the camera image shows it.
    """

    scenes: int = 100
    seed: int = 0
    size: int = 256
    renderer: str = "pybullet"
    scenes_per_shard: int = 10
    min_tools: int = 4
    max_tools: int = 20
    min_density: float = 0.2
    max_density: float = 0.6
    orbit_views: int = 4  # 6 views per scene: drawing and settling a scene costs as much as 3 renders
    wrist_views: int = 1
    camera_jitter: float = 0.05  # metres, standard deviation of eye and target offsets
    container_probability: float = 0.8
    holdout_every: int = 10
    spatial_frame: str = "robot"
    min_visible_pixels: int = 20
    expressions_per_object: int = 4

    def __post_init__(self):
        checks = {
            "scenes": self.scenes >= 1, "size": 16 <= self.size <= 2048, "scenes_per_shard": self.scenes_per_shard >= 1,
            "min_tools": 1 <= self.min_tools <= self.max_tools <= MAX_TOOLS, "max_tools": self.max_tools <= MAX_TOOLS,
            "min_density": 0 < self.min_density <= self.max_density <= 1, "orbit_views": self.orbit_views >= 0,
            "wrist_views": self.wrist_views >= 0,
            "camera_jitter": self.camera_jitter >= 0, "container_probability": 0 <= self.container_probability <= 1,
            "holdout_every": self.holdout_every == 0 or self.holdout_every >= 2, "spatial_frame": self.spatial_frame in SPATIAL_FRAMES,
            "min_visible_pixels": self.min_visible_pixels >= 1, "expressions_per_object": self.expressions_per_object >= 1,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"bad synthetic-data config {bad[0]}={getattr(self, bad[0])!r}; see SynthConfig for the allowed range")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def views_per_scene(self) -> int:
        """Images of each scene: the front and overhead cameras, the orbit views and the wrist looks (see `draw_scene`)."""
        return 2 + self.orbit_views + self.wrist_views

    @property
    def n_shards(self) -> int:
        return math.ceil(self.scenes / self.scenes_per_shard)

    def shard_scenes(self, shard: int) -> range:
        """Scene indices held by one shard."""
        return range(shard * self.scenes_per_shard, min((shard + 1) * self.scenes_per_shard, self.scenes))

    def split(self, scene_index: int) -> str:
        """"test" for the held-out scenes, "train" for the rest."""
        held_out = self.holdout_every and scene_index % self.holdout_every == self.holdout_every - 1
        return "test" if held_out else "train"


def scene_rng(config: SynthConfig, scene_index: int, attempt: int = 0) -> np.random.Generator:
    return np.random.default_rng([config.seed, scene_index, attempt])


def _jittered(cam: CameraSpec, rng: np.random.Generator, jitter: float, size: int) -> CameraSpec:
    eye = np.asarray(cam.eye) + rng.normal(0, jitter, 3)
    target = np.asarray(cam.target) + rng.normal(0, jitter, 3)
    fov = cam.fov + float(rng.uniform(-5, 5))
    return CameraSpec(cam.name, tuple(map(float, eye)), tuple(map(float, target)), cam.up, size, size, fov, cam.near, cam.far)


def _orbit(name: str, rng: np.random.Generator, size: int) -> CameraSpec:
    """A camera on a hemisphere around the clutter, on the side facing the robot (it stands at -x)."""
    centre = np.array([0.45, 0.0, 0.75]) + rng.normal(0, 0.05, 3) * (1, 2, 0)
    azimuth, elevation = rng.uniform(-1.2, 1.2), rng.uniform(0.6, 1.25)
    distance = rng.uniform(0.8, 1.3)
    eye = centre + distance * np.array([math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation)])
    return CameraSpec(name, tuple(map(float, eye)), tuple(map(float, centre)), (0.0, 0.0, 1.0), size, size, float(rng.uniform(45, 65)))


#: Heights of the gripper's grasp point above the bench for a wrist look, metres (home is 0.34), and the hand
#: link's height above that point (the wrist camera is mounted on the hand).
WRIST_HEIGHTS, HAND_ABOVE_GRASP_POINT = (0.12, 0.45), 0.105


def _wrist(name: str, rng: np.random.Generator, bench: BenchSpec, size: int) -> CameraSpec:
    """The wrist camera, as a world camera, with the hand pointing down over a random point of the clutter at a
    random yaw. Renderers draw the arm at home, so its fingers are not in these frames (the planner's proposals
    drop them anyway: they stand higher than any bin)."""
    (x0, y0), (x1, y1) = CLUTTER_REGION
    hand = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1), bench.height + rng.uniform(*WRIST_HEIGHTS) + HAND_ABOVE_GRASP_POINT])
    yaw = rng.uniform(-math.pi / 2, math.pi / 2)
    c, s = math.cos(yaw), math.sin(yaw)
    rot = np.array([[c, s, 0.0], [s, -c, 0.0], [0.0, 0.0, -1.0]])  # a yaw after a half turn about x: the hand points down
    mount = next(cam for cam in default_cameras() if cam.name == "wrist")
    eye, target, up = (hand + rot @ np.asarray(mount.eye), hand + rot @ np.asarray(mount.target), rot @ np.asarray(mount.up))
    return CameraSpec(name, tuple(map(float, eye)), tuple(map(float, target)), tuple(map(float, up)), size, size, mount.fov, mount.near, mount.far)


def _light(rng: np.random.Generator) -> LightSpec:
    azimuth, elevation = rng.uniform(-math.pi, math.pi), rng.uniform(0.5, 1.4)
    direction = (math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation))
    tint = np.clip(1.0 + rng.normal(0, 0.08, 3), 0.75, 1.0)  # warm to cool white
    return LightSpec(
        tuple(map(float, direction)), tuple(map(float, tint)), ambient=float(rng.uniform(0.4, 0.75)),
        diffuse=float(rng.uniform(0.25, 0.6)), specular=float(rng.uniform(0.0, 0.3)),
    )


def _containers(rng: np.random.Generator, bench: BenchSpec, probability: float):
    out = []
    for obj in default_containers(bench):
        if rng.random() < probability:
            colours = CONTAINERS[obj.category].colours
            obj.colour = colours[rng.integers(len(colours))]
            out.append(obj)
    return out


def draw_scene(config: SynthConfig, scene_index: int, attempt: int = 0) -> SceneSpec:
    """The randomised, unsettled spec of one scene (one draw; `attempt` > 0 redraws a failed one)."""
    rng = scene_rng(config, scene_index, attempt)
    bench = BenchSpec(colour=BENCH_COLOURS[rng.integers(len(BENCH_COLOURS))])
    n_tools = int(rng.integers(config.min_tools, config.max_tools + 1))
    density = float(rng.uniform(config.min_density, config.max_density))
    mix = dict(zip(TOOLS, rng.dirichlet(np.ones(len(TOOLS)))))
    containers = _containers(rng, bench, config.container_probability)
    clutter_seed = int(rng.integers(2**31))
    spec = sample_clutter(clutter_seed, n_tools, mix, density, bench, with_containers=True)
    spec.containers = containers  # a subset of the sampler's containers: the tools stay clear of all of them
    front, overhead = (c for c in default_cameras() if c.name in ("front", "overhead"))
    spec.cameras = [_jittered(front, rng, config.camera_jitter, config.size), _jittered(overhead, rng, config.camera_jitter, config.size)]
    spec.cameras += [_orbit(f"orbit_{i}", rng, config.size) for i in range(config.orbit_views)]
    spec.lights = [_light(rng)]
    spec.cameras += [_wrist(f"wrist_{i}", rng, bench, config.size) for i in range(config.wrist_views)]  # drawn last: earlier draws stay
    return spec


def settled_scene(config: SynthConfig, scene_index: int, settle) -> tuple[SceneSpec, object]:
    """Draw a scene and settle it with `settle(spec)`, redrawing (deterministically) if it cannot be built.

    `settle` returns (settled spec, anything): the PyBullet renderer settles and renders in one go.
    """
    errors = []
    for attempt in range(_SCENE_ATTEMPTS):
        try:
            return settle(draw_scene(config, scene_index, attempt))
        except (ValueError, SceneSettleError) as err:  # could not place the tools, or one fell off
            errors.append(str(err))
    raise RuntimeError(f"scene {scene_index}: no buildable draw in {_SCENE_ATTEMPTS} attempts; last error: {errors[-1]}")
