"""A simulated workbench: one PyBullet client holding the bench, containers, tools, the Panda and cameras.

`World.build(spec)` puts the world in the state the spec describes, bit-identical whatever the
client did before. The first build makes the scenery (floor, bench, pedestal, Panda) and a pool
of bodies of every catalog variant; later builds keep them and only move bodies, so a reset costs
a few milliseconds instead of a rebuild. `_place` lists what is reset on every build and why.
Knows nothing of tasks or language.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pybullet

from workbench_gym.scenes.catalog import COLOURS
from workbench_gym.scenes.parts import quat_from_euler, quat_to_matrix
from workbench_gym.scenes.spec import BenchSpec, ObjectSpec, SceneSpec
from workbench_gym.sim import egl
from workbench_gym.sim.bodies import BodyFrame, apply_appearance, apply_dynamics, bench_texture, dynamics_of, palette_texture, rgba_of
from workbench_gym.sim.camera import Camera, CameraFrame
from workbench_gym.sim.client import FastBulletClient
from workbench_gym.sim.layers import Link, SceneLayers
from workbench_gym.sim.pool import NO_COLLISION, BodyPool, capacity_for, park, variant_counts
from workbench_gym.sim.rest import lies_flat_on, rest_pose, resting_quaternion
from workbench_gym.sim.robot import HAND_LINK, HOME, PEDESTAL_RGBA, PEDESTAL_WIDTH, Panda

#: Fixed instance ids in segmentation images; spec objects follow from FIRST_OBJECT_ID in spec order.
BACKGROUND_ID, BENCH_ID, ROBOT_ID = 0, 1, 2
FIRST_OBJECT_ID = 3
ROBOT_BASE = (0.0, 0.0)  # x, y of the arm's base; it stands at bench height
SETTLE_SECONDS = 0.3  # settling of scenes whose objects do not all start at rest
_FALL_MARGIN = 0.02  # metres below the bench top that counts as fallen


def rotation_forms(vectors: np.ndarray) -> np.ndarray:
    """(n, 3, 16) forms F with R(q) v = F[i] @ kron(q, q) for unit quaternions q (x y z w), one per vector.

    Rotating the same vectors again and again this way takes two numpy calls instead of
    `quat_rotate`'s twenty. Each entry of R(q) is a quadratic form in q (the diagonal's 1 read as
    |q|^2); its coefficients come from `quat_to_matrix` by polarisation.
    """
    return np.einsum("ijab,nj->niab", _rotation_basis(), np.asarray(vectors, float).reshape(-1, 3)).reshape(-1, 3, 16)


@lru_cache(maxsize=1)
def _rotation_basis() -> np.ndarray:
    def homogeneous(q):
        return quat_to_matrix(q) + (np.dot(q, q) - 1.0) * np.eye(3)

    unit = np.eye(4)
    basis = np.empty((3, 3, 4, 4))
    for a in range(4):
        for b in range(4):
            basis[:, :, a, b] = (homogeneous(unit[a] + unit[b]) - homogeneous(unit[a]) - homogeneous(unit[b])) / 2
    basis.setflags(write=False)
    return basis


class SceneSettleError(RuntimeError):
    """Objects left the bench while the scene settled."""


RENDERERS = ("tiny", "egl")
RESET_MODES = ("rebuild", "reuse")


@dataclass(frozen=True)
class SimConfig:
    """Physics and rendering settings: `timestep` seconds per PyBullet step, solver iterations per step.

    1/150 s keeps a settled 40-tool bench within 0.5 mm of its spec after 1 s awake (as 1/200 s
    does) at 6 physics steps per 25 Hz control step; 1/200 s made stepping 25 % slower.
    The solver stops early once the squared impulse change of an iteration falls below
    `solver_residual_threshold`: at 1e-4 a woken 20-tool bench steps 2.2x faster than at PyBullet's
    1e-7 (which always ran all 50 iterations) and drifts no more (0.03 mm in 1 s).
    `renderer` "egl" draws camera frames with PyBullet's EGL plugin on a GPU; without a GPU
    driver it warns and uses TinyRenderer ("tiny"), see `sim.egl`.
    `reset_mode` "rebuild" starts a fresh PyBullet simulation for every scene, so a scene's states
    depend on the scene alone; "reuse" keeps the client and a pool of bodies, 2-8x faster to reset,
    and gives the same states except where Bullet's broadphase, whose internal order PyBullet
    cannot reset, sends a trajectory another way (3 of 900 replayed env episodes, docs/speed.md).
    `World.build` says more.
    """

    timestep: float = 1.0 / 150.0
    solver_iterations: int = 50
    gui: bool = False
    solver_residual_threshold: float = 1e-4
    renderer: str = "tiny"
    reset_mode: str = "rebuild"

    def __post_init__(self):
        if self.renderer not in RENDERERS:
            raise ValueError(f"renderer={self.renderer!r} is not supported; expected one of {RENDERERS}")
        if self.renderer == "egl" and self.gui:
            raise ValueError("renderer='egl' is for headless clients; the GUI (render_mode='human') draws with its own OpenGL")
        if not self.solver_residual_threshold >= 0:
            raise ValueError(f"solver_residual_threshold={self.solver_residual_threshold!r} must be a number >= 0")
        if self.reset_mode not in RESET_MODES:
            raise ValueError(f"reset_mode={self.reset_mode!r} is not supported; expected one of {RESET_MODES}")


GRAVITY = (0.0, 0.0, -9.81)
#: Collision filter (group, mask) Bullet gives moving and static bodies (btDiscreteDynamicsWorld::addRigidBody).
MOVING_FILTER, STATIC_FILTER = (1, -1), (2, -3)
#: Physics steps that settle a scene whose tools all start in their resting poses (see `settle`).
RESTING_SETTLE_STEPS = 5


def _bench_geometry(bench) -> tuple:
    """What the scenery is built from: bench size, centre and height (its colour is applied per scene)."""
    return tuple(bench.size), tuple(bench.center), bench.height


class World:
    """Owns one PyBullet client (DIRECT, or GUI for human rendering) for its whole life."""

    def __init__(self, config: SimConfig = SimConfig()):
        self.config = config
        if config.gui and not os.environ.get("DISPLAY"):
            # PyBullet's GUI exits the whole process when it finds no X server: fail politely first.
            raise RuntimeError("render_mode='human' opens a PyBullet window and needs a display (DISPLAY is not set); use render_mode='rgb_array' when headless")
        self.client = FastBulletClient(pybullet.GUI if config.gui else pybullet.DIRECT)
        self.client_id: int = self.client._client
        #: What draws camera frames: "egl" only if asked for and the plugin loaded (before any body).
        self.renderer = "egl" if config.renderer == "egl" and egl.load(self.client) else "tiny"
        self.spec: SceneSpec | None = None
        self.robot: Panda | None = None
        self.pool: BodyPool | None = None
        self.bodies: dict[str, int] = {}
        self.frames: dict[str, BodyFrame] = {}
        self.instance_ids: dict[str, int] = {}
        self.cameras: dict[str, Camera] = {}
        self.id_lut = np.zeros(1, dtype=np.int32)
        self.physics_steps = 0  # since the scene finished settling
        #: Scenery builds so far: the first build and any build whose bench or variant counts the scenery lacks.
        self.scenery_builds = 0
        #: Called with the world after every physics step (a video recorder, say); empty by default.
        self.step_listeners: list = []
        self._bench_geometry: tuple | None = None
        self._in_use: list[int] = []

    # --- building -------------------------------------------------------------------------------
    def build(self, spec: SceneSpec, settle: bool = True) -> None:
        """Put the world in the state `spec` describes and let objects come to rest.

        With `reset_mode="rebuild"` every build starts a fresh simulation holding just the spec's
        bodies, so the result depends on `spec` alone. With "reuse" the client, the Panda and a
        pool of bodies outlive the build (only a scene that needs more bodies than the pool holds
        starts a fresh one); `_place` resets what an episode can change. Both give the states of a
        fresh simulation, except that Bullet's broadphase keeps an order of its own (the shape of
        its AABB tree, which PyBullet cannot reset) that after some histories changes a trajectory.
        """
        needed = variant_counts(spec.objects)
        if self.config.reset_mode == "rebuild":
            self._build_scenery(spec.bench, dict(needed))
        elif self.pool is None or _bench_geometry(spec.bench) != self._bench_geometry or self.pool.shortfall(spec.objects):
            self._build_scenery(spec.bench, capacity_for(needed, self.pool and self.pool.capacity))
        self._place(spec, at_rest=settle)
        if settle:
            self.settle()
        else:
            self.layers.rest = self._tool_poses_now()

    def _build_scenery(self, bench: BenchSpec, capacity: dict) -> None:
        """Start a fresh simulation: floor, bench, pedestal, the Panda and a parked pool of bodies, in that order."""
        c = self.client
        c.resetSimulation()
        c.setGravity(*GRAVITY)
        c.setPhysicsEngineParameter(
            fixedTimeStep=self.config.timestep, numSolverIterations=self.config.solver_iterations,
            solverResidualThreshold=self.config.solver_residual_threshold, deterministicOverlappingPairs=1,
        )
        if self.config.gui:
            c.configureDebugVisualizer(pybullet.COV_ENABLE_RENDERING, 0)
        # The floor only catches what falls. TinyRenderer draws collision shapes of bodies without
        # visuals and a floor costs a quarter of the frame rate, so it is made fully transparent.
        floor = self._static_box((3.0, 3.0, 0.1), (0.5, 0, -0.05), (0, 0, 0, 0))
        self.pedestal = self._static_box((PEDESTAL_WIDTH, PEDESTAL_WIDTH, bench.height), (*ROBOT_BASE, bench.height / 2), PEDESTAL_RGBA)
        self.robot = Panda(c, (*ROBOT_BASE, bench.height))
        self._robot_links: list[Link] = [(self.robot.body, shape[1], tuple(shape[7])) for shape in c.getVisualShapeData(self.robot.body)]
        self.pool = BodyPool(c, capacity)
        # TinyRenderer draws bodies in the order they were made and tests depth before shading, so the
        # bench, which fills most frames, comes last: it is not shaded where something lies on it.
        self.bench_body = self._static_box(bench.size, (*bench.center, bench.height - bench.size[2] / 2), (1, 1, 1, 1))
        self._sleep([floor, self.pedestal, self.bench_body])
        self._textures: dict[str, int] = {}  # texture id per image file, loaded when a scene first shows it
        self._bench_pattern: str | None = None  # the texture on the bench top now (a perturbation)
        lut = np.full(c.getNumBodies() + 1, BACKGROUND_ID, dtype=np.int32)  # index = body id + 1
        lut[self.bench_body + 1] = BENCH_ID
        lut[[self.pedestal + 1, self.robot.body + 1]] = ROBOT_ID
        self._scenery_lut = lut
        self._bench_geometry = _bench_geometry(bench)
        self._in_use, self.cameras = [], {}
        self.scenery_builds += 1
        if self.config.gui:
            c.configureDebugVisualizer(pybullet.COV_ENABLE_RENDERING, 1)

    def _place(self, spec: SceneSpec, at_rest: bool) -> None:
        """Reset everything an episode can change, from `spec`, so no state of an earlier scene survives.

        1. Constraints (grasp welds) are removed, the arm goes home, bodies this scene does not use
           are parked, and each object's body is posed from the spec (`at_rest`: flat tools in their
           variant's resting pose, for settling), still, with its mass, friction, colour and tint
           applied from the spec (perturbed values where it sets them); the bench gets its colour and
           texture.
        2. One physics step at zero gravity in which nothing can collide. PyBullet's teleport sets a
           body's pose but not its world-frame inertia, which Bullet refreshes only when it integrates
           the body, so a reused body would carry its last episode's inertia into the first step.
           Here nothing moves and no impulse flows, and Bullet's broadphase, left with no pairs,
           restarts the cursor of its paced pair clean-up.
        3. The arm's and the objects' colliders get fresh broadphase proxies, in that order. That
           drops every contact manifold (warm-start impulses, friction anchors) and numbers the
           proxies, by which Bullet orders contact dispatch and solving, the same in every episode.
        """
        c = self.client
        if self.config.gui:
            c.configureDebugVisualizer(pybullet.COV_ENABLE_RENDERING, 0)
        for i in reversed(range(c.getNumConstraints())):
            c.removeConstraint(c.getConstraintUniqueId(i))
        self.robot.reset(HOME)
        self._filter_robot(NO_COLLISION, NO_COLLISION)
        placed = self.pool.assign(spec.objects)
        in_use = [body for body, _ in placed]
        for body in sorted(set(self._in_use) - set(in_use)):
            park(c, body)
        c.changeVisualShape(self.bench_body, -1, rgbaColor=[*COLOURS[spec.bench.colour], 1])
        if spec.bench.texture != self._bench_pattern:  # -1 takes a texture off
            pattern = spec.bench.texture
            c.changeVisualShape(self.bench_body, -1, textureUniqueId=-1 if pattern is None else self._texture(bench_texture(pattern)))
            self._bench_pattern = pattern
        n_containers = len(spec.containers)
        self._resting = True
        for i, (obj, (body, frame)) in enumerate(zip(spec.objects, placed)):
            static = i < n_containers
            c.setCollisionFilterGroupMask(body, -1, *NO_COLLISION)
            c.resetBasePositionAndOrientation(body, *frame.to_bullet(*self._start_pose(obj, spec.bench, static, at_rest)))
            c.resetBaseVelocity(body, (0, 0, 0), (0, 0, 0))
            apply_dynamics(c, body, dynamics_of(obj, static))
            apply_appearance(c, body, self._texture(palette_texture(obj.colour)), rgba_of(obj))
            c.changeDynamics(body, -1, activationState=pybullet.ACTIVATION_STATE_SLEEP if static else pybullet.ACTIVATION_STATE_WAKE_UP)
        c.setGravity(0, 0, 0)
        c.stepSimulation()
        c.setGravity(*GRAVITY)
        c.performCollisionDetection()  # a second broadphase pass moves the leaves placing touched out of its dynamic tree
        self._filter_robot(STATIC_FILTER, MOVING_FILTER)
        for i, body in enumerate(in_use):
            c.setCollisionFilterGroupMask(body, -1, *(STATIC_FILTER if i < n_containers else MOVING_FILTER))

        self.spec, self._in_use, self.physics_steps = spec, in_use, 0
        self.bodies = {obj.name: body for obj, body in zip(spec.objects, in_use)}
        self.frames = {obj.name: frame for obj, (_, frame) in zip(spec.objects, placed)}
        self.instance_ids = {obj.name: FIRST_OBJECT_ID + i for i, obj in enumerate(spec.objects)}
        lut = self._scenery_lut.copy()
        lut[np.asarray(in_use, dtype=np.int64) + 1] = FIRST_OBJECT_ID + np.arange(len(in_use))
        self.id_lut = lut
        scenery = [(self.bench_body, -1, (*COLOURS[spec.bench.colour], 1.0)), (self.pedestal, -1, PEDESTAL_RGBA)]
        links = [(body, -1, rgba_of(obj)) for obj, body in zip(spec.objects, in_use)]
        self._tool_bodies = in_use[n_containers:]
        self.layers = SceneLayers(c, scenery + links[:n_containers], self._robot_links, links[n_containers:])
        self._tool_com_forms = rotation_forms(np.array([self.frames[t.name].com for t in spec.tools]))
        light = spec.lights[0]
        self.cameras = {cam.name: Camera(cam, light, hardware=self.renderer == "egl") for cam in spec.cameras}
        if self.config.gui:
            c.configureDebugVisualizer(pybullet.COV_ENABLE_RENDERING, 1)

    def _start_pose(self, obj: ObjectSpec, bench: BenchSpec, static: bool, at_rest: bool) -> tuple[tuple, tuple]:
        """Where an object's body starts (spec frame): the spec's pose, or for settling a tool lying flat on the bench, its variant's resting pose."""
        position, rpy = obj.pose.position, obj.pose.rpy
        if static or not at_rest or not lies_flat_on(position, rpy, bench):
            self._resting = self._resting and static
            return position, quat_from_euler(*rpy)
        cfg = self.config
        rest = rest_pose(obj.category, obj.size, cfg.timestep, cfg.solver_iterations, cfg.solver_residual_threshold)
        return (position[0], position[1], bench.height + rest.height), resting_quaternion(rest, rpy[2])

    def _texture(self, path: str) -> int:
        """The id of an image file's texture in this simulation, loaded on first use."""
        if path not in self._textures:
            self._textures[path] = self.client.loadTexture(path)
        return self._textures[path]

    def _filter_robot(self, base: tuple[int, int], links: tuple[int, int]) -> None:
        """Set the collision filter of the arm's base and of each of its links (a fresh broadphase proxy each)."""
        c, body = self.client, self.robot.body
        c.setCollisionFilterGroupMask(body, -1, *base)
        for link in range(c.getNumJoints(body)):
            c.setCollisionFilterGroupMask(body, link, *links)

    def _tool_poses_now(self) -> dict[int, tuple]:
        """Each tool body's pose as PyBullet reports it (the layers' record of where tools settled)."""
        return {body: self.client.getBasePositionAndOrientation(body) for body in self._tool_bodies}

    def _static_box(self, size, position, rgba) -> int:
        half = [s / 2 for s in size]
        c = self.client
        return c.createMultiBody(
            0.0, c.createCollisionShape(pybullet.GEOM_BOX, halfExtents=half),
            c.createVisualShape(pybullet.GEOM_BOX, halfExtents=half, rgbaColor=rgba), list(position),
            useMaximalCoordinates=True,  # a static rigid body, which never wakes what rests on it
        )

    def settle(self, seconds: float | None = None) -> None:
        """Step with the arm holding still while objects come to rest, then stop them and put them to sleep.

        Tools placed in their resting pose need only RESTING_SETTLE_STEPS: Bullet builds up a new
        contact's points over a few steps, and bodies on fresh contacts jump (a nut at 5 rad/s in
        the first step); after those steps a woken bench drifts 0.25 mm, after SETTLE_SECONDS
        0.04-0.1 mm. Other scenes (objects raised or tilted) settle for SETTLE_SECONDS.
        Bullet only sleeps a body after 2 s at rest; sleeping them now makes a resting 20-tool
        bench cost ~0.1 ms per physics step instead of ~1.6 ms. Any contact wakes a body again.
        Raises `SceneSettleError` if an object left the bench.
        """
        if seconds is None:
            self.step(RESTING_SETTLE_STEPS if self._resting else int(round(SETTLE_SECONDS / self.config.timestep)))
        else:
            self.step(int(round(seconds / self.config.timestep)))
        lost = self.fallen_objects()
        if lost:
            raise SceneSettleError(f"objects fell off the bench while settling: {lost}")
        for body in self._tool_bodies:
            self.client.resetBaseVelocity(body, (0, 0, 0), (0, 0, 0))
        self._sleep(self._tool_bodies)
        self.layers.rest = self._tool_poses_now()
        self.physics_steps = 0

    def _sleep(self, bodies) -> None:
        """Put bodies to sleep. Static ones stay asleep for good: PyBullet creates them awake, and
        Bullet skips a contact only when both bodies sleep, so awake static scenery made every
        resting tool's contacts cost narrowphase work each step (~55 us per physics step, 20 tools)."""
        for body in bodies:
            self.client.changeDynamics(body, -1, activationState=pybullet.ACTIVATION_STATE_SLEEP)
    # --- state --------------------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self.client.stepSimulation()
            self.physics_steps += 1
            for listener in self.step_listeners:
                listener(self)

    @property
    def sim_time(self) -> float:
        """Simulated seconds since the scene settled."""
        return self.physics_steps * self.config.timestep

    def object_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Position (spec body frame origin) and quaternion of an object. Privileged state."""
        pos, orn = self.client.getBasePositionAndOrientation(self.bodies[name])
        return self.frames[name].from_bullet(pos, orn)

    def tool_poses(self) -> tuple[np.ndarray, np.ndarray]:
        """Positions (n, 3) and quaternions (n, 4) of all tools in spec order. Privileged."""
        get = self.client.getBasePositionAndOrientation
        poses = np.array([position + orientation for position, orientation in map(get, self._tool_bodies)]).reshape(-1, 7)
        quaternions = poses[:, 3:]
        pairs = (quaternions[:, :, None] * quaternions[:, None, :]).reshape(-1, 16, 1)
        return poses[:, :3] - np.matmul(self._tool_com_forms, pairs)[..., 0], quaternions

    def current_spec(self) -> SceneSpec:
        """A copy of the spec with every object's pose replaced by its simulated pose now (privileged)."""
        spec = copy.deepcopy(self.spec)
        for obj in spec.objects:
            position, quaternion = self.object_pose(obj.name)
            obj.pose.position = tuple(float(v) for v in position)
            obj.pose.rpy = tuple(float(v) for v in pybullet.getEulerFromQuaternion(quaternion.tolist()))
        return spec

    def fallen_objects(self) -> list[str]:
        """Names of tools and containers that are off the bench or below its top."""
        bench = self.spec.bench
        boxes = np.array([self.client.getAABB(body) for body in self.bodies.values()]).reshape(-1, 2, 3)
        centre = boxes.mean(1)[:, :2]
        fallen = np.any(centre < bench.lo, axis=1) | np.any(centre > bench.hi, axis=1) | (boxes[:, 0, 2] < bench.height - _FALL_MARGIN)
        return [name for name, out in zip(self.bodies, fallen) if out]

    def set_object_pose(self, obj: ObjectSpec, position, rpy=(0.0, 0.0, 0.0)) -> None:
        """Teleport an object (for tests and task resets); velocities are zeroed."""
        quat = quat_from_euler(*rpy)
        pos, orn = self.frames[obj.name].to_bullet(position, quat)
        self.client.resetBasePositionAndOrientation(self.bodies[obj.name], pos, orn)
        self.client.resetBaseVelocity(self.bodies[obj.name], [0, 0, 0], [0, 0, 0])
        if obj not in self.spec.containers:
            self.client.changeDynamics(self.bodies[obj.name], -1, activationState=pybullet.ACTIVATION_STATE_WAKE_UP)
        else:  # static scenery moved: cached backgrounds are stale
            for cam in self.cameras.values():
                cam.forget_background()

    # --- sensing ------------------------------------------------------------------------------
    def render(self, camera: str, rgb=True, depth=True, segmentation=True) -> CameraFrame:
        """Render one camera; wrist cameras follow the hand."""
        if camera not in self.cameras:
            raise KeyError(f"no camera {camera!r}; this scene has {sorted(self.cameras)}")
        cam = self.cameras[camera]
        mount = self.robot.link_pose(HAND_LINK) if cam.spec.mount == "wrist" else None
        return cam.render(self.client, self.id_lut, mount, rgb=rgb, depth=depth, segmentation=segmentation, layers=self.layers)

    # --- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Disconnect the client; safe to call twice."""
        if self.client is not None:
            if pybullet.isConnected(self.client_id):
                pybullet.disconnect(physicsClientId=self.client_id)
            # BulletClient.__del__ would otherwise disconnect whichever env reuses this id later.
            self.client.unbind()
            self.client._client = -1
            self.client = None

    @property
    def connected(self) -> bool:
        return self.client is not None and pybullet.isConnected(self.client_id)
