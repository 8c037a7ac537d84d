"""`workbench-gym eval`: a planner's success, partial credit, primitives and decision latency per task and split.

Episodes run through `rollout` (same seeds give the same scenes for every planner, so planners compare side by
side); with a Ray address they fan out as Ray tasks, a chunk of seeds each. Results are JSON plus a markdown table.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

import numpy as np

from workbench_gym.arguments import nonnegative_int, positive_int, task_name, writable_file
from workbench_gym.benchmark.cli import add_suite_arguments, run_suite_command
from workbench_gym.env_options import add_env_arguments, env_options
from workbench_gym.envs.config import EnvConfig
from workbench_gym.extras import require
from workbench_gym.rollout import rollout

COLUMNS = ("task", "planner", "backend", "split", "episodes", "success", "partial_credit", "primitives", "latency_ms_mean",
           "latency_ms_p95", "planner_ms_mean", "asked")


def run_episodes(task: str, planner: str, seeds: list[int], backend: str | None = None, backend_options: dict | None = None,
                 progress: bool = False, instructions: list[str | dict] | None = None, **env_options) -> list[dict]:
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
             ray_address: str | None = None, workers: int = 2, progress: bool = True, backend_options: dict | None = None,
             **env_options) -> dict:
    """Evaluate a planner on tasks; returns {"config", "rows", "episodes"} ready for JSON.

    `env_options` go to `gym.make` (`instruction_split`, `variant_split`, `n_tools`, ...; see `EnvConfig`).
    """
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    env = {"instruction_split": EnvConfig.instruction_split, "variant_split": EnvConfig.variant_split, "n_tools": EnvConfig.n_tools,
           **env_options}
    split = f"{env['instruction_split']}/{env['variant_split']}"
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
    config = {"planner": planner, "backend": backend if planner == "vlm" else None, "episodes": episodes, "seed": seed, **env,
              "ray_address": ray_address}
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


def add_planner_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    """--planner, --backend and --option: which planner, and for the VLM planner, which backend with which options."""
    from workbench_gym.policies import PLANNERS
    from workbench_gym.policies.backends import BACKENDS

    parser.add_argument("--planner", default=default, help=f"one of {', '.join(PLANNERS)} (default {default})")
    parser.add_argument("--backend", default="native", help=f"the VLM planner's backend, one of {', '.join(BACKENDS)} (default native)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="backend option, e.g. weights=/models/g.safetensors or base_url=http://127.0.0.1:8000/v1 (repeatable)")


def planner_options(args: argparse.Namespace) -> dict | None:
    """The planner's options from --backend/--option, checked before any episode: planner and backend names, the
    backend's extras (the pip command if missing) and its option names. None for planners that take none."""
    from workbench_gym.policies import PLANNERS
    from workbench_gym.policies.backends import BACKENDS, check_backend, parse_options

    PLANNERS[args.planner]  # noqa: B018  (names the planners if unknown)
    options = parse_options(args.option)
    if args.planner != "vlm":
        if options:
            raise ValueError(f"--option is for the VLM planner's backend; the {args.planner} planner takes none")
        return None
    require("vlm", "the vlm planner", ("PIL",))
    if args.backend in BACKENDS:  # a backend registered at run time (a test's, say) is checked when it is built
        check_backend(args.backend, options)
    return {"backend": args.backend, **options}


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """The `eval` subcommand's options."""
    add_planner_arguments(parser, default="vlm")
    parser.add_argument("--task", action="append", help="task name; repeat for several (or --suite)")
    parser.add_argument("--episodes", type=positive_int, default=10)
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="episodes use seeds seed, seed+1, ...")
    parser.add_argument("--ray-address", help="fan episodes out as Ray tasks on this cluster ('local' starts one here)")
    parser.add_argument("--workers", type=positive_int, default=2, help="Ray tasks per task evaluated")
    parser.add_argument("--out", required=True, help="results JSON path (with --suite: the results folder)")
    parser.add_argument("--markdown", help="also write the table here")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_env_arguments(parser, skip=("control_mode",))  # the planner chooses the control mode
    add_suite_arguments(parser)
    parser.set_defaults(run=run_eval)


def run_eval(args) -> int:
    if args.suite:
        return run_suite_command(args, planner_options(args) or {}, env_options(args))
    if not args.task:
        raise ValueError("eval needs --task (one or more), or --suite")
    tasks = [task_name(t) for t in args.task]
    options = planner_options(args) or {}
    out = writable_file(args.out, "--out")
    markdown = writable_file(args.markdown, "--markdown") if args.markdown else None
    if args.ray_address:
        require("ray", "--ray-address")
    backend = options.pop("backend", None)
    result = evaluate(tasks, args.planner, backend, args.episodes, args.seed, args.ray_address, args.workers, progress=not args.quiet,
                      backend_options=options, **env_options(args))
    out.write_text(json.dumps(result, indent=2))
    table = markdown_table(result["rows"])
    if markdown:
        markdown.write_text(table)
    print(table, end="")
    return 0
