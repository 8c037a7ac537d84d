"""How often a `reset_mode="reuse"` episode differs from the same seed's `"rebuild"` episode, after shuffled histories.

`"rebuild"` starts a fresh simulation per reset, so its episodes depend on the seed alone: it is
the reference. One `"reuse"` env then plays every seed in several shuffled orders, with a random
number of random-action steps between them (histories of different lengths, woken tools, grasps),
and each episode (the first observation, then the observation and every object's pose after each
of a fixed set of actions that drive the hand into the tools) is compared bit for bit with the
reference. docs/speed.md explains why `"reuse"` cannot promise equality on every history.

    python benchmarks/reset_replay.py --out benchmarks/results/reset_replay.json
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time

import gymnasium as gym
import numpy as np
from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)

#: Down onto the bench, a sweep through the tools, the gripper closing (as tests/test_fast_reset.py drives it).
ACTIONS = [(0, 0, -1, 0, 1)] * 6 + [(1, 0.6, -0.2, 0.5, 1)] * 3 + [(-1, -0.8, 0, -0.5, -1)] * 4 + [(0, 0, 1, 0, -1)] * 2


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def episode(env: gym.Env, seed: int) -> list[str]:
    """Digests of the first observation and of each step's observation and object poses."""
    obs, _ = env.reset(seed=seed)
    world = env.unwrapped.world
    out = [_digest(*(obs[k] for k in sorted(obs) if k != "instruction"))]
    for action in ACTIONS:
        obs = env.step(np.asarray(action, np.float64))[0]
        poses = np.array([sum(world.client.getBasePositionAndOrientation(b), ()) for b in world.bodies.values()])
        out.append(_digest(*(obs[k] for k in sorted(obs) if k != "instruction"), poses))
    return out


def replay(task: str, seeds: list[int], orders: int, tools: int, history_seed: int = 0) -> dict:
    """Reference episodes from `"rebuild"`, then `orders` shuffled passes of one `"reuse"` env over the seeds."""
    options = {"obs_mode": "state", "n_tools": tools}
    ref_env = gym.make(f"workbench_gym/{task}-v0", reset_mode="rebuild", **options)
    reference = {s: episode(ref_env, s) for s in seeds}
    ref_env.close()
    env = gym.make(f"workbench_gym/{task}-v0", reset_mode="reuse", **options)
    env.action_space.seed(history_seed)
    rng = np.random.default_rng(history_seed)
    differing, first_step = [], []
    for order in range(orders):
        for s in rng.permutation(seeds).tolist():
            got = episode(env, s)
            if got != reference[s]:
                differing.append({"order": order, "seed": s})
                first_step.append(next(i for i, (a, b) in enumerate(zip(got, reference[s])) if a != b))
            for _ in range(int(rng.integers(0, 40))):  # a history of its own before the next seed
                if env.step(env.action_space.sample())[2]:
                    break
    env.close()
    return {"task": task, "tools": tools, "seeds": [seeds[0], seeds[-1]], "orders": orders, "episodes": len(seeds) * orders,
            "episodes_differing": len(differing), "differing": differing, "first_differing_step": first_step}


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["PickTool", "SortTools"])
    parser.add_argument("--seeds", type=int, default=60, help="seeds per task, from --first-seed")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--orders", type=int, default=3, help="shuffled passes over the seeds in one reuse env")
    parser.add_argument("--tools", type=int, default=20)
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args()
    start = time.perf_counter()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    runs = [replay(task, seeds, args.orders, args.tools) for task in args.tasks]
    result = {"machine": {"cpu_count": os.cpu_count()}, "settings": vars(args) | {"actions_per_episode": len(ACTIONS)},
              "runs": runs, "episodes": sum(r["episodes"] for r in runs), "episodes_differing": sum(r["episodes_differing"] for r in runs),
              "wall_s": round(time.perf_counter() - start, 1)}
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
