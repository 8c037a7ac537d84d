"""What perception costs per frame: the front view alone, and the front view with a second look fused in.

On the opening frames of dev seeds (PickTool, 12 tools, the planner's 384x384 frames from the front, wrist and
overhead cameras), it times, per frame and in one run side by side:

- `front`: proposals of the front frame (`perception.analyse`: back-projection, bench plane, proposals);
- `second`: proposals of the second view, with the front view's bench plane;
- `fusion`: lifting every tool proposal of both views and fusing them in the bench frame;
- `front_plus_second`: the three together, what a decision with a second look adds to perception;
- `native_frame`: the native backend's whole new-frame cost for a view (proposals, crops, CNN encoding), uncached.

    python benchmarks/perception.py --seeds 0:30 --out benchmarks/results/perception.json

Wall-clock milliseconds (the planner's budget is wall time), mean and p95 over frames; each frame is timed
`--repeats` times and its median kept, which damps other load on a shared machine.
"""

from __future__ import annotations

import argparse
import platform
import time

import gymnasium as gym
import numpy as np

import workbench_gym  # noqa: F401  (registers the envs)
from report import emit  # benchmarks/report.py
from workbench_gym.policies.perception import analyse, fuse, lift_proposals
from workbench_gym.policies.vlm_planner import observation_view

SECOND_VIEWS = ("wrist", "overhead")


def _timed(fn, repeats: int):
    """(result, median wall ms) of `fn()` over `repeats` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(1e3 * (time.perf_counter() - start))
    return result, float(np.median(times))


def _stats(values: list[float]) -> dict:
    return {"mean": round(float(np.mean(values)), 2), "p95": round(float(np.percentile(values, 95)), 2), "n": len(values)}


def _seeds(text: str) -> list[int]:
    start, stop = (int(v) for v in text.split(":"))
    if not 0 <= start < stop <= 10_000:
        raise SystemExit(f"--seeds {text!r}: expected START:STOP of dev seeds, 0 <= START < STOP <= 10000")
    return list(range(start, stop))


def frames(seeds: list[int], size: int) -> list[dict]:
    """Camera views of each seed's opening observation (what the planner may see), by camera name."""
    env = gym.make("workbench_gym/PickTool-v0", obs_mode="rgbd", control_mode="primitive", cameras=("front", *SECOND_VIEWS),
                   image_size=(size, size), n_tools=12)
    try:
        out = []
        for seed in seeds:
            obs, _ = env.reset(seed=seed)
            out.append({camera: observation_view(obs, camera) for camera in ("front", *SECOND_VIEWS)})
        return out
    finally:
        env.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0:30", help="START:STOP, dev seeds only (below 10000)")
    parser.add_argument("--size", type=int, default=384, help="image width and height (the planner's is 384)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for the native backend")
    parser.add_argument("--out", default="benchmarks/results/perception.json")
    args = parser.parse_args(argv)
    seeds = _seeds(args.seeds)
    import torch

    from workbench_gym.policies.native.backend import NativeBackend

    torch.set_num_threads(args.threads)
    backend = NativeBackend()
    times: dict[str, list[float]] = {"front": [], "native_frame[front]": []}
    counts: dict[str, list[int]] = {"front_proposals": []}
    for views in frames(seeds, args.size):
        front = views["front"]
        fa, ms = _timed(lambda: analyse(front.rgb, front.depth, front.intrinsics, front.extrinsics), args.repeats)
        times["front"].append(ms)
        counts["front_proposals"].append(len(fa.proposals))
        _, ms = _timed(lambda: (backend._frames.clear(), backend.frame(front)), args.repeats)
        times["native_frame[front]"].append(ms)
        for camera in SECOND_VIEWS:
            second = views[camera]
            sa, analyse_ms = _timed(lambda: analyse(second.rgb, second.depth, second.intrinsics, second.extrinsics, bench_z=fa.bench_z),
                                    args.repeats)

            def fused():
                return fuse(front, lift_proposals(front, fa), second, lift_proposals(second, sa))

            objects, fuse_ms = _timed(fused, args.repeats)
            _, native_ms = _timed(lambda: (backend._frames.clear(), backend.frame(second)), args.repeats)
            times.setdefault(f"second[{camera}]", []).append(analyse_ms)
            times.setdefault(f"fusion[{camera}]", []).append(fuse_ms)
            times.setdefault(f"front_plus_second[{camera}]", []).append(times["front"][-1] + analyse_ms + fuse_ms)
            times.setdefault(f"native_frame[{camera}]", []).append(native_ms)
            counts.setdefault(f"{camera}_proposals", []).append(len(sa.proposals))
            counts.setdefault(f"fused_objects[{camera}]", []).append(len(objects))
    emit({
        "command": f"python benchmarks/perception.py --seeds {args.seeds} --size {args.size} --repeats {args.repeats} --threads {args.threads}",
        "seeds": [seeds[0], seeds[-1]], "frames": len(seeds), "image_size": args.size,
        "ms": {k: _stats(v) for k, v in times.items()},
        "mean_counts": {k: round(float(np.mean(v)), 1) for k, v in counts.items()},
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        "note": "development figures on dev seeds, wall-clock on a shared 2-core machine; fusion lifts tool proposals (containers left out)",
    }, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
