"""Where to close the fingers on a body's grasp region, from its pose (simulated, or estimated by a planner).

No simulator state here: the oracle passes poses it reads from PyBullet, the VLM planner poses it fits
from depth, and both get the same grasp.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from workbench_gym.scenes.geometry import GraspRegion
from workbench_gym.sim.robot import MAX_FINGER_WIDTH

#: Where successive grasp attempts sit along the grasp region, as fractions of its half length.
GRASP_SLIDES = (0.0, 0.7, -0.7)


def region_grasp(position, rot: np.ndarray, grasp: GraspRegion, slide: float = 0.0) -> tuple[np.ndarray, float]:
    """Grasp point and gripper yaw (in [-pi/2, pi/2)) that close the fingers across a body's grasp region.

    The body lies at `position` with rotation `rot`, known or estimated (the VLM planner fits it from depth).
    At yaw 0 the Panda's fingers close along world y, so the yaw is the closing direction minus 90 deg.
    `slide` in [-1, 1] moves the grasp point along the region, across the closing direction.
    """
    closing = yaw_of(rot) + grasp.closing_yaw
    yaw = (closing - math.pi / 2 + math.pi / 2) % math.pi - math.pi / 2
    along = np.array([math.cos(grasp.closing_yaw + math.pi / 2), math.sin(grasp.closing_yaw + math.pi / 2), 0.0])
    return np.asarray(position) + rot @ (np.asarray(grasp.center) + slide * grasp.half_length * along), yaw


def turned(grasp: GraspRegion, turn: float) -> GraspRegion:
    """The same region with the fingers closing `turn` radians further round (one of `grasp.turns`, or 0)."""
    return replace(grasp, closing_yaw=grasp.closing_yaw + turn) if turn else grasp


def finger_width(grasp: GraspRegion) -> float:
    """How far the fingers open for a grasp region: 2.5 cm wider than it, within the hand's reach."""
    return min(grasp.width + 0.025, MAX_FINGER_WIDTH)


def yaw_of(rot: np.ndarray) -> float:
    """Yaw of a rotation matrix's x axis in the bench plane."""
    return math.atan2(rot[1, 0], rot[0, 0])
