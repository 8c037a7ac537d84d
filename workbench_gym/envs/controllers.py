"""Low-level action interfaces by `control_mode` name: action space, validation, joint targets.

"ee_delta": (dx, dy, dz, dyaw, gripper) in [-1, 1], scaled to at most 5 cm and 0.25 rad per
step; the gripper value sets the finger opening (-1 closed, +1 open). IK turns the new grasp-point
pose (gripper pointing down) into joint targets.
"joint": (7 joint deltas, gripper) in [-1, 1], scaled to at most 0.1 rad per step.
"joint_target": (7 joint angles in radians, finger opening in metres, grasp assist in [0, 1]):
the absolute targets the motion primitives send, so recorded demonstrations replay in it.
Values outside [-1, 1] are clipped; wrong shapes and non-finite values raise `ValueError`.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from workbench_gym.control.ik import InverseKinematics, top_down_quaternion
from workbench_gym.control.primitives import touching_both_pads, weld_to_hand
from workbench_gym.registry import Registry
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
    return np.minimum(np.maximum(arr, space.low), space.high)


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
        target = np.minimum(np.maximum(position + action[:3] * EE_STEP, self.lo), self.hi)  # np.clip is slower on small arrays
        self.yaw = min(max(self.yaw + float(action[3]) * YAW_STEP, -np.pi), np.pi)
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


#: The Panda's arm joint limits in radians (pybullet_data's panda.urdf).
ARM_LOWER = np.array([-2.9671, -1.8326, -2.9671, -3.1416, -2.9671, -0.0873, -2.9671], np.float32)
ARM_UPPER = np.array([2.9671, 1.8326, 2.9671, 0.0, 2.9671, 3.8223, 2.9671], np.float32)


class JointTargetController:
    """Absolute joint targets, finger opening and the assisted grasp, as `MotionPrimitives` drive the arm.

    While the grasp assist is above 0.5, a tool that both finger pads touch is welded to the hand
    (as the primitives do); once it drops to 0.5 or below, the weld is released.
    """

    action_space = spaces.Box(np.r_[ARM_LOWER, 0.0, 0.0], np.r_[ARM_UPPER, MAX_FINGER_WIDTH, 1.0], dtype=np.float32)

    def __init__(self, world: World):
        self.world = world
        self.held: str | None = None
        self._weld: int | None = None

    def apply(self, action: np.ndarray) -> None:
        if action[8] > 0.5 and self._weld is None:
            self.held = touching_both_pads(self.world)
            if self.held is not None:
                self._weld = weld_to_hand(self.world, self.held)
        elif action[8] <= 0.5 and self._weld is not None:
            self.world.client.removeConstraint(self._weld)
            self._weld, self.held = None, None
        self.world.robot.command(action[:7], action[7])


#: Low-level control modes by name ("primitive", high-level actions, is the env's own: `envs.high_level`).
CONTROLLERS: Registry[type] = Registry("control mode")
CONTROLLERS.register("ee_delta", EEDeltaController)
CONTROLLERS.register("joint", JointController)
CONTROLLERS.register("joint_target", JointTargetController)
