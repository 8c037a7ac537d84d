"""Resting poses of catalog variants lying on the bench, found once per process by letting each one settle alone.

The sampler lays tools flat, 0.5 mm above the bench. Lying there they are not at rest: a
screwdriver tips onto its handle, a nut's collision margin holds it 1 mm up, and dropped that way
a 20-tool bench took 45 physics steps (a third of a reset) to stop bouncing. A variant's resting
height and tilt do not depend on where it lies or which way it points, so each is found once, in a
private client, and a world places flat tools straight into them (see `World.build`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pybullet

from workbench_gym.scenes.geometry import build_geometry
from workbench_gym.scenes.parts import quat_from_euler, quat_to_matrix
from workbench_gym.scenes.spec import BenchSpec
from workbench_gym.sim.bodies import BodyDynamics, apply_dynamics, create_body, create_variant_shapes, variant_dynamics
from workbench_gym.sim.client import FastBulletClient

SETTLE_SECONDS = 1.0  # long enough for every variant to stop tipping
#: Most a flat object may sit above the bench top and still count as lying on it (the sampler's clearance is 0.5 mm).
LYING_CLEARANCE = 2e-3


@dataclass(frozen=True)
class RestPose:
    """Where a variant rests on a plane: its spec origin's height above the plane and its tilt (a quaternion without yaw)."""

    height: float
    tilt: tuple[float, float, float, float]


def lies_flat_on(position, rpy, bench: BenchSpec) -> bool:
    """Whether a spec pose lays an object flat on the bench top (not tilted, not raised)."""
    return rpy[0] == 0.0 and rpy[1] == 0.0 and 0.0 <= position[2] - bench.height <= LYING_CLEARANCE


@lru_cache(maxsize=None)
def rest_pose(category: str, size: str, timestep: float, solver_iterations: int, solver_residual_threshold: float) -> RestPose:
    """Let one tool of the variant settle alone on a bench-like box with the given physics settings."""
    client = FastBulletClient(pybullet.DIRECT)
    try:
        client.setGravity(0, 0, -9.81)
        client.setPhysicsEngineParameter(
            fixedTimeStep=timestep, numSolverIterations=solver_iterations,
            solverResidualThreshold=solver_residual_threshold, deterministicOverlappingPairs=1,
        )
        bench = BenchSpec()
        half = [s / 2 for s in bench.size]
        top = client.createMultiBody(0.0, client.createCollisionShape(pybullet.GEOM_BOX, halfExtents=half), -1,
                                     [*bench.center, bench.height - half[2]], useMaximalCoordinates=True)
        client.changeDynamics(top, -1, activationState=pybullet.ACTIVATION_STATE_SLEEP)
        geometry = build_geometry(category, size)
        shapes = create_variant_shapes(client, geometry)
        mass, friction = variant_dynamics(geometry)
        start = (*bench.center, bench.height + 5e-4)
        body = create_body(client, shapes, mass, shapes.frame.to_bullet(start, (0, 0, 0, 1))[0])
        apply_dynamics(client, body, BodyDynamics(mass, friction))
        for _ in range(int(round(SETTLE_SECONDS / timestep))):
            client.stepSimulation()
        origin, quaternion = shapes.frame.from_bullet(*client.getBasePositionAndOrientation(body))
    finally:
        client.disconnect()
    yaw = pybullet.getEulerFromQuaternion(quaternion.tolist())[2]
    tilt = pybullet.multiplyTransforms((0, 0, 0), quat_from_euler(0.0, 0.0, -yaw), (0, 0, 0), quaternion.tolist())[1]
    return RestPose(float(origin[2] - bench.height), tuple(float(v) for v in np.asarray(tilt) / np.linalg.norm(tilt)))


def resting_quaternion(pose: RestPose, yaw: float) -> tuple[float, float, float, float]:
    """The rest tilt turned to a yaw about the world's vertical."""
    return tuple(pybullet.multiplyTransforms((0, 0, 0), quat_from_euler(0.0, 0.0, yaw), (0, 0, 0), pose.tilt)[1])


@lru_cache(maxsize=None)
def resting_top(category: str, size: str, timestep: float, solver_iterations: int, solver_residual_threshold: float) -> float:
    """Height above the bench of a resting variant's highest drawn point: the top a depth camera sees (to 0.1-0.8 mm)."""
    pose = rest_pose(category, size, timestep, solver_iterations, solver_residual_threshold)
    vertices = np.concatenate([part.mesh().vertices for part in build_geometry(category, size).parts])
    return float(pose.height + (vertices @ quat_to_matrix(pose.tilt).T)[:, 2].max())
