"""Native backend on held-out synthetic scenes: top-1 grounding accuracy (overall, per expression kind and per view:
front, overhead, wrist, orbit), VQA accuracy, milliseconds per ground() call and per new frame, and peak memory.

    python benchmarks/grounding.py --data DIR --out benchmarks/results/grounding.json

DIR is a dataset written by `workbench-gym generate`; its "test" split holds scenes the shipped weights
never saw when they were trained on a dataset made with the same command and seed range.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import torch

from workbench_gym.policies.native.backend import NativeBackend
from workbench_gym.policies.native.model import DEFAULT_WEIGHTS
from workbench_gym.policies.native.training import grounding_accuracy, view_of, vqa_accuracy
from workbench_gym.synth_data.reader import open_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", default="benchmarks/results/grounding.json")
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=None, help="images to evaluate (default all of the split)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    dataset = open_dataset(args.data)
    records = dataset.split(args.split)
    start = time.perf_counter()
    backend = NativeBackend(args.weights, spatial_frame=dataset.config.spatial_frame)
    first = next(iter(records))
    backend.ground(view_of(first), "the crosshead screwdriver")  # loads the text encoder once, outside the timings
    backend.frame(view_of(first))
    load_s = time.perf_counter() - start
    grounding = grounding_accuracy(backend, records, limit=args.limit)
    vqa = vqa_accuracy(backend, records, limit=args.limit)
    result = {
        "data": args.data, "split": args.split, "images": min(len(records), args.limit or len(records)),
        "weights": str(args.weights), "spatial_frame": dataset.config.spatial_frame,
        "grounding": grounding, "vqa": vqa, "load_s": load_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": args.threads, "machine": platform.processor() or platform.machine(),
        "note": "timings are wall-clock on a shared machine; a ground() on a new frame includes proposals and crop encoding",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("images", "peak_rss_mb")} | {"top1": grounding["top1"], "vqa": vqa["accuracy"],
                      "ms_new_frame": grounding["ms_per_ground_new_frame"], "ms_cached": grounding["ms_per_ground_cached"],
                      "top1_by_view": {view: round(v["top1"], 4) for view, v in grounding["per_view"].items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
