"""VLM planner decision latency, with and without the second look and the overhead check, uncached and cached, in one run.

    python benchmarks/planner_latency.py --seeds 1000 --episodes 10 --out benchmarks/results/planner_latency.json
    python benchmarks/planner_latency.py --seeds 1000 --episodes 10 --baseline-commit 8e78a35   # before/after pair

Each variant (all looks; no overhead check; front view only) plays the same seeds of each task live: the native backend's frame cache is cleared
at every episode's start, so a decision pays for the frames it has not seen (**uncached**: what an episode costs).
Then the same decisions are replayed on the recorded observations with the cache warm (**cached**: the planner's own
work plus cache lookups). Mean and p95 per decision, and the process's peak resident memory. Develop on seeds below
10,000; one process, one torch thread per variant run, so the variants share the machine alike. With
`--baseline-commit REV` (or `--baseline-src DIR`) the planner with every look is also played by two child processes,
one importing the package as it was at that revision and one this tree, taking turns task by task (two like processes,
so neither side has the warmer one): a before/after ratio measured in one run, and a check that both took the same
decisions.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.policies.native import NativeBackend
from workbench_gym.policies.vlm_planner import ENV_OPTIONS, make_vlm_planner

sys.path.insert(0, str(Path(__file__).parent))
import baseline  # noqa: E402  (benchmarks/baseline.py)
from report import emit  # noqa: E402

#: Every task the planner plays: the looks some take (a count's recount, the look before a sort or collect is done) are in
#: their decisions, so leaving a task out would leave its cost out.
TASKS = ("PickTool", "PlaceTool", "FetchTool", "ClarifyTool", "CountTools", "SortTools", "CollectScrews")
BUDGET_MS = {"mean": 50.0, "p95": 100.0}


def stats(times: list[float]) -> dict:
    return {"mean": round(float(np.mean(times)), 2), "p95": round(float(np.percentile(times, 95)), 2), "decisions": len(times)}


def play(task: str, seeds: list[int], backend: NativeBackend, options: dict, scale: int = 2) -> tuple[list[float], list[float], list[str]]:
    """Per-decision ms of live episodes (cache cleared per episode), then of the same decisions replayed cached; and
    the actions sent to the env, at full precision."""
    env = gym.make(f"workbench_gym/{task}-v0", control_mode="primitive", **ENV_OPTIONS)
    uncached, cached, actions = [], [], []
    try:
        planner = make_vlm_planner(env.observation_space, backend, second_look_scale=scale, **options)
        for seed in seeds:
            obs, _ = env.reset(seed=seed)
            _forget_frames(backend)
            planner.reset(obs["instruction"])
            seen, done = [], False
            while not done:
                seen.append(obs)
                action = planner.act(obs)
                actions.append(_exact(action))
                obs, _, terminated, truncated, _ = env.step(action)
                done = terminated or truncated
            uncached += [d.total_ms for d in planner.decisions]
            planner.reset(seen[0]["instruction"])  # the same decisions again: every frame is in the cache now
            for observation in seen:
                planner.act(observation)
            cached += [d.total_ms for d in planner.decisions]
    finally:
        env.close()
    return uncached, cached, actions


def _exact(action: dict) -> str:
    """An encoded action as text that keeps every bit of its pose and width (decision captions round them)."""
    return repr({key: value.tolist() if isinstance(value, np.ndarray) else value for key, value in action.items()})


def _forget_frames(backend: NativeBackend) -> None:
    """Clear the backend's frame cache (a baseline tree older than `forget_frames` keeps it in `_frames`)."""
    forget = getattr(backend, "forget_frames", None)
    forget() if forget else backend._frames.clear()


def baseline_side(src: str, args) -> baseline.Child:
    """The planner with every look played by a source tree of the package in a child process, one task per request."""
    return baseline.Child(src, __file__, ["--child", "--seeds", str(args.seeds), "--episodes", str(args.episodes),
                                          "--threads", str(args.threads), "--scale", str(args.scale)])


def child(seeds: list[int], backend: NativeBackend, scale: int) -> None:
    """Answer each task name on stdin with one line of JSON: that task's times and actions with every look."""
    play(TASKS[0], seeds[:1], backend, {})  # warm up, as the parent does
    for line in sys.stdin:
        uncached, cached, actions = play(line.strip(), seeds, backend, {}, scale)
        print(json.dumps({"uncached": uncached, "cached": cached, "actions": actions}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1000, help="first seed (develop below 10,000)")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per task and variant")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--scale", type=int, default=2, help="the second look reads the wrist view at 1/scale resolution")
    parser.add_argument("--out", default="benchmarks/results/planner_latency.json")
    before = parser.add_mutually_exclusive_group()
    before.add_argument("--baseline-commit", help="also time the planner with every look as it was at this git revision")
    before.add_argument("--baseline-src", help="also time the planner with every look from the package in this directory")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds, args.seeds + args.episodes))
    backend = NativeBackend(cache_frames=64)  # room for an episode's frames, for the cached replay
    from workbench_gym.language.reader import read_instruction

    read_instruction("warm up")  # load the reader before any decision is timed
    if args.child:
        return child(seeds, backend, args.scale)
    src = args.baseline_src or (baseline.tree(args.baseline_commit) if args.baseline_commit else None)
    sides = {"before": baseline_side(src, args), "after": baseline_side(str(baseline.ROOT), args)} if src else {}
    start = time.perf_counter()
    names = {"second_look": {}, "no_overhead_check": {"overhead_check": False},
             "front_only": {"second_look": False, "overhead_check": False}}
    play(args.tasks[0], seeds[:1], backend, {})  # warm up torch and the caches of catalog shapes: not timed
    times = {name: {"uncached": [], "cached": [], "by_task": {}} for name in [*names, *sides]}
    same_decisions = True
    for task in args.tasks:  # the variants take turns task by task: both see the machine's load alike
        played = {}
        for name, options in names.items():
            u, c, played[name] = play(task, seeds, backend, options, args.scale)
            times[name]["uncached"] += u
            times[name]["cached"] += c
            times[name]["by_task"][task] = {"uncached": stats(u), "cached": stats(c)}
        for name, side in sides.items():
            got = side.ask(task)
            same_decisions &= got["actions"] == played["second_look"]
            times[name]["uncached"] += got["uncached"]
            times[name]["cached"] += got["cached"]
            times[name]["by_task"][task] = {"uncached": stats(got["uncached"]), "cached": stats(got["cached"])}
    for side in sides.values():
        side.close()
    variants = {}
    for name, t in times.items():
        summary = {mode: stats(t[mode]) for mode in ("uncached", "cached")}
        variants[name] = {**summary, "by_task": t["by_task"],
                          "met": {mode: summary[mode]["mean"] <= BUDGET_MS["mean"] and summary[mode]["p95"] <= BUDGET_MS["p95"] for mode in summary}}
    result = {
        "command": "python benchmarks/planner_latency.py " + " ".join(sys.argv[1:]),
        "seeds": {"first": seeds[0], "last": seeds[-1], "range": "dev" if seeds[-1] < 10_000 else "test" if seeds[0] >= 100_000 else "other"},
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(), "torch_threads": args.threads},
        "tasks": list(args.tasks),
        "budget_ms": BUDGET_MS,
        "variants": variants,
        "second_look_cost": {mode: round(variants["second_look"][mode]["mean"] / variants["front_only"][mode]["mean"], 3)
                             for mode in ("uncached", "cached")},
        "overhead_check_cost": {mode: round(variants["second_look"][mode]["mean"] / variants["no_overhead_check"][mode]["mean"], 3)
                                for mode in ("uncached", "cached")},
        **({"before_after": {"before": args.baseline_commit or src, "same_decisions": same_decisions,
                             "ratio_after_vs_before": {mode: {k: round(variants["after"][mode][k] / variants["before"][mode][k], 3) for k in ("mean", "p95")}
                                                       for mode in ("uncached", "cached")}}} if sides else {}),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    emit(result, args.out)


if __name__ == "__main__":
    main()
