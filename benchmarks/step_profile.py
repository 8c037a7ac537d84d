"""Where an env step's and an env reset's time goes, and Bullet's own split of a physics step.

Times each part of `WorkbenchEnv.step` (state obs, ee_delta control, random actions, 20 tools)
and of `WorkbenchEnv.reset` (scene sampling, placing bodies, settling, goal and
instruction, observation) with CPU-time clocks wrapped around the functions they call, and
Bullet's split of a physics step (collision detection vs constraint solving) from its
profile-timings log.

    python benchmarks/step_profile.py --out benchmarks/results/step_profile.json
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import pybullet
from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs import workbench_env
from workbench_gym.envs.task import Task
from workbench_gym.sim.world import World

CLOCK = time.process_time  # CPU time of this process: less sensitive to other load than wall time
#: Bullet profile zones reported, by the name they carry in its timings log.
BULLET_ZONES = {"internalSingleStepSimulation": "whole physics step", "performDiscreteCollisionDetection": "collision detection",
                "processIslands": "constraint solving", "updateAabbs": "AABB updates"}


def _timed(owner, name: str, key: str, totals: collections.Counter, active: list):
    """Wrap `owner.name` to add its CPU time to `totals[key]`; calls made inside another timed part count there."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        if active:
            return original(*args, **kwargs)
        active.append(key)
        start = CLOCK()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] += CLOCK() - start
            active.pop()

    setattr(owner, name, wrapper)
    return name in vars(owner), original


def _restore(owner, name: str, own: bool, original) -> None:
    if own:
        setattr(owner, name, original)
    else:
        delattr(owner, name)


def step_breakdown(steps: int = 600, tools: int = 20, seed: int = 0) -> dict[str, float]:
    """Microseconds of CPU per env step spent in each part, over `steps` random-action steps."""
    env = gym.make("workbench_gym/PickTool-v0", obs_mode="state", n_tools=tools)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    unwrapped, totals = env.unwrapped, collections.Counter()
    patches = [(World, "step"), (workbench_env, "observe"), (type(unwrapped.task), "reward"), (type(unwrapped.task), "is_success"),
               (type(unwrapped._controller), "apply")]
    keys = ["physics", "observation", "reward", "success check", "controller (IK)"]
    active: list = []
    originals = [_timed(owner, name, key, totals, active) for (owner, name), key in zip(patches, keys)]
    try:
        total = 0.0
        for _ in range(steps):
            action = env.action_space.sample()
            start = CLOCK()
            *_, terminated, truncated, _ = env.step(action)
            total += CLOCK() - start
            if terminated or truncated:
                counted = totals.copy()
                env.reset()  # resets are not steps: forget the settling it steps through
                totals.clear()
                totals.update(counted)
    finally:
        for (owner, name), (own, original) in zip(patches, originals):
            _restore(owner, name, own, original)
        env.close()
    out = {key: round(totals[key] / steps * 1e6, 1) for key in keys}
    out["rest (wrappers, step bookkeeping)"] = round(total / steps * 1e6 - sum(out.values()), 1)
    out["total"] = round(total / steps * 1e6, 1)
    return out


def reset_breakdown(resets: int = 40, tools: int = 20, first_seed: int = 1000, warmup: int = 150, **options) -> dict[str, float]:
    """Milliseconds of CPU per `reset(seed)` in each part, over `resets` seeds (after `warmup` untimed ones).

    Settling runs inside the world build: it is counted on its own line and left out of the build's. `options` go to `gym.make` (`reset_mode="reuse"`, say).
    """
    env = gym.make("workbench_gym/PickTool-v0", obs_mode="state", n_tools=tools, **options)
    for seed in range(warmup):  # first builds, pool growth and variants' first rest poses are not what RL runs see
        env.reset(seed=first_seed + resets + seed)
    unwrapped, totals = env.unwrapped, collections.Counter()
    outer = [(type(unwrapped.task), "sample_scene", "scene sampling"), (World, "build", "world build"), (Task, "start", "goal and instruction"),
             (workbench_env, "observe", "observation")]
    inner = [(World, "settle", "settling")]
    active: list = []
    patches = [(owner, name, _timed(owner, name, key, totals, active)) for owner, name, key in outer]
    patches += [(owner, name, _timed(owner, name, key, totals, [])) for owner, name, key in inner]
    try:
        start = CLOCK()
        for seed in range(first_seed, first_seed + resets):
            env.reset(seed=seed)
        total = CLOCK() - start
    finally:
        for owner, name, (own, original) in reversed(patches):
            _restore(owner, name, own, original)
        env.close()
    out = {key: round(totals[key] / resets * 1e3, 2) for *_, key in outer + inner}
    out["world build"] = round(out["world build"] - out["settling"], 2)
    out["rest (env bookkeeping)"] = round(total / resets * 1e3 - sum(out.values()), 2)
    out["total"] = round(total / resets * 1e3, 2)
    return out


def bullet_zones(steps: int = 100, tools: int = 20, seed: int = 0, wake_tools: bool = False) -> dict[str, float]:
    """Microseconds per physics step in Bullet's main stages (its profiler inflates them somewhat)."""
    env = gym.make("workbench_gym/PickTool-v0", obs_mode="state", n_tools=tools)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    world = env.unwrapped.world
    if wake_tools:  # as after the hand touches one: Bullet islands link the whole bench
        for tool in world.spec.tools:
            world.client.changeDynamics(world.bodies[tool.name], -1, activationState=pybullet.ACTIVATION_STATE_WAKE_UP)
    with tempfile.TemporaryDirectory() as tmp:
        log = world.client.startStateLogging(pybullet.STATE_LOGGING_PROFILE_TIMINGS, f"{tmp}/timings.json")
        for _ in range(steps):
            env.step(env.action_space.sample())
        world.client.stopStateLogging(log)
        substeps = steps * env.unwrapped.config.substeps
        env.close()
        events = json.loads(next(Path(tmp).glob("timings.json*")).read_text())["traceEvents"]
    totals, open_zones = collections.Counter(), []
    for event in events:
        if event["ph"] == "B":
            open_zones.append(event)
        elif event["ph"] == "E":
            begin = open_zones.pop()
            totals[re.sub(r"\d+$", "", event["name"])] += event["ts"] - begin["ts"]
    return {label: round(totals[zone] / substeps, 1) for zone, label in BULLET_ZONES.items()}


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--tools", type=int, default=20)
    parser.add_argument("--resets", type=int, default=40)
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args()
    result = {
        "settings": {"steps": args.steps, "tools": args.tools, "resets": args.resets, "clock": "process CPU time"},
        "machine": {"cpu_count": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "us_per_env_step": step_breakdown(args.steps, args.tools),
        "ms_per_reset": {f"{n} tool{'s' if n > 1 else ''}, reset_mode={mode}": reset_breakdown(args.resets, n, reset_mode=mode)
                         for mode in ("rebuild", "reuse") for n in (1, args.tools)},
        "bullet_us_per_physics_step": bullet_zones(tools=args.tools),
        "bullet_us_per_physics_step_bench_awake": bullet_zones(tools=args.tools, wake_tools=True),
    }
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
