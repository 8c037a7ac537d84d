"""End-to-end RL throughput: env steps per second while Stable-Baselines3 PPO learns, resets and updates included.

ReachTool-v0 and PickTool-v0 (state observations, ee_delta control; each also with
`reset_mode="reuse"`) and panda-gym's
PandaPickAndPlace-v3 run under the same PPO settings (MultiInputPolicy on Dict observations, same
n_steps, batch size, epochs and network, one torch thread, `DummyVecEnv` of the same size), in
interleaved rounds of one run (ratios to panda-gym are medians of per-round ratios). Env steps/s =
timesteps / wall time of `model.learn`; the share of that time spent inside the envs (steps and
resets) is measured by wrapping them. The same rates per
second of this process's CPU time are reported too: on a shared machine they move less with load.

    python benchmarks/rl_throughput.py --out benchmarks/results/rl_throughput.json
    python benchmarks/rl_throughput.py --quick     # a smoke run, figures not meaningful
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import gymnasium as gym
from gymnasium.wrappers import FilterObservation
from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)

#: Issue 15's target: PPO env steps/s on PickTool over panda-gym PickAndPlace's.
TARGET_PICK_RATIO = 1.5


class EnvClock(gym.Wrapper):
    """Adds the wall time spent in `step` and `reset` to a shared counter."""

    def __init__(self, env: gym.Env, totals: dict):
        super().__init__(env)
        self.totals = totals

    def step(self, action):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return self.env.step(action)
        finally:
            self.totals["step_s"] += time.perf_counter() - start
            self.totals["env_cpu_s"] += time.process_time() - cpu

    def reset(self, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return self.env.reset(**kwargs)
        finally:
            self.totals["reset_s"] += time.perf_counter() - start
            self.totals["env_cpu_s"] += time.process_time() - cpu
            self.totals["resets"] += 1


def make_env(side: str, n_tools: int) -> gym.Env:
    """One env of a side ("PickTool", or "PickTool reuse" for `reset_mode="reuse"`), with Dict-of-Box observations for SB3's MultiInputPolicy."""
    if side == "PandaPickAndPlace-v3":
        import panda_gym  # noqa: F401  (registers panda-gym's envs)

        return gym.make(side)
    task, *mode = side.split()
    env = gym.make(f"workbench_gym/{task}-v0", obs_mode="state", control_mode="ee_delta", n_tools=n_tools, **({"reset_mode": mode[0]} if mode else {}))
    return FilterObservation(env, ["proprio", "objects", "goal"])  # SB3 takes no Text spaces


def run(side: str, args, seed: int, device: str = "cpu") -> dict:
    """One PPO learning run of `args.timesteps` env steps on `side` (torch on `device`); rates and time split."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    torch.set_num_threads(1)
    totals = {"step_s": 0.0, "reset_s": 0.0, "env_cpu_s": 0.0, "resets": 0}
    venv = DummyVecEnv([lambda: EnvClock(make_env(side, args.tools), totals) for _ in range(args.envs)])
    venv.seed(seed)
    model = PPO("MultiInputPolicy", venv, n_steps=args.n_steps, batch_size=args.batch_size, n_epochs=args.epochs,
                gamma=0.95, policy_kwargs={"net_arch": [64, 64]}, seed=seed, device=device, verbose=0)
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=args.timesteps)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    venv.close()
    steps = model.num_timesteps
    return {"env_steps_per_s": steps / wall, "env_only_steps_per_s": steps / (totals["step_s"] + totals["reset_s"]),
            "env_steps_per_cpu_s": steps / cpu, "env_only_steps_per_cpu_s": steps / totals["env_cpu_s"],
            "share_in_env": (totals["step_s"] + totals["reset_s"]) / wall, "share_in_resets": totals["reset_s"] / wall,
            "resets": totals["resets"], "timesteps": steps}


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=8192, help="env steps per learning run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per side")
    parser.add_argument("--envs", type=int, default=4, help="envs in each DummyVecEnv")
    parser.add_argument("--n-steps", type=int, default=256, help="PPO rollout steps per env")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--tools", type=int, default=20, help="tools on the bench (PickTool; ReachTool uses 1, as in docs/rl.md)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 round of 256 steps")
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args()
    if args.quick:
        args.timesteps, args.rounds, args.n_steps, args.batch_size, args.epochs = 256, 1, 64, 64, 1
    sides = ["ReachTool", "ReachTool reuse", "PickTool", "PickTool reuse", "PandaPickAndPlace-v3"]
    samples: dict[str, list[dict]] = {side: [] for side in sides}
    for r in range(args.rounds):
        for side in sides:
            tools = 1 if side.startswith("ReachTool") else args.tools
            samples[side].append(run(side, argparse.Namespace(**{**vars(args), "tools": tools}), seed=r))
    med = {side: {k: round(statistics.median(s[k] for s in runs), 3 if k.startswith("share") else 1) for k in runs[0]}
           for side, runs in samples.items()}
    panda = samples["PandaPickAndPlace-v3"]

    def ratio(side: str, key: str) -> float:
        """Median over rounds of the side's rate over panda-gym's in the same round (the load moves between rounds)."""
        return round(statistics.median(a[key] / b[key] for a, b in zip(samples[side], panda)), 2)

    result = {
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()},
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "ppo": "SB3 PPO, MultiInputPolicy, net_arch [64, 64], gamma 0.95, DummyVecEnv, torch 1 thread, CPU",
        "median": med,
        "ratio_vs_panda_gym": {side: ratio(side, "env_steps_per_s") for side in sides[:-1]},
        "ratio_vs_panda_gym_cpu": {side: ratio(side, "env_steps_per_cpu_s") for side in sides[:-1]},
        "target_pick_ratio": TARGET_PICK_RATIO,
        "samples": samples,
    }
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
