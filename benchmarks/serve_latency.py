"""Latency of grounding through `workbench-gym serve` against the same backend in-process, side by side.

    python benchmarks/serve_latency.py --out benchmarks/results/serve_latency.json [--backend native] [--frames 30]

The server runs as a child process on loopback (as a shared model would, minus the network); calls alternate
local, remote on the same frames and phrases, so both see the same load. Reports medians and 90th percentiles in
milliseconds, the HTTP overhead, the request size, and whether both sides returned the same boxes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from workbench_gym.policies.backends import make_backend, parse_options
from workbench_gym.policies.backends.openai_compat import OpenAICompatBackend
from workbench_gym.policies.backends.prompts import ground_prompt
from workbench_gym.policies.vlm_planner import ENV_OPTIONS, observation_view
from workbench_gym.registration import env_id

PHRASES = ("the claw hammer", "the tape measure", "the spanner", "the hex key", "the red screwdriver", "the bin")


def frames(task: str, count: int, size: int) -> list:
    """Front-camera views of `count` seeded episodes' first observations."""
    env = gym.make(env_id(task), obs_mode="rgbd", image_size=(size, size))
    try:
        return [observation_view(env.reset(seed=seed)[0], "front") for seed in range(count)]
    finally:
        env.close()


def start_server(backend: str, options: list[str]) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "workbench_gym.cli", "serve", "--backend", backend, "--port", "0"]
    for option in options:
        command += ["--option", option]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = ""
    while not line.startswith("serving"):
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"serve --backend {backend} exited with {process.wait()}")
    return process, line.rsplit(" at ", 1)[1].strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--backend", default="native")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--task", default="PickTool")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", type=int, default=ENV_OPTIONS["image_size"][0], help="camera image side in pixels (default: the planner's)")
    args = parser.parse_args(argv)

    views = frames(args.task, args.frames, args.size)
    local = make_backend(args.backend, **parse_options(args.option))
    process, url = start_server(args.backend, args.option)
    try:
        remote = OpenAICompatBackend(base_url=url, api_key_env=None, fallback=None, timeout_s=60, total_timeout_s=120)
        remote.ground(views[0], PHRASES[0]), local.ground(views[0], PHRASES[0])  # warm-up: caches, first-call costs
        times = {"local": [], "remote": []}
        same = 0
        for i, view in enumerate(views):
            phrase = PHRASES[i % len(PHRASES)]
            results = {}
            for side, backend in (("local", local), ("remote", remote)):
                start = time.perf_counter()
                results[side] = backend.ground(view, phrase)
                times[side].append(1000 * (time.perf_counter() - start))
            same += [r.box for r in results["local"]] == [r.box for r in results["remote"]]
        request_bytes = len(json.dumps(remote._request(views[0], ground_prompt(PHRASES[0], args.size, args.size))))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)

    stats = {side: {"median_ms": float(np.median(t)), "p90_ms": float(np.percentile(t, 90))} for side, t in times.items()}
    result = {
        "backend": args.backend, "options": args.option, "task": args.task, "frames": len(views), "image_size": args.size,
        **stats, "overhead_median_ms": stats["remote"]["median_ms"] - stats["local"]["median_ms"],
        "request_bytes": request_bytes, "same_boxes": same / len(views),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
