"""Low-level action interfaces by `control_mode` name: action space, validation, joint targets.

"ee_delta": (dx, dy, dz, dyaw, gripper) in [-1, 1], scaled to at most 5 cm and 0.25 rad per
step; the gripper value sets the finger opening (-1 closed, +1 open). IK turns the new grasp-point
pose (gripper pointing down) into joint targets.
"joint": (7 joint deltas, gripper) in [-1, 1], scaled to at most 0.1 rad per step.
Values outside [-1, 1] are clipped; wrong shapes and non-finite values raise `ValueError`.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from workbench_gym.control.ik import InverseKinematics, top_down_quaternion
from workbench_gym.sim.robot import MAX_FINGER_WIDTH
from workbench_gym.sim.world import World

EE_STEP = 0.05  # metres per env step at |action| = 1
YAW_STEP = 0.25  # radians per env step
JOINT_STEP = 0.1  # radians per env step
#: Box the grasp point is kept in, relative to (robot base x, y, bench top z).
WORKSPACE = (np.array([0.15, -0.75, 0.0]), np.array([0.85, 0.75, 0.6]))


def check_action(action, space: spaces.Box, control_mode: str) -> np.ndarray:
    """The action as float64 clipped to the space, or `ValueError` naming what is wrong."""
    try:
        arr = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"action must be numeric, got {type(action).__name__}: {action!r}") from None
    if arr.shape != space.shape:
        raise ValueError(f"action has shape {arr.shape}, expected {space.shape} for control_mode={control_mode!r}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"action has non-finite values (NaN or inf) at index {bad.tolist()}: {arr.tolist()}")
    return np.clip(arr, space.low, space.high)


def gripper_width(value: float) -> float:
    return (value + 1.0) / 2.0 * MAX_FINGER_WIDTH


class EEDeltaController:
    """Cartesian steps of the grasp point with a top-down gripper."""

    action_space = spaces.Box(-1.0, 1.0, (5,), np.float32)

    def __init__(self, world: World):
        self.world = world
        # Few iterations suffice: each step's target is within 5 cm of where the hand already is.
        self.ik = InverseKinematics(world.robot, iterations=5)
        base_z = world.spec.bench.height
        self.lo, self.hi = WORKSPACE[0] + [0, 0, base_z], WORKSPACE[1] + [0, 0, base_z]
        self.yaw = 0.0

    def apply(self, action: np.ndarray) -> None:
        position, _ = self.world.robot.ee_pose()
        target = np.clip(position + action[:3] * EE_STEP, self.lo, self.hi)
        self.yaw = float(np.clip(self.yaw + action[3] * YAW_STEP, -np.pi, np.pi))
        self.world.robot.command(self.ik.solve(target, top_down_quaternion(self.yaw)), gripper_width(action[4]))


class JointController:
    """Steps of the arm's joint targets."""

    action_space = spaces.Box(-1.0, 1.0, (8,), np.float32)

    def __init__(self, world: World):
        self.world = world
        self.target = world.robot.joint_state()[0][:7]

    def apply(self, action: np.ndarray) -> None:
        robot = self.world.robot
        self.target = np.clip(self.target + action[:7] * JOINT_STEP, robot.lower[:7], robot.upper[:7])
        robot.command(self.target, gripper_width(action[7]))


CONTROLLERS = {"ee_delta": EEDeltaController, "joint": JointController}
