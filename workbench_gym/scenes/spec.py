"""`SceneSpec`: the single source of truth for a workbench scene, with JSON round-trip and validation.

PyBullet, the synthetic-data renderers and the USD exporter all build from a spec, never from one
another. `validate` rejects a bad spec with a `SceneSpecError` whose message starts with the path
of the offending field (``tools[3].pose.position``).
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from workbench_gym.messages import brief
from workbench_gym.scenes.catalog import COLOURS, CONTAINERS, TOOLS, get_category
from workbench_gym.scenes.footprint import (
    Outline,
    bodies_overlap,
    footprint,
    inside_rectangle,
    outline,
    rectangles_overlap,
    rotation,
    world_points,
)
from workbench_gym.scenes.geometry import BodyGeometry, build_geometry, container_interior

SPEC_VERSION = 1
CAMERA_MOUNTS = ("world", "wrist")
BENCH_TEXTURES = ("grain", "checker", "speckle")
#: Fields added for perturbations; left out of the JSON while unset, so unperturbed specs keep their JSON byte for byte.
OPTIONAL_FIELDS = {"bench": {"texture": None}, "object": {"mass": None, "friction": None, "tint": None, "distractor": False}}
#: Largest camera image: 4096 per side and 2**23 pixels (4096 x 2048), about 100 MB of RGB, depth and ids a frame.
#: A 10**9-pixel camera makes PyBullet abort (std::bad_alloc) or the machine kill the process.
MAX_IMAGE_SIDE = 4096
MAX_IMAGE_PIXELS = 2**23


class SceneSpecError(ValueError):
    """A scene spec that cannot be built; `field` is the path of the offending value."""

    def __init__(self, field_path: str, message: str):
        super().__init__(f"{field_path}: {message}")
        self.field = field_path


@dataclass
class Pose:
    """Position in metres and roll, pitch, yaw in radians, in the world frame."""

    position: tuple[float, float, float]
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass
class ObjectSpec:
    """One tool or container instance: a catalog variant at a pose."""

    name: str
    category: str
    size: str
    colour: str
    pose: Pose
    #: Perturbations of one instance (None: the catalog's): mass in kg, lateral friction, and an RGB factor in
    #: (0, 1] on how its colours render (the named colour, which instructions use, stays).
    mass: float | None = None
    friction: float | None = None
    tint: tuple[float, float, float] | None = None
    distractor: bool = False  # added by a perturbation: clutter, never a task's goal

    @property
    def display_name(self) -> str:
        return get_category(self.category).display_name(self.size, self.colour)

    @property
    def geometry(self) -> BodyGeometry:
        return build_geometry(self.category, self.size)

    def footprint(self) -> np.ndarray:
        """Rectangle (4x2 world xy corners) covering the body seen from above."""
        return footprint(self.geometry.bounds, self.pose.position, self.pose.rpy)

    def outline(self) -> Outline:
        """Whole and per-part footprints, for overlap tests."""
        return outline(self.geometry, self.pose.position, self.pose.rpy)

    def world_bounds(self) -> np.ndarray:
        pts = world_points(self.geometry.bounds, self.pose.position, self.pose.rpy)
        return np.stack([pts.min(0), pts.max(0)])


@dataclass
class BenchSpec:
    """The workbench: a slab whose top surface is at `height`, centred at `center` (x, y)."""

    size: tuple[float, float, float] = (0.9, 1.5, 0.05)
    center: tuple[float, float] = (0.55, 0.0)
    height: float = 0.75
    colour: str = "wood"
    texture: str | None = None  # one of BENCH_TEXTURES, drawn over the colour; None: plain

    @property
    def lo(self) -> np.ndarray:
        return np.asarray(self.center) - np.asarray(self.size[:2]) / 2

    @property
    def hi(self) -> np.ndarray:
        return np.asarray(self.center) + np.asarray(self.size[:2]) / 2


@dataclass
class CameraSpec:
    """A pinhole camera. `fov` is vertical, in degrees.

    A "world" camera looks from `eye` at `target`; a "wrist" camera has them in the hand frame and
    moves with the gripper.
    """

    name: str
    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    width: int = 128
    height: int = 128
    fov: float = 60.0
    near: float = 0.01
    far: float = 4.0
    mount: str = "world"


@dataclass
class LightSpec:
    """A directional light; `direction` points from the scene towards the light."""

    direction: tuple[float, float, float] = (0.3, 0.4, 1.0)
    colour: tuple[float, float, float] = (1.0, 1.0, 1.0)
    ambient: float = 0.6
    diffuse: float = 0.45
    specular: float = 0.05
    shadow: bool = False


def default_cameras() -> list[CameraSpec]:
    """Front (facing the robot across the bench), overhead and wrist cameras."""
    return [
        CameraSpec("front", eye=(1.45, 0.0, 1.45), target=(0.45, 0.0, 0.75), fov=50.0),
        CameraSpec("overhead", eye=(0.5, 0.0, 1.85), target=(0.5, 0.0, 0.75), up=(1.0, 0.0, 0.0), fov=60.0),
        # Hand frame: z points out of the fingers, so the wrist camera looks along +z past them.
        CameraSpec("wrist", eye=(0.06, 0.0, 0.02), target=(0.06, 0.0, 0.4), up=(1.0, 0.0, 0.0), fov=70.0, near=0.01, far=2.0, mount="wrist"),
    ]


@dataclass
class SceneSpec:
    """A whole scene: bench, tools, containers, cameras and lights."""

    bench: BenchSpec = field(default_factory=BenchSpec)
    tools: list[ObjectSpec] = field(default_factory=list)
    containers: list[ObjectSpec] = field(default_factory=list)
    cameras: list[CameraSpec] = field(default_factory=default_cameras)
    lights: list[LightSpec] = field(default_factory=lambda: [LightSpec()])
    seed: int | None = None

    @property
    def objects(self) -> list[ObjectSpec]:
        """Containers then tools: the order in which bodies are built and instance ids given."""
        return [*self.containers, *self.tools]

    # --- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = {"version": SPEC_VERSION, **asdict(self)}
        _drop_unset(data["bench"], OPTIONAL_FIELDS["bench"])
        for obj in (*data["tools"], *data["containers"]):
            _drop_unset(obj, OPTIONAL_FIELDS["object"])
        return data

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any], check: bool = True) -> SceneSpec:
        """Build a spec from plain data, then validate it. `check=False` checks the fields only (`check_fields`),
        not the placement rules: settled poses (synthetic data writes them back) may break those, e.g. a screw
        rolled against a tool."""
        if not isinstance(data, dict):
            raise SceneSpecError("<root>", f"expected a JSON object, got {type(data).__name__}")
        version = data.get("version", SPEC_VERSION)
        if version != SPEC_VERSION:
            raise SceneSpecError("version", f"unsupported spec version {version!r}; expected {SPEC_VERSION}")
        spec = cls(
            bench=_build(BenchSpec, data.get("bench", {}), "bench"),
            tools=[_object(d, f"tools[{i}]") for i, d in enumerate(_list(data, "tools"))],
            containers=[_object(d, f"containers[{i}]") for i, d in enumerate(_list(data, "containers"))],
            cameras=[_build(CameraSpec, d, f"cameras[{i}]") for i, d in enumerate(_list(data, "cameras"))],
            lights=[_build(LightSpec, d, f"lights[{i}]") for i, d in enumerate(_list(data, "lights"))],
            seed=data.get("seed"),
        )
        validate(spec) if check else check_fields(spec)
        return spec

    @classmethod
    def from_json(cls, text: str, check: bool = True) -> SceneSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SceneSpecError("<json>", f"not valid JSON ({err})") from None
        except RecursionError:
            raise SceneSpecError("<json>", "nested too deeply to be a scene spec") from None
        return cls.from_dict(data, check)


def _drop_unset(item: dict, defaults: dict[str, Any]) -> None:
    for key, default in defaults.items():
        if item[key] == default:
            del item[key]


def _list(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise SceneSpecError(key, f"expected a list, got {type(value).__name__}")
    return value


def _build(kind, data, path: str):
    if not isinstance(data, dict):
        raise SceneSpecError(path, f"expected an object, got {type(data).__name__}")
    try:
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return kind(**values)
    except TypeError as err:
        raise SceneSpecError(path, str(err)) from None


def _object(data, path: str) -> ObjectSpec:
    if not isinstance(data, dict):
        raise SceneSpecError(path, f"expected an object, got {type(data).__name__}")
    fields = dict(data)
    fields["pose"] = _build(Pose, fields.get("pose", {}), f"{path}.pose")
    return _build(ObjectSpec, fields, path)


# --- validation --------------------------------------------------------------------------------
def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _finite_vector(value, n: int, path: str) -> np.ndarray:
    if not isinstance(value, (list, tuple, np.ndarray)) or len(value) != n or not all(_is_number(v) for v in value):
        raise SceneSpecError(path, f"expected {n} numbers, got {brief(value)}")
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise SceneSpecError(path, f"must be finite, got {brief(value)}")
    return arr


def _positive(value, path: str) -> None:
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise SceneSpecError(path, f"must be a positive number, got {brief(value)}")


def _in_range(value, path: str, low: float, high: float) -> None:
    if not _is_number(value) or not low <= value <= high:  # NaN fails too
        raise SceneSpecError(path, f"must be a number in [{low}, {high}], got {brief(value)}")


def _choice(value, path: str, allowed, what: str) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise SceneSpecError(path, f"unknown {what} {brief(value)}; expected one of {sorted(allowed)}")


def image_size_problem(size) -> str:
    """What is wrong with a (width, height) image size, or "" when it is fine."""
    if not isinstance(size, (list, tuple)) or len(size) != 2 or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in size
    ):
        return "two integers expected"
    if not all(1 <= v <= MAX_IMAGE_SIDE for v in size):
        return f"each side must be in [1, {MAX_IMAGE_SIDE}] pixels"
    if size[0] * size[1] > MAX_IMAGE_PIXELS:
        return f"{size[0] * size[1]} pixels; at most {MAX_IMAGE_PIXELS} ({MAX_IMAGE_SIDE} x {MAX_IMAGE_PIXELS // MAX_IMAGE_SIDE})"
    return ""


def _check_object(obj: ObjectSpec, path: str, allowed: dict) -> None:
    if not isinstance(obj.name, str) or not obj.name:
        raise SceneSpecError(f"{path}.name", f"must be a non-empty string, got {brief(obj.name)}")
    _choice(obj.category, f"{path}.category", allowed, "category")
    _choice(obj.size, f"{path}.size", allowed[obj.category].sizes, f"size for {obj.category}")
    _choice(obj.colour, f"{path}.colour", COLOURS, "colour")
    if not isinstance(obj.pose, Pose):
        raise SceneSpecError(f"{path}.pose", f"expected a Pose, got {brief(obj.pose)}")
    _finite_vector(obj.pose.position, 3, f"{path}.pose.position")
    _finite_vector(obj.pose.rpy, 3, f"{path}.pose.rpy")
    if obj.mass is not None:
        _positive(obj.mass, f"{path}.mass")
    if obj.friction is not None and not (isinstance(obj.friction, (int, float)) and 0 < obj.friction <= 2):
        raise SceneSpecError(f"{path}.friction", f"must be a lateral friction in (0, 2], got {brief(obj.friction)}")
    if obj.tint is not None:
        tint = _finite_vector(obj.tint, 3, f"{path}.tint")
        if np.any(tint <= 0) or np.any(tint > 1):
            raise SceneSpecError(f"{path}.tint", f"must be three factors in (0, 1], got {brief(obj.tint)}")


def _check_placement(spec: SceneSpec, obj: ObjectSpec, path: str) -> None:
    bench = spec.bench
    if not inside_rectangle(obj.footprint(), bench.lo, bench.hi):
        raise SceneSpecError(f"{path}.pose.position", f"{obj.name!r} is (partly) off the bench {bench.lo.tolist()}..{bench.hi.tolist()}")
    if obj.world_bounds()[0, 2] < bench.height - 2e-3:
        raise SceneSpecError(f"{path}.pose.position", f"{obj.name!r} reaches below the bench top z={bench.height}")


def _inside_container(tool: ObjectSpec, container: ObjectSpec) -> bool:
    """Whether a tool's footprint lies within a container's inner floor."""
    lo, hi = container_interior(container.category, container.size)
    local = (tool.footprint() - np.asarray(container.pose.position[:2])) @ rotation(container.pose.rpy)[:2, :2]
    return inside_rectangle(local, lo, hi)


def tools_overlap(a: Outline, b: Outline, margin: float = 0.0) -> bool:
    """Whether two tools' outlines intersect in plan and in height."""
    if a.z_range[1] <= b.z_range[0] or b.z_range[1] <= a.z_range[0]:
        return False
    return bodies_overlap(a, b, margin)


def check_fields(spec: SceneSpec) -> SceneSpec:
    """Raise `SceneSpecError` naming the first field of the wrong type or out of range; placement is not checked."""
    b = spec.bench
    _finite_vector(b.size, 3, "bench.size")
    for i, v in enumerate(b.size):
        _positive(v, f"bench.size[{i}]")
    _finite_vector(b.center, 2, "bench.center")
    _positive(b.height, "bench.height")  # the top stands above the floor
    _choice(b.colour, "bench.colour", COLOURS, "colour")
    if spec.seed is not None and not (isinstance(spec.seed, numbers.Integral) and not isinstance(spec.seed, (bool, np.bool_))):
        raise SceneSpecError("seed", f"must be an integer or null, got {brief(spec.seed)}")
    if b.texture is not None and b.texture not in BENCH_TEXTURES:
        raise SceneSpecError("bench.texture", f"unknown texture {brief(b.texture)}; expected None or one of {BENCH_TEXTURES}")

    for group, allowed in (("containers", CONTAINERS), ("tools", TOOLS)):
        for i, obj in enumerate(getattr(spec, group)):
            _check_object(obj, f"{group}[{i}]", allowed)

    for i, cam in enumerate(spec.cameras):
        _check_camera(cam, f"cameras[{i}]")
    if not spec.lights:
        raise SceneSpecError("lights", "need at least one light")
    for i, light in enumerate(spec.lights):
        path = f"lights[{i}]"
        _finite_vector(light.direction, 3, f"{path}.direction")
        for j, v in enumerate(_finite_vector(light.colour, 3, f"{path}.colour")):
            _in_range(v, f"{path}.colour[{j}]", 0.0, 1.0)
        for key in ("ambient", "diffuse", "specular"):
            _in_range(getattr(light, key), f"{path}.{key}", 0.0, 1.0)
        if not isinstance(light.shadow, bool):
            raise SceneSpecError(f"{path}.shadow", f"must be true or false, got {brief(light.shadow)}")
    return spec


def _check_camera(cam: CameraSpec, path: str) -> None:
    if not isinstance(cam.name, str) or not cam.name:
        raise SceneSpecError(f"{path}.name", f"must be a non-empty string, got {brief(cam.name)}")
    for key in ("width", "height"):
        value = getattr(cam, key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_IMAGE_SIDE:
            raise SceneSpecError(f"{path}.{key}", f"must be a positive integer of at most {MAX_IMAGE_SIDE} pixels, got {brief(value)}")
    if cam.width * cam.height > MAX_IMAGE_PIXELS:
        raise SceneSpecError(f"{path}.width", f"{cam.width} x {cam.height} is {cam.width * cam.height} pixels; at most {MAX_IMAGE_PIXELS}")
    if not (_is_number(cam.fov) and 0 < cam.fov < 180):
        raise SceneSpecError(f"{path}.fov", f"must be in (0, 180) degrees, got {brief(cam.fov)}")
    _positive(cam.near, f"{path}.near")
    if not (_is_number(cam.far) and math.isfinite(cam.far) and cam.far > cam.near):
        raise SceneSpecError(f"{path}.far", f"must be finite and exceed near={cam.near}, got {brief(cam.far)}")
    _choice(cam.mount, f"{path}.mount", CAMERA_MOUNTS, "mount")
    eye = _finite_vector(cam.eye, 3, f"{path}.eye")
    target = _finite_vector(cam.target, 3, f"{path}.target")
    up = _finite_vector(cam.up, 3, f"{path}.up")
    view = target - eye
    if np.linalg.norm(view) < 1e-6:
        raise SceneSpecError(f"{path}.target", "must differ from eye")
    if np.linalg.norm(np.cross(view, up)) < 1e-6:
        raise SceneSpecError(f"{path}.up", "must not be parallel to the viewing direction")


def validate(spec: SceneSpec) -> SceneSpec:
    """Raise `SceneSpecError` naming the first bad field; return the spec when it is buildable."""
    check_fields(spec)
    names: dict[str, str] = {}
    for group in ("containers", "tools"):
        for i, obj in enumerate(getattr(spec, group)):
            path = f"{group}[{i}]"
            if obj.name in names:
                raise SceneSpecError(f"{path}.name", f"duplicate name {obj.name!r} (also {names[obj.name]})")
            names[obj.name] = path
            _check_placement(spec, obj, path)

    for i, c in enumerate(spec.containers):
        for j in range(i):
            if rectangles_overlap(c.footprint(), spec.containers[j].footprint()):
                raise SceneSpecError(f"containers[{i}].pose.position", f"{c.name!r} overlaps containers[{j}] {spec.containers[j].name!r}")
    outlines = [t.outline() for t in spec.tools]
    for i, t in enumerate(spec.tools):
        for j, c in enumerate(spec.containers):
            if rectangles_overlap(t.footprint(), c.footprint()) and not _inside_container(t, c):
                raise SceneSpecError(f"tools[{i}].pose.position", f"{t.name!r} overlaps the walls of containers[{j}] {c.name!r}")
        for j in range(i):
            if tools_overlap(outlines[i], outlines[j]):
                raise SceneSpecError(f"tools[{i}].pose.position", f"{t.name!r} overlaps tools[{j}] {spec.tools[j].name!r}")

    cam_names = set()
    for i, cam in enumerate(spec.cameras):
        if cam.name in cam_names:
            raise SceneSpecError(f"cameras[{i}].name", f"duplicate camera name {cam.name!r}")
        cam_names.add(cam.name)
    return spec
