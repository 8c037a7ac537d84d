"""Privileged grasp geometry of a tool in the world, for rewards, oracles and grasp benchmarks."""

from __future__ import annotations

import math

import numpy as np

from workbench_gym.scenes.parts import quat_to_matrix
from workbench_gym.scenes.spec import ObjectSpec
from workbench_gym.envs.high_level import Pick
from workbench_gym.sim.robot import FINGER_JOINTS, MAX_FINGER_WIDTH
from workbench_gym.sim.world import World


def grasp_point(world: World, tool: ObjectSpec) -> np.ndarray:
    """World position of a tool's grasp-region centre."""
    position, quaternion = world.object_pose(tool.name)
    return position + quat_to_matrix(quaternion) @ np.asarray(tool.geometry.grasp.center)


def grasp_pose(world: World, tool: ObjectSpec) -> tuple[np.ndarray, float]:
    """Grasp point and gripper yaw (in [-pi/2, pi/2)) that close the fingers across the grasp region.

    At yaw 0 the Panda's fingers close along world y, so the yaw is the closing direction minus 90 deg.
    """
    position, quaternion = world.object_pose(tool.name)
    rot = quat_to_matrix(quaternion)
    closing = math.atan2(rot[1, 0], rot[0, 0]) + tool.geometry.grasp.closing_yaw
    yaw = (closing - math.pi / 2 + math.pi / 2) % math.pi - math.pi / 2
    return position + rot @ np.asarray(tool.geometry.grasp.center), yaw


def grasp_action(world: World, tool: ObjectSpec) -> Pick:
    """The privileged Pick of a tool: its grasp pose, fingers opened 2.5 cm wider than the grasp region."""
    position, yaw = grasp_pose(world, tool)
    return Pick((*position, yaw), min(tool.geometry.grasp.width + 0.025, MAX_FINGER_WIDTH))


def fingers_touching(world: World, tool: ObjectSpec) -> bool:
    """Whether both finger pads touch the tool."""
    body, robot = world.bodies[tool.name], world.robot.body
    return all(world.client.getContactPoints(robot, body, linkIndexA=link) for link in FINGER_JOINTS)
