"""Inverse kinematics for the Panda's grasp point, with PyBullet's damped solver.

Null-space arrays are sized to all movable joints (7 arm + 2 fingers), as PyBullet requires for
`restPoses` to take effect; the solver iterates until the residual is below `tolerance`.
"""

from __future__ import annotations

import numpy as np

from workbench_gym.sim.robot import EE_LINK, HOME, Panda

TOP_DOWN = np.array([1.0, 0.0, 0.0, 0.0])  # gripper pointing at the bench, fingers closing along world y


def top_down_quaternion(yaw: float) -> np.ndarray:
    """Gripper pointing down, turned by `yaw` about the world z axis."""
    half = yaw / 2
    # TOP_DOWN (180 deg about x) preceded by a world-z rotation of yaw: q = q_z(yaw) * q_x(pi)
    return np.array([np.cos(half), np.sin(half), 0.0, 0.0])


class InverseKinematics:
    """Joint angles that put the grasp point at a pose, near a rest configuration."""

    def __init__(self, robot: Panda, rest=HOME, iterations: int = 50, tolerance: float = 1e-4):
        self.robot = robot
        self.iterations = iterations
        self.tolerance = tolerance
        lower, upper = robot.lower, robot.upper
        self._limits = dict(
            lowerLimits=lower.tolist(), upperLimits=upper.tolist(), jointRanges=(upper - lower).tolist(),
            restPoses=[*rest, 0.04, 0.04],
        )

    def solve(self, position, quaternion) -> np.ndarray:
        """Arm joint angles (7) for the grasp point at `position` with orientation `quaternion`."""
        q = self.robot.client.calculateInverseKinematics(
            self.robot.body, EE_LINK, list(position), list(quaternion),
            maxNumIterations=self.iterations, residualThreshold=self.tolerance, **self._limits,
        )
        return np.clip(np.asarray(q[:7]), self.robot.lower[:7], self.robot.upper[:7])
