"""Controllers that turn targets into joint commands: inverse kinematics (motion primitives come later)."""

from workbench_gym.control.ik import InverseKinematics, top_down_quaternion

__all__ = ["InverseKinematics", "top_down_quaternion"]
