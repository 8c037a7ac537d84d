"""`workbench-gym eval`: a planner's success, partial credit, primitives and decision latency per task and split.

Episodes run through `rollout` (same seeds give the same scenes for every planner, so planners compare side by
side); with a Ray address they fan out as Ray tasks, a chunk of seeds each. Results are JSON plus a markdown table.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from workbench_gym.rollout import rollout

COLUMNS = ("task", "planner", "backend", "split", "episodes", "success", "partial_credit", "primitives", "latency_ms_mean",
           "latency_ms_p95", "planner_ms_mean", "asked")


def run_episodes(task: str, planner: str, seeds: list[int], backend: str | None = None, backend_options: dict | None = None,
                 progress: bool = False, instructions: list[str] | None = None, **env_options) -> list[dict]:
    """Per-episode results (dicts) of consecutive `seeds` of one task; `instructions` reword them, one per seed."""
    options = {"backend": backend, **(backend_options or {})} if planner == "vlm" and backend else None
    summary = rollout(task, planner, len(seeds), seeds[0], progress=progress, planner_options=options,
                      instructions=instructions, **env_options)
    return [asdict(e) for e in summary.episodes]


def _ray_episodes(address: str, chunks: list[list[int]], task: str, planner: str, backend: str | None, backend_options: dict | None,
                  env_options: dict) -> list[dict]:
    """`run_episodes` over chunks of seeds as Ray tasks; "local" starts a Ray on this machine."""
    try:
        import ray
    except ImportError:
        raise SystemExit("--ray-address needs ray: pip install 'workbench-gym[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(run_episodes)
    futures = [remote.remote(task, planner, chunk, backend, backend_options, **env_options) for chunk in chunks]
    return [episode for chunk in ray.get(futures) for episode in chunk]


def aggregate(task: str, planner: str, backend: str | None, split: str, episodes: list[dict]) -> dict:
    """One table row: rates and means over episodes."""
    decisions = [d for e in episodes if e["planner_log"] for d in e["planner_log"]["decisions"]]
    latencies = [d["total_ms"] for d in decisions]
    credit = [e["progress"] if e["progress"] is not None else float(e["success"]) for e in episodes]
    asked = [e["planner_log"]["asked"] for e in episodes if e["planner_log"]]
    return {
        "task": task, "planner": planner, "backend": backend if planner == "vlm" else None, "split": split,
        "episodes": len(episodes),
        "success": float(np.mean([e["success"] for e in episodes])),
        "partial_credit": float(np.mean(credit)),
        "primitives": float(np.mean([e["steps"] for e in episodes])),
        "latency_ms_mean": float(np.mean(latencies)) if latencies else None,
        "latency_ms_p95": float(np.percentile(latencies, 95)) if latencies else None,
        "planner_ms_mean": float(np.mean([d["planner_ms"] for d in decisions])) if decisions else None,  # the rest is the backend's
        "asked": float(np.mean(asked)) if asked else None,
    }


def evaluate(tasks: list[str], planner: str = "vlm", backend: str | None = "native", episodes: int = 10, seed: int = 0,
             instruction_split: str = "train", variant_split: str = "seen", n_tools: int = 12, ray_address: str | None = None,
             workers: int = 2, progress: bool = True, backend_options: dict | None = None) -> dict:
    """Evaluate a planner on tasks; returns {"config", "rows", "episodes"} ready for JSON."""
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    split = f"{instruction_split}/{variant_split}"
    env = {"instruction_split": instruction_split, "variant_split": variant_split, "n_tools": n_tools}
    rows, per_task = [], {}
    for task in tasks:
        seeds = list(range(seed, seed + episodes))
        if ray_address:
            chunks = [list(c) for c in np.array_split(seeds, min(workers, episodes)) if len(c)]
            results = _ray_episodes(ray_address, [[int(s) for s in c] for c in chunks], task, planner, backend, backend_options, env)
        else:
            results = run_episodes(task, planner, seeds, backend, backend_options, progress=progress, **env)
        rows.append(aggregate(task, planner, backend, split, results))
        per_task[task] = results
    config = {"planner": planner, "backend": backend if planner == "vlm" else None, "episodes": episodes, "seed": seed,
              "instruction_split": instruction_split, "variant_split": variant_split, "n_tools": n_tools, "ray_address": ray_address}
    return {"config": config, "rows": rows, "episodes": per_task}


def markdown_table(rows: list[dict]) -> str:
    """The rows as a markdown table (rates in %, times in ms)."""

    def cell(key, value):
        if value is None:
            return "–"
        if key in ("success", "asked"):
            return f"{100 * value:.0f}%"
        if isinstance(value, float):
            return f"{value:.2f}" if key == "partial_credit" else f"{value:.1f}"
        return str(value)

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(k, row.get(k)) for k in COLUMNS) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The `eval` subcommand's options."""
    parser.add_argument("--planner", default="vlm", help="planner name (vlm, oracle, random)")
    parser.add_argument("--backend", default="native", help="VLM backend: native, hf or openai")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="backend option, e.g. path=/models/owlv2 or base_url=http://127.0.0.1:8000/v1 (repeatable)")
    parser.add_argument("--task", action="append", required=True, help="task name; repeat for several")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--instruction-split", choices=["train", "test"], default="train")
    parser.add_argument("--variant-split", choices=["seen", "unseen"], default="seen")
    parser.add_argument("--n-tools", type=int, default=12)
    parser.add_argument("--ray-address", help="fan episodes out as Ray tasks on this cluster ('local' starts one here)")
    parser.add_argument("--workers", type=int, default=2, help="Ray tasks per task evaluated")
    parser.add_argument("--out", required=True, help="results JSON path")
    parser.add_argument("--markdown", help="also write the table here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run_eval)


def run_eval(args) -> int:
    from workbench_gym.cli import task_name
    from workbench_gym.policies import PLANNERS
    from workbench_gym.policies.backends import parse_options

    if args.planner not in PLANNERS:
        raise ValueError(f"unknown planner {args.planner!r}; expected one of {sorted(PLANNERS)}")
    result = evaluate([task_name(t) for t in args.task], args.planner, args.backend, args.episodes, args.seed, args.instruction_split,
                      args.variant_split, args.n_tools, args.ray_address, args.workers, progress=not args.quiet,
                      backend_options=parse_options(args.option))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    table = markdown_table(result["rows"])
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(table)
    print(table, end="")
    return 0
