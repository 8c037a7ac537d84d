"""Train Stable-Baselines3 PPO on a workbench-gym task with state observations, then save and evaluate it.

    python examples/train_ppo_sb3.py --task ReachTool --n-tools 1 --timesteps 50000 --out runs/ppo_reach

State observations are flattened into one vector (`workbench_gym.envs.wrappers.make_rl_env`: the
instruction text is dropped; the `goal` vector names the target). The reward is the task's dense
reward in [-1, 0] (docs/rl.md). Needs `pip install 'workbench-gym[rl]'`.
"""

from __future__ import annotations

import argparse

from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.wrappers import make_rl_env


def evaluate(model: PPO, task: str, episodes: int, seed: int, **options) -> float:
    """Success rate of the deterministic policy over `episodes` fresh scenes (seeds seed, seed+1, ...)."""
    env = make_rl_env(task, **options)
    successes = 0
    try:
        for i in range(episodes):
            obs, info = env.reset(seed=seed + i)
            done = False
            while not done:
                action, _ = model.predict(obs, deterministic=True)
                obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
            successes += bool(info["is_success"])
    finally:
        env.close()
    return successes / episodes


def build_model(task: str, n_envs: int = 4, seed: int = 0, verbose: int = 1, **options) -> PPO:
    """PPO with an MLP policy on `n_envs` flattened state-observation envs of `task`."""
    env = make_vec_env(lambda: make_rl_env(task, **options), n_envs=n_envs, seed=seed)
    # Short episodes (50 steps for ReachTool) favour a short horizon; the rest are SB3's defaults.
    return PPO("MlpPolicy", env, n_steps=256, batch_size=64, gamma=0.95, seed=seed, verbose=verbose)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="ReachTool")
    parser.add_argument("--n-tools", type=int, default=1)
    parser.add_argument("--control-mode", default="ee_delta", choices=["ee_delta", "joint"])
    parser.add_argument("--timesteps", type=int, default=50_000)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--out", default="runs/ppo", help="model path (.zip is added)")
    args = parser.parse_args()

    options = {"n_tools": args.n_tools, "control_mode": args.control_mode}
    model = build_model(args.task, args.n_envs, args.seed, **options)
    model.learn(total_timesteps=args.timesteps)
    model.save(args.out)
    model.get_env().close()
    rate = evaluate(PPO.load(args.out), args.task, args.eval_episodes, seed=10_000, **options)
    print(f"saved {args.out}.zip; success rate over {args.eval_episodes} held-out scenes: {rate:.2f}")


if __name__ == "__main__":
    main()
