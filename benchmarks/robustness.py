"""Robustness figures of issue 16: fuzzed actions, misbehaving servers, and memory over many resets and episodes.

    python benchmarks/robustness.py --out benchmarks/results/robustness.json            # full: about 30 min on 2 cores
    python benchmarks/robustness.py --quick --out /tmp/robustness.json                 # smoke run: about 1 min

Sections:
- fuzz: `fuzz_actions.fuzz` over every task x control mode x observation mode (13,888 actions in full): crashes,
  hangs, malformed actions answered by a ValueError naming the field, outcomes of the well-formed ones.
- servers: each `fake_servers` kind against ground, answer and plan, with the client's default bounds in full
  (timeout_s=10, total_timeout_s=20, native fallback) and short ones in quick: seconds, outcome, within the bound.
- dataset: reading a generated dataset whole with `open_dataset`'s per-shard sha256 check and without (verify=False).
- memory: resident memory growth over 1000 resets and over 300 oracle episodes (tasks in turn), after a warm-up.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time

import gymnasium as gym
from fake_servers import KINDS, check_server  # benchmarks/fake_servers.py
from fuzz_actions import fuzz  # benchmarks/fuzz_actions.py
from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.task import TASKS
from workbench_gym.policies import OraclePlanner
from workbench_gym.registration import env_id

RSS_TARGET = 0.05  # growth allowed over the measured runs


def rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc)."""
    with open("/proc/self/status") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    return kb * 1024


def servers(quick: bool) -> dict:
    """Every fake server kind against every backend call; the client's default bounds in full."""
    if quick:
        bounds, fallback = {"total_timeout_s": 2.0, "timeout_s": 1.0}, None
    else:
        from workbench_gym.policies.backends import make_backend

        bounds, fallback = {"total_timeout_s": 20.0, "timeout_s": 10.0}, make_backend("native")
    rows = []
    for kind, call in itertools.product(KINDS, ("ground", "answer", "plan")):
        outcome = check_server(kind, call, fallback=fallback, **bounds)
        rows.append({"kind": kind, "call": call, "seconds": round(outcome.seconds, 3), "bound_s": outcome.bound_s,
                     "within_bound": outcome.within_bound, "outcome": outcome.outcome, "as_expected": outcome.as_expected,
                     "regions": outcome.regions, "detail": outcome.detail})
        print(f"server {kind} {call}: {rows[-1]['seconds']} s, {outcome.outcome}", file=sys.stderr, flush=True)
    return {"bounds": bounds, "fallback": "native" if fallback else "an instant local stub", "rows": rows,
            "all_within_bound": all(r["within_bound"] for r in rows),
            "all_as_expected": all(r["as_expected"] for r in rows),  # fell back, or used a valid reply (see expected_outcome)
            "slowest_s": max(r["seconds"] for r in rows)}


def memory(resets: int, episodes: int, warmup: int) -> dict:
    """RSS growth over `resets` resets and over `episodes` oracle episodes, tasks in turn, each after `warmup` rounds."""
    tasks = sorted(TASKS)
    envs = {t: gym.make(env_id(t), control_mode="primitive") for t in tasks}
    try:
        def reset_round(i):
            envs[tasks[i % len(tasks)]].reset(seed=i % 10_000)

        def episode_round(i):
            env = envs[tasks[i % len(tasks)]]
            oracle = OraclePlanner(env)
            obs, _ = env.reset(seed=i % 10_000)
            done = False
            while not done:
                obs, _, terminated, truncated, _ = env.step(oracle.act(obs))
                done = terminated or truncated

        out = {}
        for name, run, count in (("resets", reset_round, resets), ("oracle_episodes", episode_round, episodes)):
            for i in range(warmup):
                run(i)
            before, start = rss_bytes(), time.perf_counter()
            for i in range(warmup, warmup + count):
                run(i)
            after = rss_bytes()
            out[name] = {"count": count, "warmup": warmup, "rss_before_mb": round(before / 2**20, 1), "rss_after_mb": round(after / 2**20, 1),
                         "growth": round((after - before) / before, 4), "within_target": (after - before) / before < RSS_TARGET,
                         "seconds": round(time.perf_counter() - start, 1)}
            print(f"memory {name}: {out[name]}", file=sys.stderr, flush=True)
        return out
    finally:
        for env in envs.values():
            env.close()


def dataset_verify(scenes: int, size: int, rounds: int = 3) -> dict:
    """Seconds to read a generated dataset whole with and without the per-shard sha256 check, rounds interleaved."""
    import tempfile
    from pathlib import Path

    from workbench_gym.synth_data import open_dataset
    from workbench_gym.synth_data.generate import generate
    from workbench_gym.synth_data.randomize import SynthConfig

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        generate(SynthConfig(scenes=scenes, size=size, scenes_per_shard=5, seed=7), root, progress=False)
        times = {True: [], False: []}
        for _ in range(rounds):
            for verify in (True, False):
                start = time.perf_counter()
                images = sum(1 for _ in open_dataset(root, verify=verify))
                times[verify].append(time.perf_counter() - start)
        data_mb = sum(p.stat().st_size for p in (root / "data").iterdir()) / 2**20
    on, off = min(times[True]), min(times[False])
    return {"scenes": scenes, "size": size, "images": images, "parquet_mb": round(data_mb, 1), "read_s_verified": round(on, 3),
            "read_s_unverified": round(off, 3), "overhead": round(on / off - 1, 3)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: one task fuzzed, short server bounds, fewer resets")
    parser.add_argument("--sections", default="fuzz,servers,dataset,memory", help="comma-separated subset of fuzz, servers, dataset, memory")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    sections = set(args.sections.split(","))
    result = {"quick": args.quick, "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
              "seeds": "fuzz 1000+; memory 0..1299 (development range)"}
    if "fuzz" in sections:
        result["fuzz"] = fuzz(["PickTool"], malformed=8, low_level=4, primitive=4) if args.quick else fuzz()
    if "servers" in sections:
        result["servers"] = servers(args.quick)
    if "dataset" in sections:
        result["dataset_verify"] = dataset_verify(*((4, 64) if args.quick else (20, 256)))
    if "memory" in sections:
        result["memory"] = memory(*((40, 16, 8) if args.quick else (1000, 300, 50)))
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
