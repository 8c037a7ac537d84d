"""Privileged grasp and placement geometry of tools in the world, for rewards, success checks and oracles.

The pose-to-grasp geometry itself (`region_grasp`, `finger_width`) is `control.grasp_regions`, which planners use too.
"""

from __future__ import annotations

import math

import numpy as np

from workbench_gym.control.grasp_regions import GRASP_SLIDES, finger_width, region_grasp, yaw_of
from workbench_gym.envs.high_level import Pick, Place
from workbench_gym.scenes.geometry import container_interior
from workbench_gym.scenes.parts import quat_from_euler, quat_to_matrix
from workbench_gym.scenes.spec import ObjectSpec
from workbench_gym.sim.robot import FINGER_JOINTS
from workbench_gym.sim.world import World


def grasp_point(world: World, tool: ObjectSpec) -> np.ndarray:
    """World position of a tool's grasp-region centre."""
    return grasp_pose(world, tool)[0]


def grasp_pose(world: World, tool: ObjectSpec, slide: float = 0.0) -> tuple[np.ndarray, float]:
    """Grasp point and gripper yaw of a tool at its simulated pose (privileged); see `region_grasp`."""
    position, quaternion = world.object_pose(tool.name)
    return region_grasp(position, quat_to_matrix(quaternion), tool.geometry.grasp, slide)


def grasp_action(world: World, tool: ObjectSpec, attempt: int = 0) -> Pick:
    """The privileged Pick of a tool: its grasp pose, fingers opened 2.5 cm wider than the grasp region.

    Retries (`attempt` 1, 2, ...) slide along the grasp region, away from whatever blocked the fingers.
    """
    position, yaw = grasp_pose(world, tool, GRASP_SLIDES[attempt % len(GRASP_SLIDES)])
    return Pick((*position, yaw), finger_width(tool.geometry.grasp))


def place_action(world: World, held: ObjectSpec, xy, floor_z: float, tool_yaw: float | None = None) -> Place:
    """The privileged Place that sets a held tool down at `xy` on a floor at height `floor_z`.

    The tool is released 1.5 cm above the floor; with `tool_yaw`, the wrist turns so the tool's long
    axis lies along that direction (either way round).
    """
    ee_position, ee_quaternion = world.robot.ee_pose()
    grip_height = ee_position[2] - world.client.getAABB(world.bodies[held.name])[0][2]
    gripper_yaw = yaw_of(quat_to_matrix(ee_quaternion))
    if tool_yaw is not None:
        current = yaw_of(quat_to_matrix(world.object_pose(held.name)[1]))
        gripper_yaw += tool_yaw - current
    gripper_yaw = (gripper_yaw + math.pi / 2) % math.pi - math.pi / 2
    return Place((float(xy[0]), float(xy[1]), floor_z + grip_height + 0.015, gripper_yaw))


def inside(world: World, tool: ObjectSpec, container: ObjectSpec) -> bool:
    """Whether a tool's centre lies over a container's inner floor, below its rim."""
    lo, hi = (np.asarray(v) for v in world.client.getAABB(world.bodies[tool.name]))
    centre = (lo + hi) / 2
    rot = quat_to_matrix(quat_from_euler(*container.pose.rpy))
    local = rot.T @ (centre - np.asarray(container.pose.position))
    inner_lo, inner_hi = container_interior(container.category, container.size)
    rim = container.geometry.bounds[1, 2]
    return bool(np.all(local[:2] >= inner_lo) and np.all(local[:2] <= inner_hi) and local[2] < rim)


def fingers_touching(world: World, tool: ObjectSpec) -> bool:
    """Whether both finger pads touch the tool."""
    body, robot = world.bodies[tool.name], world.robot.body
    return all(world.client.getContactPoints(robot, body, linkIndexA=link) for link in FINGER_JOINTS)
