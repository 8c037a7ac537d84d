"""Synthetic-data speed: annotated images per second at 256x256, per renderer, end to end.

Each figure runs the real `generate` pipeline (draw and settle the scene, render every camera, masks,
expressions, VQA, PNG/parquet encoding, atomic writes, manifest) into a temporary directory; runs with
several workers include starting them. CPU milliseconds per image (this process and its workers) are
reported beside wall-clock rates, since they move less with machine load; the load average is recorded
too. One function per renderer.

    python benchmarks/synth_speed.py --out benchmarks/results/synth_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import baseline  # benchmarks/baseline.py
from report import emit  # benchmarks/report.py

from workbench_gym.synth_data.annotate import annotate_scene
from workbench_gym.synth_data.generate import generate, render_shard
from workbench_gym.synth_data.randomize import SynthConfig, draw_scene
from workbench_gym.synth_data.records import to_table
from workbench_gym.synth_data.renderer import PyBulletRenderer, settled_spec

TARGET_PYBULLET_IMAGES_PER_S = 50.0
TARGET_BLENDERPROC_S_PER_IMAGE = 2.0


def _cpu_seconds() -> float:
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def pipeline_rate(config: SynthConfig, workers: int) -> dict:
    """Images per second of a whole `generate` run (warm caches: one shard is rendered first, untimed)."""
    render_shard(SynthConfig(**{**config.to_dict(), "scenes": config.scenes_per_shard, "seed": config.seed + 1}), 0)
    with tempfile.TemporaryDirectory() as tmp:
        cpu, start = _cpu_seconds(), time.perf_counter()
        manifest = generate(config, Path(tmp) / "ds", workers=workers, progress=False)
        wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    images = sum(manifest.counts["images"].values())
    return {"workers": workers, "scenes": config.scenes, "images": images, "wall_s": round(wall, 2),
            "images_per_s": round(images / wall, 1), "cpu_ms_per_image": round(1000 * cpu / images, 1)}


def stage_breakdown(config: SynthConfig, scenes: int) -> dict:
    """CPU milliseconds per image spent in each stage, in this process."""
    renderer = PyBulletRenderer()
    totals = dict.fromkeys(("sample_scene", "build_settle", "render", "annotate", "encode_shard"), 0.0)
    images = 0
    try:
        for index in range(scenes):
            t0 = time.process_time()
            spec = draw_scene(config, index)
            t1 = time.process_time()
            renderer.world.build(spec, settle=True)
            settled = settled_spec(renderer.world)
            t2 = time.process_time()
            frames = renderer.current_frames(settled)
            t3 = time.process_time()
            records = annotate_scene(config, index, settled, frames)
            t4 = time.process_time()
            to_table(records)
            t5 = time.process_time()
            for key, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                totals[key] += dt
            images += len(records)
    finally:
        renderer.close()
    return {key: round(1000 * value / images, 2) for key, value in totals.items()}


def pybullet(size: int, scenes: int, workers: list[int], rounds: int = 1, before: str | None = None) -> dict:
    """PyBullet pipeline rates per worker count (median of `rounds`), beside the package in `before` if given."""
    config = SynthConfig(scenes=scenes, size=size, scenes_per_shard=5, seed=1000)
    runs: dict[int, list[dict]] = {w: [] for w in workers}
    before_runs: dict[int, list[dict]] = {w: [] for w in workers}
    for _ in range(rounds):
        for w in workers:
            runs[w].append(pipeline_rate(config, w))
            if before:
                before_runs[w].append(_child_rate(before, size, scenes, w))
    best = max(statistics.median(r["images_per_s"] for r in rs) for rs in runs.values())
    out = {
        "renderer": "pybullet", "size": size, "views_per_scene": config.views_per_scene, "runs": [r for rs in runs.values() for r in rs],
        "cpu_ms_per_image_by_stage": stage_breakdown(config, min(scenes, 10)),
        "images_per_s": best, "target_images_per_s": TARGET_PYBULLET_IMAGES_PER_S, "meets_target": best >= TARGET_PYBULLET_IMAGES_PER_S,
    }
    if before:
        medians = {w: (statistics.median(r["images_per_s"] for r in runs[w]), statistics.median(r["images_per_s"] for r in before_runs[w]))
                   for w in workers}
        out["before"] = {"runs": [r for rs in before_runs.values() for r in rs],
                         "images_per_s_by_workers": {w: round(b, 1) for w, (_, b) in medians.items()},
                         "ratio_by_workers": {w: round(a / b, 2) for w, (a, b) in medians.items()}}
    return out


def _child_rate(src: str, size: int, scenes: int, workers: int) -> dict:
    """`pipeline_rate` run by a child process that imports workbench_gym from `src`."""
    args = [sys.executable, __file__, "--child-rate", "--size", str(size), "--scenes", str(scenes), "--workers", str(workers)]
    done = subprocess.run(args, capture_output=True, text=True, env=baseline.environ(src), cwd=str(Path(__file__).parent), check=True)
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))


def blenderproc(size: int, scenes: int) -> dict:
    """BlenderProc through the same pipeline, where its renderer can run here (see also blenderproc_speed.py)."""
    try:
        from workbench_gym.synth_data.blenderproc_renderer import missing_modules
    except ImportError as err:
        return {"renderer": "blenderproc", "available": False, "reason": str(err)}
    missing = missing_modules()
    if missing:
        return {"renderer": "blenderproc", "available": False, "reason": f"missing modules {missing}"}
    config = SynthConfig(scenes=scenes, size=size, renderer="blenderproc", scenes_per_shard=1, seed=1000, orbit_views=0)
    run = pipeline_rate(config, 1)
    seconds = run["wall_s"] / run["images"]
    return {"renderer": "blenderproc", "available": True, "size": size, "run": run, "seconds_per_image": round(seconds, 3),
            "target_seconds_per_image": TARGET_BLENDERPROC_S_PER_IMAGE, "meets_target": seconds <= TARGET_BLENDERPROC_S_PER_IMAGE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--scenes", type=int, default=120, help="scenes per PyBullet run (6 images each)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--rounds", type=int, default=1, help="PyBullet runs per worker count (medians are reported)")
    parser.add_argument("--blenderproc-scenes", type=int, default=3, help="0 skips BlenderProc")
    parser.add_argument("--baseline-commit", help="also run the PyBullet figures with the package as it was at this git revision")
    parser.add_argument("--child-rate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="JSON path")
    args = parser.parse_args()
    if args.child_rate:  # one pipeline run for a parent comparing versions
        config = SynthConfig(scenes=args.scenes, size=args.size, scenes_per_shard=5, seed=1000)
        print(json.dumps(pipeline_rate(config, args.workers[0])))
        return
    load_before = os.getloadavg()
    before = baseline.tree(args.baseline_commit) if args.baseline_commit else None
    results = {"pybullet": pybullet(args.size, args.scenes, sorted(set(args.workers)), args.rounds, before)}
    if before:
        results["pybullet"]["before"]["source"] = args.baseline_commit
    if args.blenderproc_scenes:
        results["blenderproc"] = blenderproc(args.size, args.blenderproc_scenes)
    results["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                          "load_average_before": [round(v, 2) for v in load_before], "load_average_after": [round(v, 2) for v in os.getloadavg()]}
    emit(results, args.out, indent=1)


if __name__ == "__main__":
    main()
