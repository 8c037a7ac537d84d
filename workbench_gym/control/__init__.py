"""Controllers that turn targets into joint commands: inverse kinematics and pick/place motion primitives."""

from workbench_gym.control.ik import IKSolution, InverseKinematics, top_down_quaternion
from workbench_gym.control.primitives import MotionPrimitives, PrimitiveConfig, PrimitiveResult, Reason

__all__ = ["IKSolution", "InverseKinematics", "MotionPrimitives", "PrimitiveConfig", "PrimitiveResult", "Reason", "top_down_quaternion"]
