"""Cost of the benchmark suite for a planner: CPU and wall seconds per episode by task, a projection of the full v1
suite, and Ray with 2 local workers against one process, measured side by side on the same rows.

Runs the suite's L1 rows (every task) on development seeds, `--episodes` per row, twice: in this process and as Ray
tasks on a local Ray with `--workers` CPUs. The full-suite projection multiplies each row's episode count by the CPU
seconds per episode of its task measured here (chains take 5x a task's mean; rows a planner skips are left out).

    python benchmarks/suite_speed.py --planner vlm --episodes 3 --out benchmarks/results/suite_speed.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.benchmark import PlannerChoice, load_suite, run_suite
from workbench_gym.benchmark.runner import row_planner


def per_task(folder: Path) -> dict[str, dict]:
    """CPU and wall seconds per episode of each task in a run folder."""
    cpu, wall = defaultdict(list), defaultdict(list)
    for path in (folder / "rows").glob("*.json"):
        row = json.loads(path.read_text())
        for episode in row["episodes"]:
            cpu[row["row"]["task"]].append(episode["cpu_seconds"])
            wall[row["row"]["task"]].append(episode["wall_seconds"])
    return {t: {"episodes": len(cpu[t]), "cpu_s": round(sum(cpu[t]) / len(cpu[t]), 3), "wall_s": round(sum(wall[t]) / len(wall[t]), 3)}
            for t in sorted(cpu)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--planner", default="vlm")
    parser.add_argument("--backend", default="native")
    parser.add_argument("--episodes", type=int, default=3, help="episodes per L1 row (development seeds)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args()
    suite = load_suite("v1")
    planner = PlannerChoice(args.planner, {"backend": args.backend} if args.planner == "vlm" else {})
    sub = dataclasses.replace(suite, quick=dataclasses.replace(suite.quick, episodes_per_row=args.episodes))  # a quick subset of that size
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode, address in (("one_process", None), ("ray", "local")):
            folder = Path(tmp) / mode
            start = time.perf_counter()
            run_suite(sub, planner, folder, ray_address=address, workers=args.workers, quick=True, dev=True, select=("L1/",), progress=False)
            timings[mode] = {"wall_s": round(time.perf_counter() - start, 1), "per_task": per_task(folder)}
    tasks = timings["one_process"]["per_task"]
    mean_cpu = sum(t["cpu_s"] for t in tasks.values()) / len(tasks)
    projected, episodes = 0.0, 0
    for row in suite.rows():
        if row_planner(suite, row, planner)[0] is None:
            continue
        n = len(row.seeds)  # an instruction set has about one sentence per seed
        episodes += n
        projected += n * (5 * mean_cpu if row.task == "ChainTools" else tasks[row.task]["cpu_s"])
    emit({
        "command": f"python benchmarks/suite_speed.py --planner {args.planner} --backend {args.backend} --episodes {args.episodes} --workers {args.workers}",
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        "settings": {"episodes_per_row": args.episodes, "rows": "L1 (every task), development seeds"},
        "one_process": timings["one_process"], "ray": timings["ray"],
        "ray_speedup": round(timings["one_process"]["wall_s"] / timings["ray"]["wall_s"], 2),
        "full_suite_projection": {"episodes": episodes, "cpu_minutes": round(projected / 60, 1),
                                  "note": "one process; CPU seconds per episode by task from the one-process run"},
    }, args.out)


if __name__ == "__main__":
    main()
