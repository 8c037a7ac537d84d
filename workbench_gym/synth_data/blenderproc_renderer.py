"""Photoreal renderer: BlenderProc (Cycles) in a long-lived child process, driven through files and pipes.

BlenderProc and bpy are GPL-3.0. Every line that imports them is in `synth_data/blender/render_scene.py`,
a GPL-3.0 program this module starts with the Python that has bpy; this module (Apache-2.0, like the rest
of the package) never imports it. Per scene it writes a job (.npz: meshes built from the spec's parts,
materials, lights, cameras), sends its path down the child's stdin and reads one JSON answer back, then the
frames from a result file the child renamed into place.

The child is restarted every `scenes_per_process` scenes, since BlenderProc grows in memory with each
scene (BlenderProc issues #1194, #400). A child that dies, answers with an error or outlives
`timeout_s` is killed and restarted, and the scene retried `retries` times; after that
`BlenderProcError` says which scene failed and quotes the tail of the child's stderr. Scenes already
returned are the caller's and are never touched again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import math
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from workbench_gym.scenes.catalog import COLOURS
from workbench_gym.scenes.parts import quat_from_euler, quat_to_matrix
from workbench_gym.scenes.spec import LightSpec, SceneSpec
from workbench_gym.sim.camera import Camera, CameraFrame, look_at
from workbench_gym.sim.robot import PEDESTAL_RGBA, PEDESTAL_WIDTH
from workbench_gym.sim.world import BENCH_ID, FIRST_OBJECT_ID, ROBOT_BASE, ROBOT_ID
from workbench_gym.synth_data.renderer import world_cameras
from workbench_gym.synth_data.robot_mesh import panda_home_meshes, panda_meshes

#: The GPL-3.0 program that imports bpy and BlenderProc; run as a script, never imported.
RENDER_PROGRAM = Path(__file__).with_name("blender") / "render_scene.py"
#: Packages the render program needs besides numpy (import names); `pip install 'workbench-gym[blender]'`.
REQUIRED_MODULES = ("bpy", "blenderproc", "cv2", "skimage", "git", "png", "sklearn", "progressbar")

#: Principled-BSDF surface of each catalog material: (metallic, roughness).
SURFACES: dict[str, tuple[float, float]] = {
    "steel": (1.0, 0.32),
    "brass": (1.0, 0.28),
    "plastic": (0.0, 0.45),
    "rubber": (0.0, 0.85),
    "wood": (0.0, 0.65),
}
ROBOT_SURFACE = (0.0, 0.35)  # the Panda's painted shell
#: Sun strength (W/m^2) per unit of `LightSpec.diffuse`, and world (sky) strength per unit of `ambient`.
SUN_PER_DIFFUSE = 7.0
SKY_PER_AMBIENT = 0.8
SKY_TINT = (0.85, 0.9, 1.0)
SUN_ANGLE_DEG = 4.0  # apparent size of the sun: soft-edged shadows

DEVICES = ("auto", "cpu", "gpu")


class BlenderProcError(RuntimeError):
    """The BlenderProc child failed (died, timed out or raised) on a scene."""


@dataclass
class BlenderProcConfig:
    """Render settings and child-process policy.

    `device`: "auto" renders on a GPU where Cycles finds one (OPTIX, CUDA, HIP) and on the CPU
    otherwise; "cpu" always on the CPU; "gpu" fails without a GPU. `resolution` (width, height)
    overrides the spec cameras' sizes (intrinsics follow, as `sim.camera` computes them).
    `python` is the interpreter with bpy and BlenderProc (default: this one).
    """

    samples: int = 16
    denoise: bool = True
    device: str = "auto"
    threads: int = 0  # 0: all cores
    max_bounces: int = 4
    noise_threshold: float = 0.05
    view_transform: str = "Standard"
    resolution: tuple[int, int] | None = None
    scenes_per_process: int = 50
    timeout_s: float = 600.0  # per scene
    start_timeout_s: float = 180.0
    retries: int = 1
    python: str | None = None

    def __post_init__(self):
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}")
        for name in ("samples", "scenes_per_process"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.resolution is not None:
            if len(self.resolution) != 2 or not all(isinstance(v, int) and v > 0 for v in self.resolution):
                raise ValueError(f"resolution must be (width, height) in pixels, got {self.resolution!r}")
            self.resolution = tuple(self.resolution)
        if self.timeout_s <= 0 or self.start_timeout_s <= 0:
            raise ValueError(f"timeouts must be positive, got timeout_s={self.timeout_s}, start_timeout_s={self.start_timeout_s}")


def missing_modules(python: str | None = None) -> list[str]:
    """Import names of `REQUIRED_MODULES` that `python` (default: this interpreter) cannot find."""
    if python is None or os.path.realpath(python) == os.path.realpath(sys.executable):
        return [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    probe = f"import importlib.util as u, json; print(json.dumps([m for m in {list(REQUIRED_MODULES)!r} if u.find_spec(m) is None]))"
    result = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise BlenderProcError(f"cannot run Python {python!r}: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout)


# --- the job: everything the child draws, built from the spec ----------------------------------------
class _JobBuilder:
    """Collects meshes and de-duplicated materials into the arrays and description of one job."""

    def __init__(self):
        self.materials: list[dict] = []
        self._material_index: dict[tuple, int] = {}
        self.meshes: list[dict] = []
        self.arrays: dict[str, np.ndarray] = {}

    def material(self, colour, surface: tuple[float, float]) -> int:
        """Index of the material of a palette colour (as PyBullet shows it) with a (metallic, roughness) surface."""
        key = (tuple(round(_linear(c), 6) for c in colour), surface)
        if key not in self._material_index:
            self._material_index[key] = len(self.materials)
            self.materials.append({"colour": list(key[0]), "metallic": surface[0], "roughness": surface[1]})
        return self._material_index[key]

    def mesh(self, name: str, instance_id: int, pieces: list[tuple[trimesh.Trimesh, int]], matrix: np.ndarray) -> None:
        """One Blender object from (mesh, material index) pieces in its own frame, placed by `matrix`."""
        i = len(self.meshes)
        offsets = np.cumsum([0] + [len(m.vertices) for m, _ in pieces])
        self.arrays[f"mesh{i}_vertices"] = np.concatenate([m.vertices for m, _ in pieces]).astype(np.float32)
        self.arrays[f"mesh{i}_faces"] = np.concatenate([m.faces + o for (m, _), o in zip(pieces, offsets)]).astype(np.int32)
        self.arrays[f"mesh{i}_materials"] = np.concatenate([np.full(len(m.faces), k, np.int32) for m, k in pieces])
        self.arrays[f"mesh{i}_matrix"] = np.asarray(matrix, dtype=np.float64)
        self.meshes.append({"name": name, "instance_id": int(instance_id)})


def _linear(value: float) -> float:
    """sRGB-encoded channel to linear: PyBullet puts palette values on screen as they are, Cycles shades in linear light."""
    value = float(value)
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def _pose_matrix(position, rpy=(0.0, 0.0, 0.0)) -> np.ndarray:
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = quat_to_matrix(quat_from_euler(*rpy)), position
    return out


def _sun(light: LightSpec) -> dict:
    """A sun lamp shining along -direction (Blender suns shine along their local -z)."""
    z = np.asarray(light.direction, dtype=float)
    z /= np.linalg.norm(z)
    helper = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    matrix = np.eye(4)
    matrix[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    strength = SUN_PER_DIFFUSE * light.diffuse
    return {"colour": list(light.colour), "strength": strength, "angle_deg": SUN_ANGLE_DEG, "matrix": matrix.tolist()}


def render_cameras(spec: SceneSpec, resolution: tuple[int, int] | None = None) -> list:
    """The spec's world cameras, resized to `resolution` (width, height) when given."""
    cams = [cam for cam in spec.cameras if cam.name in world_cameras(spec)]
    if resolution is not None:
        cams = [dataclasses.replace(cam, width=resolution[0], height=resolution[1]) for cam in cams]
    return cams


def scene_job(spec: SceneSpec, resolution: tuple[int, int] | None = None, robot: tuple | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """The render job of a (settled) spec: (description, arrays), all from the spec, none from PyBullet.

    Ids follow `sim.World`: the bench, the robot with its pedestal, then `spec.objects` from
    `FIRST_OBJECT_ID`; each becomes the object's Cycles pass index, hence its segmentation value.
    `robot` = (7 arm joint angles, finger opening) draws the arm there instead of at its home pose.
    """
    job = _JobBuilder()
    bench = spec.bench
    bench_box = trimesh.creation.box(extents=bench.size)
    job.mesh("bench", BENCH_ID, [(bench_box, job.material(COLOURS[bench.colour], SURFACES["wood"]))],
             _pose_matrix((*bench.center, bench.height - bench.size[2] / 2)))

    pedestal = trimesh.creation.box(extents=(PEDESTAL_WIDTH, PEDESTAL_WIDTH, bench.height))
    job.mesh("pedestal", ROBOT_ID, [(pedestal, job.material(PEDESTAL_RGBA[:3], SURFACES["steel"]))],
             _pose_matrix((*ROBOT_BASE, bench.height / 2)))
    meshes = panda_home_meshes() if robot is None else panda_meshes(*robot)
    links = [(link.mesh, job.material(link.colour, ROBOT_SURFACE)) for link in meshes]
    job.mesh("panda", ROBOT_ID, links, _pose_matrix((*ROBOT_BASE, bench.height)))

    for i, obj in enumerate(spec.objects):
        geometry = obj.geometry
        tint = np.asarray(obj.tint if obj.tint is not None else (1.0, 1.0, 1.0))  # a perturbed instance's tint, as PyBullet shows it
        pieces = [(part.mesh(), job.material(tint * np.asarray(geometry.part_colour(part, obj.colour)), SURFACES[part.material]))
                  for part in geometry.parts]
        job.mesh(obj.name, FIRST_OBJECT_ID + i, pieces, _pose_matrix(obj.pose.position, obj.pose.rpy))

    cameras = []
    for i, cam in enumerate(render_cameras(spec, resolution)):
        camera = Camera(cam, spec.lights[0])
        cam2world = np.linalg.inv(look_at(cam.eye, cam.target, cam.up))
        # OpenCV camera axes (x right, y down, z forward) to Blender's (x right, y up, looking along -z).
        job.arrays[f"camera{i}_cam2world"] = cam2world @ np.diag([1.0, -1.0, -1.0, 1.0])
        job.arrays[f"camera{i}_K"] = camera.intrinsics.astype(np.float64)
        cameras.append({"name": cam.name, "width": cam.width, "height": cam.height, "near": cam.near, "far": cam.far})

    ambient = spec.lights[0]
    description = {
        "materials": job.materials,
        "meshes": job.meshes,
        "lights": [_sun(light) for light in spec.lights],
        "world": {"colour": [c * t for c, t in zip(ambient.colour, SKY_TINT)], "strength": SKY_PER_AMBIENT * ambient.ambient},
        "cameras": cameras,
    }
    return description, job.arrays


# --- the child process ---------------------------------------------------------------------------------
class _ChildFailed(Exception):
    """The child died, timed out or answered with an error; `reason` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.tail = ""  # the child's last stderr, filled in where the child is known


def _with_tail(message: str, stderr_tail: str) -> str:
    return f"{message}\n--- last lines of the child's stderr ---\n{stderr_tail}"


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


class _Child:
    """One running render program: its process, working folder, stderr log and answer pipe."""

    def __init__(self, config: BlenderProcConfig, python: str):
        self.folder = Path(tempfile.mkdtemp(prefix="workbench_gym_blender_"))
        self.log_path = self.folder / "stderr.log"
        settings = {
            "temp_dir": str(self.folder / "blenderproc"), "device": config.device, "threads": config.threads,
            "samples": config.samples, "denoise": config.denoise, "max_bounces": config.max_bounces,
            "noise_threshold": config.noise_threshold, "view_transform": config.view_transform,
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [python, str(RENDER_PROGRAM), json.dumps(settings)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=self.folder,
                bufsize=0,  # unbuffered: a request to a dead child fails at once and leaves nothing to flush
            )
        self._finalizer = weakref.finalize(self, _Child._cleanup, self.process, self.folder)
        self._buffer = b""
        self.scenes = 0
        try:
            self.info = self.answer(config.start_timeout_s, "starting")
        except _ChildFailed as failure:
            failure.tail = self.stderr_tail()
            self._finalizer()
            raise

    def answer(self, timeout: float, doing: str) -> dict:
        """The next JSON line from the child, or `_ChildFailed` on death, timeout or an error answer."""
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _ChildFailed(f"timed out after {timeout:g} s while {doing}")
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    code = self.process.wait()
                    raise _ChildFailed(f"the child process exited with code {code} while {doing}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message = json.loads(line)
        if message.get("ok") is False:
            raise _ChildFailed(f"the child raised while {doing}:\n{message.get('error', '').rstrip()}")
        return message

    def render(self, job_path: Path, out_path: Path, timeout: float, doing: str) -> dict:
        request = json.dumps({"job": str(job_path), "out": str(out_path)}) + "\n"
        try:
            self.process.stdin.write(request.encode())
            self.process.stdin.flush()
        except BrokenPipeError:
            raise _ChildFailed(f"the child process exited with code {self.process.wait()} before {doing}") from None
        answer = self.answer(timeout, doing)
        self.scenes += 1
        return answer

    def stderr_tail(self, chars: int = 3000) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - chars))
                return log.read().decode(errors="replace")
        except OSError:
            return "(no stderr log)"

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the child to exit (end of its stdin), kill it if it lingers, remove its folder."""
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._finalizer()

    @staticmethod
    def _cleanup(process: subprocess.Popen, folder: Path) -> None:
        _kill(process)
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):  # a pipe to a dead child may be broken
                stream.close()
        shutil.rmtree(folder, ignore_errors=True)


class BlenderProcRenderer:
    """`Renderer` that draws settled specs with BlenderProc's Cycles in a child process.

    Options are the fields of `BlenderProcConfig` (`BlenderProcRenderer(samples=8)`), or pass a
    whole `config`. The child starts at the first `render` and is reused for `scenes_per_process`
    scenes. Use as a context manager or call `close`.
    """

    name = "blenderproc"

    def __init__(self, config: BlenderProcConfig | None = None, **options):
        fields = {f.name for f in dataclasses.fields(BlenderProcConfig)}
        unknown = sorted(set(options) - fields)
        if unknown:
            raise TypeError(f"unknown BlenderProc renderer options {unknown}; expected some of {sorted(fields)}")
        self.config = dataclasses.replace(config or BlenderProcConfig(), **options)
        self.python = self.config.python or sys.executable
        missing = missing_modules(self.python)
        if missing:
            raise RuntimeError(
                f"the blenderproc renderer needs {missing} in {self.python}; install them with "
                "pip install 'workbench-gym[blender]' (Python 3.11), see docs/blenderproc.md"
            )
        self._child: _Child | None = None
        self.processes_started = 0
        self.start_seconds: list[float] = []  # the child's own start-up time, per process

    # -- Renderer protocol --
    def render(self, spec: SceneSpec, robot: tuple | None = None) -> dict[str, CameraFrame]:
        """One frame per world camera of `spec`, drawn by Cycles; `robot` as in `scene_job` (default: home pose)."""
        cameras = render_cameras(spec, self.config.resolution)
        if not cameras:
            return {}
        description, arrays = scene_job(spec, self.config.resolution, robot)
        attempts = self.config.retries + 1
        for attempt in range(1, attempts + 1):
            child = self._running_child()
            job_path, out_path = child.folder / "job.npz", child.folder / "frames.npz"
            np.savez(job_path, job=np.array(json.dumps(description)), **arrays)
            doing = f"rendering scene seed={spec.seed} ({len(spec.objects)} objects, cameras {[c.name for c in cameras]})"
            try:
                child.render(job_path, out_path, self.config.timeout_s, doing)
                with np.load(out_path, allow_pickle=False) as data:
                    result = {key: data[key] for key in data.files}
                out_path.unlink()
                break
            except _ChildFailed as failure:
                tail = child.stderr_tail()
                self._stop_child()
                if attempt == attempts:
                    message = f"BlenderProc failed {attempts} time(s) on scene seed={spec.seed}: {failure.reason}"
                    raise BlenderProcError(_with_tail(message, tail)) from None
        if child.scenes >= self.config.scenes_per_process:
            self._stop_child()  # BlenderProc grows per scene: a fresh process for the next ones
        return {cam.name: self._frame(cam, spec, result, i) for i, cam in enumerate(cameras)}

    def close(self) -> None:
        self._stop_child()

    def __enter__(self) -> BlenderProcRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def child_pid(self) -> int | None:
        """Process id of the running child, if one is running."""
        return self._child.process.pid if self._child is not None else None

    # -- internals --
    def _running_child(self) -> _Child:
        if self._child is None or self._child.process.poll() is not None:
            self._stop_child()
            try:
                self._child = _Child(self.config, self.python)
            except _ChildFailed as failure:
                raise BlenderProcError(_with_tail(f"BlenderProc did not start: {failure.reason}", failure.tail)) from None
            self.processes_started += 1
            self.start_seconds.append(float(self._child.info.get("start_s", math.nan)))
        return self._child

    def _stop_child(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None

    @staticmethod
    def _frame(cam, spec: SceneSpec, result: dict[str, np.ndarray], i: int) -> CameraFrame:
        camera = Camera(cam, spec.lights[0])
        _, extrinsics = camera.view()
        depth = result[f"camera{i}_depth"].astype(np.float32)
        # Cycles writes a huge z where a ray hits nothing; PyBullet's depth there is the far plane.
        depth = np.where(np.isfinite(depth) & (depth < cam.far), depth, np.float32(cam.far)).astype(np.float32)
        return CameraFrame(
            rgb=np.ascontiguousarray(result[f"camera{i}_rgb"], dtype=np.uint8),
            depth=depth,
            segmentation=result[f"camera{i}_segmentation"].astype(np.int32),
            intrinsics=camera.intrinsics.copy(),
            extrinsics=extrinsics.copy(),
        )
