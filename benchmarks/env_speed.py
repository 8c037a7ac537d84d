"""Env stepping and camera speed, beside panda-gym and stock PyBullet rendering, in one run.

Prints JSON (and writes it with --out). Figures are medians over interleaved rounds, so both
sides of each ratio see the same machine load. Needs the `bench` extra (panda-gym).

    python benchmarks/env_speed.py --out benchmarks/results/env_speed.json
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import gymnasium as gym
import numpy as np
import pybullet
import pybullet_data
from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.scenes.spec import BenchSpec, default_cameras


def step_rate(env: gym.Env, steps: int, seed: int = 0) -> float:
    """Env steps per second under uniform random actions; reset time is not counted."""
    env.action_space.seed(seed)
    env.reset(seed=seed)
    elapsed, done = 0.0, False
    for _ in range(steps):
        if done:
            env.reset()
        action = env.action_space.sample()
        start = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        elapsed += time.perf_counter() - start
        done = terminated or truncated
    return steps / elapsed


def reset_rate(env: gym.Env, resets: int) -> float:
    start = time.perf_counter()
    for seed in range(resets):
        env.reset(seed=seed)
    return resets / (time.perf_counter() - start)


def camera_fps(env: gym.Env, frames: int, camera: str = "front") -> float:
    """Frames per second of one camera rendering RGB, depth and segmentation."""
    world = env.unwrapped.world
    start = time.perf_counter()
    for _ in range(frames):
        world.render(camera)
    return frames / (time.perf_counter() - start)


def stock_render_fps(frames: int, size: int = 128, cubes: int = 30) -> float:
    """Baseline: stock TinyRenderer, pybullet_data's Panda with its full visual meshes and 30 cubes.

    The camera frames the arm as our front camera does (same pose relative to the arm's base).
    """
    cid = pybullet.connect(pybullet.DIRECT)
    try:
        pybullet.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=cid)
        pybullet.loadURDF("franka_panda/panda.urdf", [0, 0, 0], useFixedBase=True, physicsClientId=cid)
        for i in range(cubes):
            pybullet.loadURDF("cube_small.urdf", [0.35 + 0.06 * (i % 6), -0.15 + 0.06 * (i // 6), 0.025], physicsClientId=cid)
        front = next(c for c in default_cameras() if c.name == "front")
        drop = np.array([0, 0, BenchSpec().height])  # our arm stands on the bench top
        view = pybullet.computeViewMatrix(list(np.asarray(front.eye) - drop), list(np.asarray(front.target) - drop), list(front.up))
        proj = pybullet.computeProjectionMatrixFOV(front.fov, 1, front.near, front.far)
        start = time.perf_counter()
        for _ in range(frames):
            pybullet.getCameraImage(size, size, view, proj, renderer=pybullet.ER_TINY_RENDERER, physicsClientId=cid)
        return frames / (time.perf_counter() - start)
    finally:
        pybullet.disconnect(cid)


def panda_gym_env() -> tuple[gym.Env, float] | None:
    try:
        import panda_gym  # noqa: F401
    except ImportError:
        return None
    env = gym.make("PandaPickAndPlace-v3")
    sim = env.unwrapped.sim
    return env, 1.0 / (sim.timestep * sim.n_substeps)


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1000, help="env steps per round")
    parser.add_argument("--frames", type=int, default=200, help="camera frames per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", type=int, default=20)
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args()

    ours = gym.make("workbench_gym/PickTool-v0", obs_mode="state", n_tools=args.tools)
    camera_env = gym.make("workbench_gym/PickTool-v0", obs_mode="rgbd_seg", n_tools=args.tools, cameras=("front",))
    camera_env.reset(seed=0)
    theirs = panda_gym_env()
    samples: dict[str, list[float]] = {k: [] for k in ("ours_steps", "theirs_steps", "ours_fps", "stock_fps", "ours_resets")}
    for r in range(args.rounds):
        samples["ours_steps"].append(step_rate(ours, args.steps, seed=r))
        if theirs:
            samples["theirs_steps"].append(step_rate(theirs[0], args.steps, seed=r))
        samples["ours_fps"].append(camera_fps(camera_env, args.frames))
        samples["stock_fps"].append(stock_render_fps(args.frames))
        samples["ours_resets"].append(reset_rate(ours, 10))
    med = {k: statistics.median(v) if v else None for k, v in samples.items()}
    cfg = ours.unwrapped.config
    result = {
        "machine": {"cpu_count": __import__("os").cpu_count(), "python": platform.python_version(), "pybullet": pybullet.__version__ if hasattr(pybullet, "__version__") else "3.2.7"},
        "settings": {"tools": args.tools, "steps_per_round": args.steps, "frames_per_round": args.frames, "rounds": args.rounds},
        "env_steps_per_s": {
            "workbench_gym_PickTool_state_20_tools": round(med["ours_steps"], 1),
            "control_freq_hz": cfg.control_freq,
            "panda_gym_PandaPickAndPlace_v3": round(med["theirs_steps"], 1) if theirs else None,
            "panda_gym_control_freq_hz": theirs[1] if theirs else None,
            "ratio_vs_panda_gym": round(med["ours_steps"] / med["theirs_steps"], 2) if theirs else None,
            "target_ratio": 2.0,  # issue 6
        },
        "camera_fps_128_rgbd_seg": {
            "workbench_gym_front_20_tools": round(med["ours_fps"], 1),
            "stock_tinyrenderer_full_panda_30_cubes": round(med["stock_fps"], 1),
            "ratio_vs_stock": round(med["ours_fps"] / med["stock_fps"], 2),
            "target_ratio": 5.0,
        },
        "resets_per_s_20_tools": round(med["ours_resets"], 2),
        "samples": {k: [round(x, 1) for x in v] for k, v in samples.items()},
    }
    for env in (ours, camera_env, *(theirs[:1] if theirs else ())):
        env.close()
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
