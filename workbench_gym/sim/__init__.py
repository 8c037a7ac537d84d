"""PyBullet simulation of a scene spec: bodies, the Panda and cameras (no tasks, no language)."""

from workbench_gym.sim.camera import Camera, CameraFrame
from workbench_gym.sim.robot import Panda, Proprio
from workbench_gym.sim.world import BACKGROUND_ID, BENCH_ID, FIRST_OBJECT_ID, ROBOT_ID, SceneSettleError, SimConfig, World

__all__ = ["BACKGROUND_ID", "BENCH_ID", "FIRST_OBJECT_ID", "ROBOT_ID", "Camera", "CameraFrame", "Panda", "Proprio", "SceneSettleError", "SimConfig", "World"]
