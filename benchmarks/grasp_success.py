"""Pick success per tool category, friction grasp versus assisted grasp, in one run.

Each try samples a bench with one tool of the category (seeded), picks it at its grasp region with
the motion primitives, and counts success when the tool rose with the gripper. Writes JSON and,
with --markdown, the table in docs/grasping.md.

    python benchmarks/grasp_success.py --tries 100 --out benchmarks/results/grasp_success.json --markdown docs/grasping.md
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from report import emit  # benchmarks/report.py

from workbench_gym.control.primitives import MotionPrimitives, PrimitiveConfig
from workbench_gym.envs.grasping import grasp_pose
from workbench_gym.scenes import TOOLS, sample_clutter
from workbench_gym.sim import World


def pick_rate(category: str, tries: int, assisted: bool) -> dict:
    reasons, start, sim_steps = Counter(), time.perf_counter(), 0
    for seed in range(tries):
        spec = sample_clutter(seed, 1, category_mix=[category])
        world = World()
        try:
            world.build(spec)
            primitives = MotionPrimitives(world, PrimitiveConfig(assisted_grasp=assisted))
            result = primitives.pick(*grasp_pose(world, spec.tools[0]))
        finally:
            world.close()
        reasons[result.reason.value] += 1
        sim_steps += result.sim_steps
    return {
        "success": reasons["ok"] / tries,
        "reasons": dict(reasons),
        "wall_seconds_per_pick": round((time.perf_counter() - start) / tries, 3),
        "sim_steps_per_pick": sim_steps / tries,
    }


def markdown(results: dict, tries: int) -> str:
    lines = [
        "# Grasp success per tool category",
        "",
        f"Made by `python benchmarks/grasp_success.py --tries {tries}`: {tries} seeded picks per category and mode, one tool on",
        "the bench, top-down grasp at the catalog's grasp region. *Friction*: the pads must hold the tool by friction.",
        "*Assisted*: a fixed constraint welds the tool to the hand once both pads touch it (as RLBench and Ravens do).",
        "The assisted grasp is the default (`PrimitiveConfig.assisted_grasp=True`).",
        "",
        "| category | friction | assisted | friction failures |",
        "| --- | --- | --- | --- |",
    ]
    for category, row in results.items():
        fails = ", ".join(f"{k} {v}" for k, v in row["friction"]["reasons"].items() if k != "ok") or "-"
        lines.append(f"| {category} | {row['friction']['success']:.0%} | {row['assisted']['success']:.0%} | {fails} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tries", type=int, default=100)
    parser.add_argument("--categories", nargs="*", default=list(TOOLS))
    parser.add_argument("--out", help="write the JSON here too")
    parser.add_argument("--markdown", help="write the markdown table here")
    args = parser.parse_args()
    results = {c: {mode: pick_rate(c, args.tries, mode == "assisted") for mode in ("friction", "assisted")} for c in args.categories}
    emit({"tries_per_category": args.tries, "results": results}, args.out)
    if args.markdown:
        Path(args.markdown).write_text(markdown(results, args.tries))


if __name__ == "__main__":
    main()
