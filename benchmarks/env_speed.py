"""Resets, env steps and camera speed, beside panda-gym, stock PyBullet rendering and an older workbench-gym, in one run.

Prints JSON (and writes it with --out). Figures are medians over interleaved rounds, so every side
of a ratio sees the same machine load. `--baseline-commit REV` measures the same figures with the
package as it was at a git revision (extracted with `git archive`, run in a child process each
round), which is how before/after pairs are taken. Needs the `bench` extra (panda-gym).

    python benchmarks/env_speed.py --out benchmarks/results/env_speed.json
    python benchmarks/env_speed.py --baseline-commit e7f1d92 --out benchmarks/results/resets_before_after.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time

import baseline  # benchmarks/baseline.py
import gymnasium as gym
import numpy as np
import pybullet
import pybullet_data
from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.config import EnvConfig
from workbench_gym.scenes.spec import BenchSpec, default_cameras

OURS = "workbench_gym/PickTool-v0"
#: Targets of issue 15: resets/s with 1 and 20 tools, pixel steps/s (front + wrist 128x128 RGB-D-seg).
TARGETS = {"resets_per_s_1_tool": 300, "resets_per_s_20_tools": 100, "pixel_steps_per_s": 150}
#: Resets are timed with each reset path a package has: the default, and "reuse" where it exists.


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


def reset_rate(env: gym.Env, resets: int, first_seed: int = 0) -> float:
    """`reset(seed=s)` calls per second over `resets` distinct seeds."""
    start = time.perf_counter()
    for seed in range(first_seed, first_seed + resets):
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


class Ours:
    """The workbench-gym envs one round measures, made once (a reused env is the RL case)."""

    def __init__(self, args):
        self.args = args
        # Packages before issue 15 had one reset path; later ones also time `reset_mode="reuse"`.
        modes = [{}] + ([{"reset_mode": "reuse"}] if "reset_mode" in {f.name for f in dataclasses.fields(EnvConfig)} else [])
        self.resets = {(n, tuple(m.values())): gym.make(OURS, obs_mode="state", n_tools=n, **m) for m in modes for n in (1, args.tools)}
        self.state = gym.make(OURS, obs_mode="state", n_tools=args.tools)
        self.pixels = gym.make(OURS, obs_mode="rgbd_seg", n_tools=args.tools, cameras=("front", "wrist"), image_size=(128, 128))
        self.camera = gym.make(OURS, obs_mode="rgbd_seg", n_tools=args.tools, cameras=("front",))
        self.camera.reset(seed=0)
        for env in self.resets.values():  # first builds and the body pool's growth are not what RL runs see
            reset_rate(env, args.warmup, first_seed=5000)
        self.round = 0

    def measure(self) -> dict[str, float]:
        a, r = self.args, self.round
        self.round += 1
        first = r * a.resets  # fresh seeds each round, below 10,000 (the development range)
        out = {f"resets_per_s_{n}_tool{'s' if n > 1 else ''}{''.join('_' + m for m in mode)}": reset_rate(env, a.resets, first)
               for (n, mode), env in self.resets.items()}
        out["state_steps_per_s"] = step_rate(self.state, a.steps, seed=r)
        out["pixel_steps_per_s"] = step_rate(self.pixels, a.pixel_steps, seed=r)
        out["camera_fps_front_128"] = camera_fps(self.camera, a.frames)
        out["scenery_builds"] = sum(getattr(env.unwrapped.world, "scenery_builds", 0) for env in self.resets.values())
        return out

    def close(self):
        for env in (*self.resets.values(), self.state, self.pixels, self.camera):
            env.close()


def baseline_side(src: str, args) -> baseline.Child:
    """The same measurements in a child process that imports `workbench_gym` from another source tree."""
    return baseline.Child(src, __file__, ["--child", "--tools", str(args.tools), "--resets", str(args.resets), "--steps", str(args.steps),
                                          "--pixel-steps", str(args.pixel_steps), "--frames", str(args.frames), "--warmup", str(args.warmup)])


def child(args) -> None:
    """Answer each "round" line on stdin with one line of JSON measurements (the baseline side)."""
    ours = Ours(args)
    for _ in sys.stdin:
        print(json.dumps(ours.measure()), flush=True)
    ours.close()


def _median(samples: list[dict], key: str) -> float | None:
    values = [s[key] for s in samples if s.get(key) is not None]
    return round(statistics.median(values), 1) if values else None


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1000, help="state env steps per round")
    parser.add_argument("--pixel-steps", type=int, default=200, help="pixel env steps per round")
    parser.add_argument("--frames", type=int, default=200, help="camera frames per round")
    parser.add_argument("--resets", type=int, default=30, help="timed resets per round and tool count")
    parser.add_argument("--warmup", type=int, default=30, help="untimed resets before the first round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", type=int, default=20)
    before = parser.add_mutually_exclusive_group()
    before.add_argument("--baseline-commit", help="also measure the package as it was at this git revision")
    before.add_argument("--baseline-src", help="also measure the package found in this directory")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args()
    if args.child:
        return child(args)

    src = args.baseline_src or (baseline.tree(args.baseline_commit) if args.baseline_commit else None)
    sides = {"ours": Ours(args)}
    measures = {"ours": sides["ours"].measure}
    if src:
        sides["before"] = baseline_side(src, args)
        measures["before"] = lambda: sides["before"].ask("round")
    theirs = panda_gym_env()
    samples: dict[str, list[dict]] = {side: [] for side in sides}
    samples["panda_gym"], samples["stock"] = [], []
    for r in range(args.rounds):
        for side, measure in measures.items():
            samples[side].append(measure())
        if theirs:
            samples["panda_gym"].append({"state_steps_per_s": step_rate(theirs[0], args.steps, seed=r),
                                         "resets_per_s": reset_rate(theirs[0], args.resets, r * args.resets)})
        samples["stock"].append({"camera_fps_128": stock_render_fps(args.frames)})
    for runner in sides.values():
        runner.close()

    keys = ["resets_per_s_1_tool", f"resets_per_s_{args.tools}_tools", "resets_per_s_1_tool_reuse", f"resets_per_s_{args.tools}_tools_reuse",
            "state_steps_per_s", "pixel_steps_per_s", "camera_fps_front_128"]
    figures = {side: {k: _median(samples[side], k) for k in keys} for side in sides}
    result = {
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg()},
        "settings": {k: v for k, v in vars(args).items() if k not in ("child", "out")},
        "workbench_gym": figures["ours"],
        "targets": TARGETS,
        "panda_gym_PandaPickAndPlace_v3": {k: _median(samples["panda_gym"], k) for k in ("state_steps_per_s", "resets_per_s")} if theirs else None,
        "stock_tinyrenderer_full_panda_30_cubes_fps_128": _median(samples["stock"], "camera_fps_128"),
        "samples": samples,
    }
    if theirs:
        result["panda_gym_control_freq_hz"] = theirs[1]
        result["ratio_state_steps_vs_panda_gym"] = round(figures["ours"]["state_steps_per_s"] / result["panda_gym_PandaPickAndPlace_v3"]["state_steps_per_s"], 2)
    if src:
        result["before"] = {"source": args.baseline_commit or src, **figures["before"]}
        result["ratio_vs_before"] = {k: round(figures["ours"][k] / figures["before"][k], 2) for k in keys if figures["before"][k]}
        for n in (1, args.tools):  # the reuse path beside the one reset path of the package before
            key = f"resets_per_s_{n}_tool{'s' if n > 1 else ''}"
            if figures["ours"].get(key + "_reuse") and figures["before"][key]:
                result["ratio_vs_before"][key + "_reuse"] = round(figures["ours"][key + "_reuse"] / figures["before"][key], 2)
        result["scenery_builds_in_timed_rounds"] = [s["scenery_builds"] for s in samples["ours"]]
    if theirs:
        theirs[0].close()
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
