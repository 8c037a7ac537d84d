"""Inverse kinematics for the Panda's grasp point, with PyBullet's damped solver.

Null-space arrays are sized to all movable joints (7 arm + 2 fingers), as PyBullet requires for
`restPoses` to take effect. `solve` is one solver call (enough for small per-step moves);
`solve_to_tolerance` starts from that answer and refines it with damped least squares on
`calculateJacobian` until the grasp point is within tolerance, checking each step with forward
kinematics, then restores the arm's state. (PyBullet's null-space solver alone stalls 2-5 mm
short on a quarter of random reachable poses, measured here.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench_gym.sim.robot import ARM_JOINTS, EE_LINK, FINGER_JOINTS, HOME, Panda

POSITION_TOLERANCE = 0.002  # metres
ANGLE_TOLERANCE = np.radians(2.0)


# The quaternion maths here is hand-written rather than scipy's Rotation, which costs 10-50x more a call on this hot
# path (benchmarks/rotation_cost.py: 1.2 against 60 us per ee_delta step; 5.2 and 10.8 against 63 and 104 us per IK
# iteration for the orientation error and angle).
def top_down_quaternion(yaw: float) -> np.ndarray:
    """Gripper pointing down, turned by `yaw` about the world z axis: q_z(yaw) * q_x(pi)."""
    return np.array([np.cos(yaw / 2), np.sin(yaw / 2), 0.0, 0.0])


def _orientation_error(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Rotation vector (axis * angle, world frame) taking `current` to `target` (quaternions x y z w)."""
    x1, y1, z1, w1 = target
    x2, y2, z2, w2 = -current[0], -current[1], -current[2], current[3]  # conjugate of current
    err = np.array([
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
    ])
    if err[3] < 0:
        err = -err
    return 2.0 * err[:3]  # small-angle rotation vector


def quaternion_angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in radians of the rotation between two unit quaternions."""
    return float(2.0 * np.arccos(np.clip(abs(np.dot(a, b)), 0.0, 1.0)))


@dataclass(frozen=True)
class IKSolution:
    """Arm joint angles and how far the grasp point they give is from the target."""

    joints: np.ndarray
    position_error: float
    angle_error: float

    @property
    def converged(self) -> bool:
        return self.position_error <= POSITION_TOLERANCE and self.angle_error <= ANGLE_TOLERANCE


class InverseKinematics:
    """Joint angles that put the grasp point at a pose, near a rest configuration, within joint limits."""

    def __init__(self, robot: Panda, rest=HOME, iterations: int = 50, tolerance: float = 1e-4):
        self.robot = robot
        self.iterations = iterations
        self.tolerance = tolerance
        lower, upper = robot.lower, robot.upper
        self._lower, self._upper = lower[:7], upper[:7]
        self._limits = dict(
            lowerLimits=lower.tolist(), upperLimits=upper.tolist(), jointRanges=(upper - lower).tolist(),
            restPoses=[*rest, 0.04, 0.04],
        )
        self._rest = np.asarray(rest, float)[:7]

    def solve(self, position, quaternion) -> np.ndarray:
        """Arm joint angles (7) for the grasp point at `position` with orientation `quaternion`."""
        q = self.robot.client.calculateInverseKinematics(
            self.robot.body, EE_LINK, list(position), list(quaternion),
            maxNumIterations=self.iterations, residualThreshold=self.tolerance, **self._limits,
        )
        return np.minimum(np.maximum(q[:7], self._lower), self._upper)  # np.clip is slower on small arrays

    def solve_to_tolerance(self, position, quaternion, steps: int = 30, damping: float = 0.05) -> IKSolution:
        """Joint angles within tolerance of the pose if reachable (else the closest found); the arm's state is restored.

        PyBullet's solver starts from the arm's joints as they are: with the wrist wound near a limit it finds no
        answer for a yaw that the arm reaches from its rest pose, so a failed solve is tried again from there.
        """
        client, body = self.robot.client, self.robot.body
        joints = ARM_JOINTS + FINGER_JOINTS
        saved = [client.getJointState(body, j)[:2] for j in joints]
        target_pos, target_quat = np.asarray(position, float), np.asarray(quaternion, float)
        fingers = [saved[7][0], saved[8][0]]
        try:
            best = self._refine(target_pos, target_quat, fingers, steps, damping)
            if not best.converged:
                for j, v in zip(ARM_JOINTS, self._rest):
                    client.resetJointState(body, j, float(v))
                best = min(best, self._refine(target_pos, target_quat, fingers, steps, damping), key=lambda s: (s.position_error, s.angle_error))
        finally:
            for j, (value, velocity) in zip(joints, saved):
                client.resetJointState(body, j, value, velocity)
        return best

    def _refine(self, target_pos, target_quat, fingers, steps: int, damping: float) -> IKSolution:
        """PyBullet's answer from the arm's joints as they are, refined by damped least squares (moves the arm's state)."""
        client, body, robot = self.robot.client, self.robot.body, self.robot
        q = self.solve(target_pos, target_quat)
        best = None
        for _ in range(steps):
            for j, v in zip(ARM_JOINTS, q):
                client.resetJointState(body, j, float(v))
            pos, quat = robot.ee_pose()
            candidate = IKSolution(q.copy(), float(np.linalg.norm(target_pos - pos)), quaternion_angle(quat, target_quat))
            if best is None or (candidate.position_error, candidate.angle_error) < (best.position_error, best.angle_error):
                best = candidate
            if best.position_error < POSITION_TOLERANCE / 10 and best.angle_error < ANGLE_TOLERANCE / 10:
                break
            linear, angular = client.calculateJacobian(body, EE_LINK, [0, 0, 0], [*q, *fingers], [0.0] * 9, [0.0] * 9)
            jac = np.vstack([np.asarray(linear)[:, :7], np.asarray(angular)[:, :7]])
            error = np.concatenate([target_pos - pos, _orientation_error(target_quat, quat)])
            step = jac.T @ np.linalg.solve(jac @ jac.T + damping**2 * np.eye(6), error)
            q = np.clip(q + step, robot.lower[:7], robot.upper[:7])
        return best
