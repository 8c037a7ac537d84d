"""ChainTools-v0: per-step scoring on hand-built end states, the chain's end, and the oracle solving chains."""

import gymnasium as gym
import numpy as np

from workbench_gym.envs.high_level import Answer, Ask, Done
from workbench_gym.envs.tasks.chain_tools import CHAIN_LENGTH
from workbench_gym.envs.tasks.clarify_tool import ClarifyTool
from workbench_gym.envs.tasks.count_tools import CountTools
from workbench_gym.envs.tasks.goals import LIFT_HEIGHT
from workbench_gym.envs.tasks.placement import PlacementTask

OPTIONS = {"control_mode": "primitive", "image_size": (32, 32)}


def finish_step(u) -> None:
    """Build the current step's end state by hand (teleporting tools, or saying the answer)."""
    task, world = u.task.current, u.world
    if isinstance(task, CountTools):
        task.hear(Answer(str(task.expected).lower() if not isinstance(task.expected, bool) else ("yes" if task.expected else "no")), world)
    elif isinstance(task, PlacementTask):
        for placed, (tool, zone) in enumerate(task.goals):
            world.set_object_pose(tool, (*zone.slot(placed), zone.floor_z + 0.002), (0.0, 0.0, zone.yaw))
    else:
        if isinstance(task, ClarifyTool):
            task.hear(Ask("which one?"), world)
        position = world.object_pose(task.target.name)[0]
        world.set_object_pose(task.target, (position[0], position[1], world.spec.bench.height + LIFT_HEIGHT + 0.05))


def test_steps_are_scored_one_by_one_on_hand_built_end_states():
    env = gym.make("workbench_gym/ChainTools-v0", **OPTIONS)
    try:
        obs, info = env.reset(seed=5101)
        u = env.unwrapped
        first = obs["instruction"]
        assert info["goal"]["length"] == CHAIN_LENGTH and info["goal"]["first_task"] == u.task.steps[0]["task"]
        assert u.task.advance(u.world) is None and u.task.completed == 0, "nothing done yet: no next instruction"
        seen = [first]
        for k in range(1, CHAIN_LENGTH + 1):
            finish_step(u)
            instruction = u.task.advance(u.world)
            assert u.task.completed == k and u.task.steps[k - 1]["success"]
            if k < CHAIN_LENGTH:
                assert instruction and instruction == u.task.steps[k]["instruction"]
                assert u.task.steps[k]["task"] != u.task.steps[k - 1]["task"], "a step never repeats the one before"
                seen.append(instruction)
                assert not u.task.is_success(u.world) and u.task.progress(u.world) == k / CHAIN_LENGTH
        assert u.task.is_success(u.world) and u.task.progress(u.world) == 1.0
        assert len(u.task.step_info(u.world)["chain"]["steps"]) == CHAIN_LENGTH
    finally:
        env.close()


def test_done_before_a_step_is_done_ends_the_chain():
    env = gym.make("workbench_gym/ChainTools-v0", **OPTIONS)
    try:
        obs, _ = env.reset(seed=5102)
        finish_step(env.unwrapped)
        obs, reward, terminated, truncated, info = env.step(Ask("anything else?"))  # step 1 was done by hand: step 2 comes
        assert info["chain"]["completed"] == 1 and info["chain"]["steps"][0]["success"]
        assert obs["instruction"] == info["chain"]["steps"][1]["instruction"] and not (terminated or truncated)
        obs, reward, terminated, truncated, info = env.step(Done())
        assert terminated and not info["is_success"] and info["chain"]["completed"] == 1
        assert np.isclose(info["progress"], 1 / CHAIN_LENGTH)
    finally:
        env.close()
