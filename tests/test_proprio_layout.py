"""The proprio vector's layout is exported by name (`sim.robot.PROPRIO_SLICES`), and observations follow it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.sim.robot import PROPRIO_SIZE, PROPRIO_SLICES, Proprio


def test_each_field_sits_where_its_slice_says():
    fields = {"joint_positions": np.arange(9.0), "joint_velocities": 10 + np.arange(9.0), "ee_position": 20 + np.arange(3.0),
              "ee_orientation": 30 + np.arange(4.0), "gripper_width": 40.0}
    vector = Proprio(**fields).vector()
    assert len(vector) == PROPRIO_SIZE == sum(s.stop - s.start for s in PROPRIO_SLICES.values())
    for name, value in fields.items():
        assert np.array_equal(vector[PROPRIO_SLICES[name]], np.atleast_1d(value)), name


def test_an_observation_reads_the_hand_by_name():
    env = gym.make("workbench_gym/ReachTool-v0", n_tools=1)
    try:
        obs, _ = env.reset(seed=0)
        robot = env.unwrapped.world.robot
        position, quaternion = robot.ee_pose()
        q, _ = robot.joint_state()
        proprio = obs["proprio"]
        assert np.allclose(proprio[PROPRIO_SLICES["ee_position"]], position, atol=1e-6)
        assert np.allclose(proprio[PROPRIO_SLICES["ee_orientation"]], quaternion, atol=1e-6)
        assert proprio[PROPRIO_SLICES["gripper_width"]][0] == np.float32(q[7] + q[8])
    finally:
        env.close()
