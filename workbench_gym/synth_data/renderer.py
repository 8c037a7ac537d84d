"""The `Renderer` contract, PyBullet's in-process renderer, and settling a spec before any renderer draws it.

A renderer turns a **settled** `SceneSpec` into one `CameraFrame` per world-mounted camera of the spec
(wrist cameras need an arm pose and are skipped). Frames follow `sim.camera`: rgb (H, W, 3) uint8,
depth (H, W) float32 metres along the optical axis, segmentation (H, W) int32, intrinsics K (3, 3)
and extrinsics world->camera (4, 4, OpenCV axes).

Segmentation ids are those of `sim.World`: 0 background, 1 bench, 2 robot (arm and pedestal),
`FIRST_OBJECT_ID + i` (3 + i) for `spec.objects[i]` (containers, then tools).

The robot is drawn. The planner's cameras see the Panda standing at its home pose behind the bench,
and the grounding model that trains on this data looks through those cameras, so the arm belongs in
its training images (as an occluder and as a thing that is neither a tool nor a container). Renderers
draw it at `sim.robot.HOME` on its pedestal at `sim.world.ROBOT_BASE`, and label its pixels `ROBOT_ID`.

Physics happens once, in PyBullet: `settle_spec` drops the spec's objects, lets them come to rest and
writes the resting poses back into a copy of the spec, so every renderer draws exactly that scene.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from workbench_gym.registry import Registry
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.sim.camera import CameraFrame
from workbench_gym.sim.world import World


@runtime_checkable
class Renderer(Protocol):
    """Draws a settled spec's world cameras. One instance may render many scenes; `close` frees it."""

    #: Short name used on the command line and in dataset manifests ("pybullet", "blenderproc").
    name: str

    def render(self, spec: SceneSpec) -> dict[str, CameraFrame]:
        """One frame per camera of `spec` whose mount is "world", keyed by camera name."""
        ...

    def close(self) -> None:
        """Release the renderer's resources (clients, child processes); safe to call twice."""
        ...


def world_cameras(spec: SceneSpec) -> list[str]:
    """Names of the spec's world-mounted cameras, in spec order: the ones a renderer draws."""
    return [cam.name for cam in spec.cameras if cam.mount == "world"]


def settled_spec(world: World) -> SceneSpec:
    """A copy of the world's spec with every object's pose replaced by its pose in the world now."""
    return world.current_spec()


def settle_spec(spec: SceneSpec, world: World | None = None) -> SceneSpec:
    """Let the spec's objects come to rest in PyBullet; return a copy holding the resting poses.

    Pass a `world` to reuse its client (it is rebuilt from `spec`); otherwise a temporary one is made.
    Raises `sim.world.SceneSettleError` when an object falls off the bench.
    """
    own = world is None
    world = world or World()
    try:
        world.build(spec, settle=True)
        return settled_spec(world)
    finally:
        if own:
            world.close()


class PyBulletRenderer:
    """Renders with PyBullet's TinyRenderer in this process, reusing `sim.World` and `sim.camera`.

    `render` rebuilds its world from the spec without stepping physics, so a settled spec is drawn
    as it is. `settle_and_render` does both on one build, which is the fast path of the pipeline.
    """

    name = "pybullet"

    def __init__(self, **options):
        if options:
            raise TypeError(f"the pybullet renderer takes no options, got {sorted(options)}")
        self.world = World()

    def render(self, spec: SceneSpec) -> dict[str, CameraFrame]:
        self.world.build(spec, settle=False)
        return self.current_frames(spec)

    def settle_and_render(self, spec: SceneSpec) -> tuple[SceneSpec, dict[str, CameraFrame]]:
        """Settle `spec`, then render the settled world: (settled spec, frames)."""
        self.world.build(spec, settle=True)
        return settled_spec(self.world), self.current_frames(spec)

    def current_frames(self, spec: SceneSpec) -> dict[str, CameraFrame]:
        """Frames of the world as it stands, one per world camera of `spec`."""
        # One full draw per camera: each camera sees a single frame, so World.render's cached static
        # layer (drawn once, then composited under every later frame) would only add a second draw.
        w = self.world
        return {name: w.cameras[name].render(w.client, w.id_lut) for name in world_cameras(spec)}

    def close(self) -> None:
        self.world.close()


#: Renderers by name, for `make_renderer` and `workbench-gym generate --renderer`. BlenderProc's driver is registered
#: by path, imported only when asked for (its GPL-3.0 program runs in a child process).
RENDERERS: Registry[type[Renderer]] = Registry("renderer")
RENDERERS.register("pybullet", PyBulletRenderer)
RENDERERS.register("blenderproc", "workbench_gym.synth_data.blenderproc_renderer:BlenderProcRenderer", extra="blender")


def make_renderer(name: str, **options) -> Renderer:
    """Build a renderer by name with its options; `RuntimeError` where its dependencies are missing here."""
    try:
        renderer = RENDERERS[name]
    except ImportError as err:
        raise RuntimeError(f"the {name} renderer is not available here ({err}); see docs/synthetic-data.md") from None
    return renderer(**options)
