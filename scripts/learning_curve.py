"""Train SB3 PPO on the simplest variant (ReachTool, one tool, state obs, ee_delta) and plot its learning curve.

    python scripts/learning_curve.py                       # 100k steps, about 20 min on 2 busy cores
    python scripts/learning_curve.py --timesteps 200000    # longer

Every `--eval-every` steps the deterministic policy runs on `--eval-episodes` held-out scenes
(seeds 10000+); the success rate it reaches, with the training curve, goes to
benchmarks/results/learning_curve.json and docs/images/learning_curve.png.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch
from stable_baselines3.common.callbacks import BaseCallback

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
from train_ppo_sb3 import build_model, evaluate  # noqa: E402  (the example is the reference setup)

EVAL_SEED = 10_000


class Curve(BaseCallback):
    """Evaluates the policy every `every` steps; keeps the points."""

    def __init__(self, every: int, episodes: int, options: dict):
        super().__init__()
        self.every, self.episodes, self.options = every, episodes, options
        self.points: list[dict] = []
        self.start = time.perf_counter()
        self.next_eval = 0

    def _record(self) -> None:
        rate = evaluate(self.model, self.options["task"], self.episodes, EVAL_SEED, **self.options["env"])
        train = [float(s) for s in self.model.ep_success_buffer]
        returns = [float(e["r"]) for e in self.model.ep_info_buffer]
        self.points.append({
            "timesteps": int(self.num_timesteps),
            "eval_success_rate": rate,
            "train_success_rate": sum(train) / len(train) if train else None,
            "train_episode_return": sum(returns) / len(returns) if returns else None,
            "wall_seconds": round(time.perf_counter() - self.start, 1),
        })
        print(json.dumps(self.points[-1]), flush=True)

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_eval:
            self._record()
            self.next_eval += self.every
        return True

    def _on_training_end(self) -> None:
        if self.points[-1]["timesteps"] != self.num_timesteps:
            self._record()


def plot(points: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [p["timesteps"] for p in points]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    ax.plot(steps, [p["eval_success_rate"] for p in points], "o-", label="held-out scenes (deterministic)")
    train = [(s, p["train_success_rate"]) for s, p in zip(steps, points) if p["train_success_rate"] is not None]
    if train:
        ax.plot(*zip(*train), "s--", alpha=0.7, label="training episodes (last 100)")
    ax.set(xlabel="environment steps", ylabel="success rate", ylim=(-0.03, 1.03), title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/learning_curve.json"))
    parser.add_argument("--png", default=str(ROOT / "docs/images/learning_curve.png"))
    args = parser.parse_args()

    # A 64-unit MLP gains nothing from more threads; on a shared machine they only contend.
    torch.set_num_threads(1)
    task, env = "ReachTool", {"n_tools": 1, "control_mode": "ee_delta"}
    model = build_model(task, args.n_envs, args.seed, verbose=0, **env)
    curve = Curve(args.eval_every, args.eval_episodes, {"task": task, "env": env})
    start = time.perf_counter()
    model.learn(total_timesteps=args.timesteps, callback=curve)
    model.get_env().close()
    result = {
        "task": task,
        "env_options": {**env, "obs_mode": "state", "wrapper": "make_rl_env (flattened proprio, objects, goal)"},
        "algorithm": "stable-baselines3 PPO (examples/train_ppo_sb3.py: build_model)",
        "timesteps": int(model.num_timesteps),
        "seed": args.seed,
        "eval_episodes": args.eval_episodes,
        "final_eval_success_rate": curve.points[-1]["eval_success_rate"],
        "best_eval_success_rate": max(p["eval_success_rate"] for p in curve.points),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores shared with other jobs",
        "points": curve.points,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    plot(curve.points, Path(args.png), f"PPO on {task}-v0 (1 tool, state obs)")
    print(f"{args.out}: success {result['final_eval_success_rate']:.2f} after {result['timesteps']} steps; {args.png}")


if __name__ == "__main__":
    main()
