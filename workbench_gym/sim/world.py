"""A simulated workbench: one PyBullet client holding the bench, containers, tools, the Panda and cameras.

`World.build(spec)` resets the whole simulation and rebuilds it from the spec, so the same spec
gives bit-identical states whatever the client did before. Knows nothing of tasks or language.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pybullet
from pybullet_utils.bullet_client import BulletClient

from workbench_gym.scenes.catalog import COLOURS
from workbench_gym.scenes.parts import quat_from_euler, quat_to_matrix
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec
from workbench_gym.sim import egl
from workbench_gym.sim.bodies import BodyFrame, build_body, palette_texture
from workbench_gym.sim.camera import Camera, CameraFrame
from workbench_gym.sim.robot import HAND_LINK, PEDESTAL_RGBA, PEDESTAL_WIDTH, Panda

#: Fixed instance ids in segmentation images; spec objects follow from FIRST_OBJECT_ID in spec order.
BACKGROUND_ID, BENCH_ID, ROBOT_ID = 0, 1, 2
FIRST_OBJECT_ID = 3
ROBOT_BASE = (0.0, 0.0)  # x, y of the arm's base; it stands at bench height
SETTLE_SECONDS = 0.3
_FALL_MARGIN = 0.02  # metres below the bench top that counts as fallen


def rotation_forms(vectors: np.ndarray) -> np.ndarray:
    """(n, 3, 16) forms F with R(q) v = F[i] @ kron(q, q) for unit quaternions q (x y z w), one per vector.

    Rotating the same vectors again and again this way takes two numpy calls instead of
    `quat_rotate`'s twenty. Each entry of R(q) is a quadratic form in q (the diagonal's 1 read as
    |q|^2); its coefficients come from `quat_to_matrix` by polarisation.
    """
    def homogeneous(q):
        return quat_to_matrix(q) + (np.dot(q, q) - 1.0) * np.eye(3)

    unit = np.eye(4)
    basis = np.empty((3, 3, 4, 4))
    for a in range(4):
        for b in range(4):
            basis[:, :, a, b] = (homogeneous(unit[a] + unit[b]) - homogeneous(unit[a]) - homogeneous(unit[b])) / 2
    return np.einsum("ijab,nj->niab", basis, np.asarray(vectors, float).reshape(-1, 3)).reshape(-1, 3, 16)


class SceneLayers:
    """Shows only the static scenery or only the moving bodies, by making the others transparent.

    TinyRenderer skips fully transparent shapes, so a hidden layer costs nothing to draw.
    """

    def __init__(self, client, static: list[int], moving: list[int]):
        self.client = client
        self.static, self.moving = self._links(static), self._links(moving)

    def _links(self, bodies: list[int]) -> list[tuple[int, int, tuple]]:
        out = {}
        for body in bodies:
            for shape in self.client.getVisualShapeData(body):
                out.setdefault((shape[0], shape[1]), tuple(shape[7]))
        return [(body, link, rgba) for (body, link), rgba in out.items()]

    @contextmanager
    def _hidden(self, links):
        for body, link, rgba in links:
            self.client.changeVisualShape(body, link, rgbaColor=[*rgba[:3], 0.0])
        try:
            yield
        finally:
            for body, link, rgba in links:
                self.client.changeVisualShape(body, link, rgbaColor=list(rgba))

    def only_static(self):
        return self._hidden(self.moving)

    def only_moving(self):
        return self._hidden(self.static)


class FastBulletClient(BulletClient):
    """A `BulletClient` that binds each PyBullet function to its client once, on first use.

    The stock client builds a new `functools.partial` on every attribute access (~1.5 us); an env
    step makes ~40 PyBullet calls, so binding once saves a tenth of a state-observation step.
    """

    def __init__(self, connection_mode: int):
        # The stock client connects with options="", and PyBullet then prints "argv[0]=" on stdout, into the JSON
        # that commands print there: connect without options.
        self._shapes, self._pid = {}, os.getpid()
        self._client = pybullet.connect(connection_mode)

    def __getattr__(self, name):
        attribute = super().__getattr__(name)
        if name != "disconnect":  # the stock client marks itself closed on that lookup
            self.__dict__[name] = attribute
        return attribute

    def unbind(self) -> None:
        """Forget the bound functions (on close), so a stale reference cannot reach a client that reuses the id."""
        for name in [n for n in self.__dict__ if not n.startswith("_")]:
            del self.__dict__[name]


class SceneSettleError(RuntimeError):
    """Objects left the bench while the scene settled."""


RENDERERS = ("tiny", "egl")


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
    """

    timestep: float = 1.0 / 150.0
    solver_iterations: int = 50
    gui: bool = False
    solver_residual_threshold: float = 1e-4
    renderer: str = "tiny"

    def __post_init__(self):
        if self.renderer not in RENDERERS:
            raise ValueError(f"renderer={self.renderer!r} is not supported; expected one of {RENDERERS}")
        if self.renderer == "egl" and self.gui:
            raise ValueError("renderer='egl' is for headless clients; the GUI (render_mode='human') draws with its own OpenGL")
        if not self.solver_residual_threshold >= 0:
            raise ValueError(f"solver_residual_threshold={self.solver_residual_threshold!r} must be a number >= 0")


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
        self.bodies: dict[str, int] = {}
        self.frames: dict[str, BodyFrame] = {}
        self.instance_ids: dict[str, int] = {}
        self.cameras: dict[str, Camera] = {}
        self.id_lut = np.zeros(1, dtype=np.int32)
        self.physics_steps = 0  # since the scene finished settling
        #: Called with the world after every physics step (a video recorder, say); empty by default.
        self.step_listeners: list = []

    # --- building -------------------------------------------------------------------------------
    def build(self, spec: SceneSpec, settle: bool = True) -> None:
        """Rebuild the world from `spec` and let objects come to rest."""
        c = self.client
        c.resetSimulation()
        c.setGravity(0, 0, -9.81)
        c.setPhysicsEngineParameter(
            fixedTimeStep=self.config.timestep, numSolverIterations=self.config.solver_iterations,
            solverResidualThreshold=self.config.solver_residual_threshold, deterministicOverlappingPairs=1,
        )
        if self.config.gui:
            c.configureDebugVisualizer(pybullet.COV_ENABLE_RENDERING, 0)
        self.spec = spec
        self.physics_steps = 0
        bench = spec.bench
        # The floor only catches what falls. TinyRenderer draws collision shapes of bodies without
        # visuals and a floor costs a quarter of the frame rate, so it is made fully transparent.
        floor = self._static_box((3.0, 3.0, 0.1), (0.5, 0, -0.05), (0, 0, 0, 0))
        self.bench_body = self._static_box(
            bench.size, (*bench.center, bench.height - bench.size[2] / 2), (*COLOURS[bench.colour], 1)
        )
        pedestal = self._static_box((PEDESTAL_WIDTH, PEDESTAL_WIDTH, bench.height), (*ROBOT_BASE, bench.height / 2), PEDESTAL_RGBA)
        self.robot = Panda(c, (*ROBOT_BASE, bench.height))

        self.bodies, self.frames, self.instance_ids = {}, {}, {}
        texture = c.loadTexture(palette_texture())
        for i, obj in enumerate(spec.objects):
            body, frame = build_body(c, obj, static=obj in spec.containers, texture=texture)
            self.bodies[obj.name], self.frames[obj.name] = body, frame
            self.instance_ids[obj.name] = FIRST_OBJECT_ID + i
        lut = np.full(c.getNumBodies() + 1, BACKGROUND_ID, dtype=np.int32)  # index = body id + 1
        lut[self.bench_body + 1] = BENCH_ID
        lut[pedestal + 1] = ROBOT_ID
        lut[self.robot.body + 1] = ROBOT_ID
        lut[floor + 1] = BACKGROUND_ID
        for name, body in self.bodies.items():
            lut[body + 1] = self.instance_ids[name]
        self.id_lut = lut
        statics = [self.bench_body, pedestal, *(self.bodies[c.name] for c in spec.containers)]
        self._sleep([floor, *statics])
        self.layers = SceneLayers(c, statics, [self.robot.body, *(self.bodies[t.name] for t in spec.tools)])
        self._tool_bodies = [self.bodies[t.name] for t in spec.tools]
        self._tool_com_forms = rotation_forms(np.array([self.frames[t.name].com for t in spec.tools]))
        light = spec.lights[0]
        self.cameras = {cam.name: Camera(cam, light, hardware=self.renderer == "egl") for cam in spec.cameras}
        if self.config.gui:
            c.configureDebugVisualizer(pybullet.COV_ENABLE_RENDERING, 1)
        if settle:
            self.settle()

    def _static_box(self, size, position, rgba) -> int:
        half = [s / 2 for s in size]
        c = self.client
        return c.createMultiBody(
            0.0, c.createCollisionShape(pybullet.GEOM_BOX, halfExtents=half),
            c.createVisualShape(pybullet.GEOM_BOX, halfExtents=half, rgbaColor=rgba), list(position),
            useMaximalCoordinates=True,  # a static rigid body, which never wakes what rests on it
        )

    def settle(self, seconds: float = SETTLE_SECONDS) -> None:
        """Step with the arm holding still while objects come to rest, then put them to sleep.

        Bullet only sleeps a body after 2 s at rest; sleeping them now makes a resting 20-tool bench
        cost ~0.1 ms per physics step instead of ~1.6 ms. Any contact wakes a body again.
        Raises `SceneSettleError` if an object left the bench.
        """
        self.step(int(round(seconds / self.config.timestep)))
        lost = self.fallen_objects()
        if lost:
            raise SceneSettleError(f"objects fell off the bench while settling: {lost}")
        self._sleep(self.bodies.values())
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

    def fallen_objects(self) -> list[str]:
        """Names of tools and containers that are off the bench or below its top."""
        bench = self.spec.bench
        out = []
        for name, body in self.bodies.items():
            lo, hi = (np.asarray(v) for v in self.client.getAABB(body))
            centre = (lo + hi) / 2
            off = np.any(centre[:2] < bench.lo) or np.any(centre[:2] > bench.hi)
            if off or lo[2] < bench.height - _FALL_MARGIN:
                out.append(name)
        return out

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
