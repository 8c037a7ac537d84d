"""Oracle success per task: the upper bound for every planner, and a check on the controllers.

For each task, runs the privileged oracle for N seeded episodes with control_mode="primitive" and
reports success, partial credit, primitives per episode and episodes per minute as JSON.

    python benchmarks/oracle_success.py --episodes 200 --out benchmarks/results/oracle_success.json
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.task import TASKS
from workbench_gym.policies import OraclePlanner
from workbench_gym.registration import env_id


def run_task(task: str, episodes: int, **options) -> dict:
    env = gym.make(env_id(task), control_mode="primitive", **options)
    oracle = OraclePlanner(env)
    successes, credit, primitives, failures = 0, 0.0, 0, []
    start = time.perf_counter()
    try:
        for seed in range(episodes):
            obs, info = env.reset(seed=seed)
            oracle.reset(obs["instruction"])
            done, steps = False, 0
            while not done:
                obs, _, terminated, truncated, info = env.step(oracle.act(obs))
                done, steps = terminated or truncated, steps + 1
            successes += info["is_success"]
            credit += info["progress"]
            primitives += steps
            if not info["is_success"]:
                failures.append({"seed": seed, "instruction": obs["instruction"], "last": info["primitive"]})
    finally:
        env.close()
    minutes = (time.perf_counter() - start) / 60
    return {
        "episodes": episodes,
        "success": successes / episodes,
        "partial_credit": round(credit / episodes, 4),
        "primitives_per_episode": round(primitives / episodes, 2),
        "episodes_per_minute": round(episodes / minutes, 1),
        "failures": failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--tasks", nargs="*", default=sorted(TASKS))
    parser.add_argument("--instruction-split", default="train", choices=["train", "test"])
    parser.add_argument("--variant-split", default="seen", choices=["seen", "unseen"])
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args()
    options = {"instruction_split": args.instruction_split, "variant_split": args.variant_split}
    results = {task: run_task(task, args.episodes, **options) for task in args.tasks}
    emit({"settings": {"episodes": args.episodes, **options}, "results": results}, args.out)


if __name__ == "__main__":
    main()
