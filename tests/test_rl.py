"""RL plumbing: SB3's env checker on flattened state envs, dense rewards that rise with progress, short PPO runs."""

import importlib.util
import math
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import workbench_gym  # noqa: F401
from workbench_gym.envs.wrappers import flatten_state, make_rl_env

pytest.importorskip("stable_baselines3")
torch = pytest.importorskip("torch")
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name: str):
    """Import an example script as a module."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("task", ["ReachTool", "PickTool", "PlaceTool"])
def test_sb3_env_checker_passes_on_flattened_state_envs(task):
    env = make_rl_env(task, n_tools=2)
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            check_env(env)
        assert [str(w.message) for w in record] == []
        assert env.observation_space.dtype == np.float32 and len(env.observation_space.shape) == 1
    finally:
        env.close()


def test_flatten_state_names_what_it_needs():
    env = gym.make("workbench_gym/ReachTool-v0", obs_mode="rgb", n_tools=1, image_size=(32, 32))
    try:
        with pytest.raises(ValueError, match="obs_mode='state'"):
            flatten_state(env)
    finally:
        env.close()
    with pytest.raises(ValueError, match="subset of"):
        make_rl_env("ReachTool", keys=("instruction",), n_tools=1)


def _greedy_reach(env, steps):
    """Step the gripper straight at the goal; the rewards and the last info."""
    obs, _ = env.reset(seed=4)
    rewards, info = [], {}
    for _ in range(steps):
        offset = obs["goal"][3:6]
        obs, reward, terminated, truncated, info = env.step(np.array([*np.clip(offset / 0.05, -1, 1), 0.0, 1.0]))
        rewards.append(reward)
        if terminated:
            break
    return rewards, info, terminated


def test_reach_reward_rises_as_the_gripper_approaches_and_success_ends_at_zero():
    env = gym.make("workbench_gym/ReachTool-v0", n_tools=1)
    try:
        rewards, info, terminated = _greedy_reach(env, 50)
        assert terminated and info["is_success"] and rewards[-1] == 0.0
        shaped = np.array(rewards[:-1])
        assert np.all((shaped >= -1) & (shaped < 0))
        assert shaped[-1] > shaped[0] + 0.5
        assert np.mean(np.diff(shaped) > -1e-3) > 0.9, "approaching raises the reward step after step"
    finally:
        env.close()


def test_sparse_reward_is_minus_one_until_success():
    env = gym.make("workbench_gym/ReachTool-v0", n_tools=1, reward_mode="sparse")
    try:
        rewards, info, terminated = _greedy_reach(env, 50)
        assert terminated and rewards[-1] == 0.0 and set(rewards[:-1]) == {-1.0}
    finally:
        env.close()
    with pytest.raises(ValueError, match="reward_mode"):
        gym.make("workbench_gym/ReachTool-v0", reward_mode="shaped")


def _dense_rewards_during_oracle(task):
    """Run the oracle in primitive control, reading the task's dense reward at every physics step."""
    env = gym.make(f"workbench_gym/{task}-v0", control_mode="primitive", n_tools=3)
    u = env.unwrapped
    trace, held = [], []
    try:
        obs, _ = env.reset(seed=0)
        u.world.step_listeners.append(lambda w: (trace.append(u.task.dense_reward(w)), held.append(u.held)))
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(u.task.oracle(u.world, u.held))
            done = terminated or truncated
        assert info["is_success"]
    finally:
        env.close()
    return np.array(trace), np.array([h is not None for h in held])


def test_pick_reward_stages_reach_grasp_lift():
    trace, held = _dense_rewards_during_oracle("PickTool")
    grasp = np.flatnonzero(held)[0]
    assert trace[0] < 0.35, "far from the tool: little reach credit"
    assert 0.7 <= trace[grasp] < trace[-1], "grasping adds credit and lifting adds more"
    assert trace[-1] == pytest.approx(1.0, abs=0.01)
    lifting = trace[grasp:]
    assert np.all(np.diff(lifting) > -0.02), "the credit does not drop while the tool rises"


def test_place_reward_stages_reach_grasp_carry():
    trace, held = _dense_rewards_during_oracle("PlaceTool")
    grasp, release = np.flatnonzero(held)[[0, -1]]
    assert trace[0] < 0.2
    assert 0.45 <= trace[grasp] < trace[release], "carrying the tool to its bin adds credit"
    assert trace[-1] == 1.0


def test_sb3_ppo_smoke_trains_saves_and_loads(tmp_path):
    example = _example("train_ppo_sb3")
    model = example.build_model("ReachTool", n_envs=1, seed=0, verbose=0, n_tools=1)
    model.n_steps, model.batch_size = 64, 32  # a few hundred steps only
    model.rollout_buffer.buffer_size = 64
    model.rollout_buffer.reset()
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=192)
    after = list(model.policy.parameters())
    assert model.num_timesteps >= 192
    assert all(torch.isfinite(p).all() for p in after)
    assert any(not torch.equal(a, b) for a, b in zip(before, after)), "training changed the policy"
    model.save(tmp_path / "ppo")
    loaded = PPO.load(tmp_path / "ppo")
    obs = model.get_env().reset()
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    model.get_env().close()


def test_clean_ppo_smoke_has_finite_losses_and_reloads(tmp_path):
    example = _example("ppo_clean")
    args = example.Args(total_timesteps=256, num_envs=2, num_steps=64, num_minibatches=2, update_epochs=2, save=str(tmp_path / "agent.pt"))
    agent, stats = example.train(args)
    assert len(stats["policy_loss"]) == 2 and all(math.isfinite(v) for v in stats["policy_loss"] + stats["value_loss"])
    loaded = example.load_agent(args.save)
    x = torch.zeros(1, agent.actor_mean[0].in_features)
    assert torch.equal(agent.actor_mean(x), loaded.actor_mean(x))


def test_clean_ppo_options_come_from_its_args_through_tyro():
    """Every field of the example's `Args` is a command-line option, as in CleanRL (tyro, not hand-written argparse)."""
    import tyro

    example = _example("ppo_clean")
    args = tyro.cli(example.Args, args=["--total-timesteps", "128", "--n-tools", "3", "--no-anneal-lr"])
    assert (args.total_timesteps, args.n_tools, args.anneal_lr) == (128, 3, False)
    with pytest.raises(SystemExit):
        tyro.cli(example.Args, args=["--no-such-option", "1"])
