"""VLM planner against the privileged oracle, side by side on the same seeds.

PickTool, PlaceTool and FetchTool with training phrasings (seen variants) and with test phrasings and unseen
variants: success of each planner and the VLM planner's share of the oracle's. CountTools: answers right.
ClarifyTool: how often the planner asks, and success. Decision latency (backend + planner, excluding the
primitive's physics) over every VLM decision, and the process's peak memory.

    python benchmarks/planner_success.py --episodes 50 --out benchmarks/results/planner_success.json

`--seed S` starts the episodes at seed S (seeds S, S+1, ...): develop below 10,000; 100,000 and up are test seeds.

Targets (issue 5): >= 90% of the oracle's success with training phrasings, >= 80% with test phrasings and unseen
variants, >= 85% CountTools answers right, questions asked on ClarifyTool, <= 50 ms per decision.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.evaluate import evaluate, markdown_table
from workbench_gym.policies.backends import parse_options

MANIPULATION = ("PickTool", "PlaceTool", "FetchTool")
SPLITS = {"train": ("train", "seen"), "test": ("test", "unseen")}
TARGETS = {"train": 0.9, "test": 0.8, "count": 0.85, "latency_ms": 50.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0, help="first seed of every row")
    parser.add_argument("--backend", default="native")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="backend option (repeatable)")
    parser.add_argument("--ray-address", help="fan episodes out on this Ray cluster ('local' starts one)")
    parser.add_argument("--out", default="benchmarks/results/planner_success.json")
    parser.add_argument("--markdown", help="also write the table here")
    args = parser.parse_args()

    start = time.perf_counter()
    rows, latencies, comparisons, failures = [], [], [], []
    common = {"episodes": args.episodes, "seed": args.seed, "ray_address": args.ray_address, "progress": False, "backend_options": parse_options(args.option)}
    for split, (instructions, variants) in SPLITS.items():
        for planner in ("oracle", "vlm"):
            result = evaluate(list(MANIPULATION), planner, args.backend, instruction_split=instructions, variant_split=variants, **common)
            rows += result["rows"]
            latencies += _latencies(result)
            failures += _failures(result, planner, split)
        for task in MANIPULATION:
            oracle, vlm = (next(r for r in rows if r["task"] == task and r["planner"] == p and r["split"] == f"{instructions}/{variants}")
                           for p in ("oracle", "vlm"))
            ratio = vlm["success"] / oracle["success"] if oracle["success"] else None
            comparisons.append({"task": task, "split": split, "oracle": oracle["success"], "vlm": vlm["success"], "ratio": ratio,
                                "target": TARGETS[split], "met": ratio is not None and ratio >= TARGETS[split]})
    for task in ("CountTools", "ClarifyTool"):
        for split, (instructions, variants) in SPLITS.items():
            result = evaluate([task], "vlm", args.backend, instruction_split=instructions, variant_split=variants, **common)
            rows += result["rows"]
            latencies += _latencies(result)
            failures += _failures(result, "vlm", split)
    counts = [r["success"] for r in rows if r["task"] == "CountTools"]
    clarify = [r for r in rows if r["task"] == "ClarifyTool"]
    summary = {
        "manipulation": comparisons,
        "count_answers_right": float(np.mean(counts)), "count_target_met": bool(np.mean(counts) >= TARGETS["count"]),
        "clarify_asked": float(np.mean([r["asked"] for r in clarify])), "clarify_success": float(np.mean([r["success"] for r in clarify])),
        "latency_ms": {"mean": float(np.mean(latencies)), "p95": float(np.percentile(latencies, 95)), "decisions": len(latencies),
                       "target": TARGETS["latency_ms"], "met": bool(np.mean(latencies) <= TARGETS["latency_ms"])},
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    out = {
        "command": " ".join(["python benchmarks/planner_success.py", f"--episodes {args.episodes}", f"--seed {args.seed}", f"--backend {args.backend}",
                             *(f"--option {o}" for o in args.option)]),
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine()},
        "wall_seconds": round(time.perf_counter() - start, 1),
        "summary": summary,
        "rows": rows,
        "failures": failures,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    table = markdown_table(rows)
    if args.markdown:
        Path(args.markdown).write_text(table)
    print(table)
    print(json.dumps(summary, indent=2))


def _failures(result: dict, planner: str, split: str) -> list[dict]:
    """Failed episodes with what the planner did and why, to read failures without rerunning them."""
    return [{"task": task, "planner": planner, "split": split, "seed": e["seed"], "instruction": e["instruction"],
             "decisions": [f"{d['action']} ({d['reason']})" for d in e["planner_log"]["decisions"]] if e["planner_log"] else None}
            for task, episodes in result["episodes"].items() for e in episodes if not e["success"]]


def _latencies(result: dict) -> list[float]:
    return [d["total_ms"] for episodes in result["episodes"].values() for e in episodes if e["planner_log"]
            for d in e["planner_log"]["decisions"]]


if __name__ == "__main__":
    main()
