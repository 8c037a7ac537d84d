"""What perception costs per frame, the front view alone and with a second look fused in, and what fusion mends.

On the opening frames of dev seeds (PickTool, the planner's 384x384 frames from the front, wrist and overhead
cameras, the arm at home), it times, per frame and in one run side by side:

- `front`: proposals of the front frame (`perception.analyse`: back-projection, bench plane, proposals);
- `second`: proposals of the second view, with the front view's bench plane (`wrist/2`: every other pixel of the
  wrist frame, `perception.decimate`);
- `fusion`: lifting every tool proposal of both views and fusing them in the bench frame;
- `front_plus_second`: the three together, what a decision with a second look adds to perception;
- `native_frame`: the native backend's whole new-frame cost for a view (proposals, crops, CNN encoding), uncached.

and scores the fusion against the simulator's instance masks (privileged, for scoring only; perception never sees
them): front proposals that merge two or more tools, how many of those fusion splits into one object per tool
(`mended`), how many proposals of one tool it splits (`split_wrongly`), and objects only the second view has.

    python benchmarks/perception.py --seeds 0:30 --out benchmarks/results/perception.json

Wall-clock milliseconds (the planner's budget is wall time), mean and p95 over frames; each frame is timed
`--repeats` times and its median kept, which damps other load on a shared machine.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections import Counter
from functools import partial

import gymnasium as gym
import numpy as np
from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.policies.perception import analyse, decimate, fuse, lift_proposals
from workbench_gym.policies.vlm_planner import observation_view

SECOND_VIEWS = ("wrist", "overhead")
#: Second looks timed: (camera, decimation factor); "wrist/2" reads every other pixel of the wrist frame.
LOOKS = (("wrist", 1), ("wrist", 2), ("overhead", 1))


def _fresh_frame(backend, view):
    """The native backend's analysis of a frame it has not cached."""
    backend.forget_frames()
    return backend.frame(view)


def _fused(front, front_analysis, second, second_analysis):
    """Front regions and their fusion with the second view's."""
    regions = lift_proposals(front, front_analysis)
    return regions, fuse(front, regions, second, lift_proposals(second, second_analysis))


def _timed(fn, repeats: int):
    """(result, median wall ms) of `fn()` over `repeats` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(1e3 * (time.perf_counter() - start))
    return result, float(np.median(times))


def _name(camera: str, factor: int) -> str:
    return camera if factor == 1 else f"{camera}/{factor}"


def _stats(values: list[float]) -> dict:
    return {"mean": round(float(np.mean(values)), 2), "p95": round(float(np.percentile(values, 95)), 2), "n": len(values)}


def _seeds(text: str) -> list[int]:
    start, stop = (int(v) for v in text.split(":"))
    if not 0 <= start < stop <= 10_000:
        raise SystemExit(f"--seeds {text!r}: expected START:STOP of dev seeds, 0 <= START < STOP <= 10000")
    return list(range(start, stop))


def frames(seeds: list[int], size: int, n_tools: int) -> list[tuple[dict, dict, list[int]]]:
    """Per seed: the camera views of its opening observation (what the planner may see), the instance masks of each
    camera and the tools' instance ids (privileged: only to score with)."""
    env = gym.make("workbench_gym/PickTool-v0", obs_mode="rgbd_seg", control_mode="primitive", cameras=("front", *SECOND_VIEWS),
                   image_size=(size, size), n_tools=n_tools)
    try:
        out = []
        for seed in seeds:
            obs, _ = env.reset(seed=seed)
            world = env.unwrapped.world
            out.append(({camera: observation_view(obs, camera) for camera in ("front", *SECOND_VIEWS)},
                        {camera: obs["cameras"][camera]["segmentation"] for camera in ("front", *SECOND_VIEWS)},
                        [world.instance_ids[t.name] for t in world.spec.tools]))
        return out
    finally:
        env.close()


def _tools_in(mask_ids: np.ndarray, tool_ids: list[int], least: int = 8, share: float = 0.2) -> set[int]:
    """Tools with at least `least` pixels (or `share` of the region's tool pixels, for small regions) in a region."""
    ids = mask_ids[np.isin(mask_ids, tool_ids)]
    found, counts = np.unique(ids, return_counts=True)
    return {int(i) for i, n in zip(found, counts) if n >= min(least, share * len(ids))}


def score_fusion(front_regions, objects, camera: str, front_segmentation: np.ndarray, second_segmentation: np.ndarray,
                 tool_ids: list[int]) -> dict:
    """Counts of what fusion did to the front proposals, judged by the instance masks."""
    front = front_segmentation
    score = {"front_tool_proposals": len(front_regions), "merged": 0, "mended": 0, "merged_left": 0, "split_wrongly": 0}
    for i, region in enumerate(front_regions):
        tools = _tools_in(front[region.rows, region.cols], tool_ids)
        merged = len(tools) >= 2
        score["merged"] += merged
        parts = [obj.part("front") for obj in objects if i in obj.sources.get("front", ())]
        if len(parts) >= 2:
            owners = [_tools_in(front[p.rows, p.cols], tool_ids, share=0.5) for p in parts]
            mended = merged and all(len(o) == 1 for o in owners) and len(set().union(*owners)) == len(parts)
            score["mended" if mended else "split_wrongly"] += 1
        elif merged:
            score["merged_left"] += 1
    second = [obj for obj in objects if obj.views == (camera,)]
    score["second_view_only"] = len(second)
    score["second_view_only_tools"] = sum(bool(_tools_in(second_segmentation[o.parts[0].rows, o.parts[0].cols], tool_ids)) for o in second)
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0:30", help="START:STOP, dev seeds only (below 10000)")
    parser.add_argument("--size", type=int, default=384, help="image width and height (the planner's is 384)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for the native backend")
    parser.add_argument("--tools", type=int, default=12, help="tools per scene")
    parser.add_argument("--out", default="benchmarks/results/perception.json")
    args = parser.parse_args(argv)
    seeds = _seeds(args.seeds)
    import torch

    from workbench_gym.policies.native.backend import NativeBackend

    torch.set_num_threads(args.threads)
    backend = NativeBackend()
    times: dict[str, list[float]] = {"front": [], "native_frame[front]": []}
    counts: dict[str, list[int]] = {"front_proposals": []}
    fusion_scores = {_name(*look): Counter() for look in LOOKS}
    for views, segmentation, tool_ids in frames(seeds, args.size, args.tools):
        front = views["front"]
        fa, ms = _timed(partial(analyse, front.rgb, front.depth, front.intrinsics, front.extrinsics), args.repeats)
        times["front"].append(ms)
        counts["front_proposals"].append(len(fa.proposals))
        _, ms = _timed(partial(_fresh_frame, backend, front), args.repeats)
        times["native_frame[front]"].append(ms)
        for camera, factor in LOOKS:
            second, name = decimate(views[camera], factor), _name(camera, factor)
            sa, analyse_ms = _timed(partial(analyse, second.rgb, second.depth, second.intrinsics, second.extrinsics, bench_z=fa.bench_z),
                                    args.repeats)
            (front_regions, objects), fuse_ms = _timed(partial(_fused, front, fa, second, sa), args.repeats)
            fusion_scores[name].update(score_fusion(front_regions, objects, camera, segmentation["front"],
                                                    segmentation[camera][::factor, ::factor], tool_ids))
            _, native_ms = _timed(partial(_fresh_frame, backend, second), args.repeats)
            times.setdefault(f"second[{name}]", []).append(analyse_ms)
            times.setdefault(f"fusion[{name}]", []).append(fuse_ms)
            times.setdefault(f"front_plus_second[{name}]", []).append(times["front"][-1] + analyse_ms + fuse_ms)
            times.setdefault(f"native_frame[{name}]", []).append(native_ms)
            counts.setdefault(f"proposals[{name}]", []).append(len(sa.proposals))
            counts.setdefault(f"fused_objects[{name}]", []).append(len(objects))
    emit({
        "command": f"python benchmarks/perception.py --seeds {args.seeds} --size {args.size} --repeats {args.repeats} --threads {args.threads} "
                   f"--tools {args.tools}",
        "seeds": [seeds[0], seeds[-1]], "frames": len(seeds), "image_size": args.size, "tools": args.tools,
        "ms": {k: _stats(v) for k, v in times.items()},
        "fusion_vs_instance_masks": {camera: dict(score) for camera, score in fusion_scores.items()},
        "mean_counts": {k: round(float(np.mean(v)), 1) for k, v in counts.items()},
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        "note": "development figures on dev seeds, wall-clock on a shared 2-core machine; fusion lifts tool proposals (containers "
                "left out); the arm stands at home, so the overhead camera sees the bench around it and the wrist camera a patch below it",
    }, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
