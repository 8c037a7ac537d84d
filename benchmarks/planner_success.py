"""VLM planner against the privileged oracle, side by side on the same seeds, with the env's or a set's phrasings.

    python benchmarks/planner_success.py --episodes 50 --out benchmarks/results/planner_success.json        # test seeds
    python benchmarks/planner_success.py --phrasings benchmarks/data/dev_instructions --out /tmp/dev.json    # a set's sentences

`--phrasings env` (default) runs each task on seeds `--seeds`, `--seeds`+1, ... with the env's own instructions: training
phrasings with seen variants, and test phrasings with unseen variants. `--phrasings DIR` runs each (task, seed) of an
instruction set (`goals.jsonl` + `instructions.jsonl`, see `workbench_gym.benchmark.instruction_sets`) with the set's sentence as the
instruction (`reset(seed=s, options={"instruction": text})`), after checking that the env's goal for that seed is the
set's `targets` (it stops with the mismatches otherwise). Rows: success of each planner and the VLM planner's share of
the oracle's (PickTool, PlaceTool, FetchTool, SortTools, CollectScrews); CountTools answers right; ClarifyTool asked
and success; needless `Ask` (episodes of clear instructions where the planner asked); decision latency.

Seeds: reported figures are run once, at the end, on the test range (100,000 and up, the default). Develop on seeds
below 10,000 (`--seeds 1000`) and dev sets only. The JSON says which seeds ran and which range they are in.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.benchmark.instruction_sets import Item, read_instruction_set, targets_match
from workbench_gym.evaluate import aggregate, markdown_table, run_episodes
from workbench_gym.policies.backends import parse_options

RATIO_TASKS = ("PickTool", "PlaceTool", "FetchTool", "SortTools", "CollectScrews")
TASKS = (*RATIO_TASKS, "CountTools", "ClarifyTool")
CLEAR_TASKS = TASKS[:-1]  # every task but ClarifyTool gives a clear instruction: an Ask there is needless
ENV_SPLITS = {"train": ("train", "seen"), "test": ("test", "unseen")}
TARGETS = {"env": {"PickTool": 0.9, "PlaceTool": 0.9, "FetchTool": 0.9, "SortTools": 0.85, "CollectScrews": 0.85},
           "set": {"PickTool": 0.88, "PlaceTool": 0.88, "FetchTool": 0.88, "SortTools": 0.85, "CollectScrews": 0.85},
           "count": 0.9, "needless_ask": 0.03, "clarify_asked": 0.95, "clarify_success": 0.85, "latency_ms": 50.0}
TEST_SEEDS, DEV_SEEDS = 100_000, 10_000


def seed_range(seeds: list[int]) -> str:
    """Which range seeds are in: "test" (>= 100,000), "dev" (< 10,000) or "other"."""
    if min(seeds) >= TEST_SEEDS:
        return "test"
    return "dev" if max(seeds) < DEV_SEEDS else "other"


def check_targets(task: str, items: list[Item]) -> list[str]:
    """Mismatches between the env's goal for each sentence's seed and the set's `targets` (empty when all agree)."""
    import gymnasium as gym

    env = gym.make(f"workbench_gym/{task}-v0", obs_mode="state", control_mode="primitive")
    bad = []
    try:
        for item in items:
            _, info = env.reset(seed=item.seed)
            if not targets_match(item.targets, info["goal"]):
                bad.append(f"{item.id}: the env's goal is {info['goal']}, the set's targets are {item.targets}")
    finally:
        env.close()
    return bad


def load_set(folder: Path) -> dict[str, list[Item]]:
    """An instruction set's sentences by task, seeds in order (`benchmark.instruction_sets` reads and checks it)."""
    by_task: dict[str, list[Item]] = {}
    for item in read_instruction_set(folder):
        by_task.setdefault(item.task, []).append(item)
    return {t: sorted(items, key=lambda i: i.seed) for t, items in by_task.items()}


FAILURE_KINDS = ("wrong tool", "grasp failed", "asked needlessly", "other")


def failure_kind(task: str, episode: dict) -> str:
    """Why a failed episode failed, from what the hand held after each primitive (the env's record, read only here):
    a pick that came up with a tool the goal does not name is "wrong tool"; else a pick that held nothing is "grasp
    failed"; else a question on a clear instruction is "asked needlessly"; else "other" (a place, an answer, a step limit)."""
    goal = episode.get("goal") or {}
    wanted = {t["object"] for t in goal.get("objects", [goal] if "object" in goal else [])}
    picks = [a for a in episode.get("actions") or [] if a["verb"] == "pick"]
    if wanted and any(a["held"] and a["held"] not in wanted for a in picks):
        return "wrong tool"
    if any(not a["held"] for a in picks):
        return "grasp failed"
    if task in CLEAR_TASKS and episode["planner_log"] and episode["planner_log"]["asked"]:
        return "asked needlessly"
    return "other"


def _runs(seeds: list[int], size: int) -> list[tuple[int, int]]:
    """(start, end) index ranges of consecutive seeds, at most `size` long: one rollout each."""
    out, start = [], 0
    for i in range(1, len(seeds) + 1):
        if i == len(seeds) or seeds[i] != seeds[i - 1] + 1 or i - start == size:
            out.append((start, i))
            start = i
    return out


def _job(job: tuple) -> list[dict]:
    task, planner, seeds, instructions, backend, backend_options, env_options = job
    if planner == "vlm":  # load MiniLM and the reader once, before any decision is timed
        from workbench_gym.language.reader import read_instruction

        read_instruction("warm up")
    return run_episodes(task, planner, seeds, backend, backend_options, instructions=instructions, **env_options)


def run_jobs(jobs: list[tuple], workers: int) -> list[list[dict]]:
    """Episodes of each job (task, planner, consecutive seeds, instructions, ...), over `workers` processes."""
    if workers <= 1:
        return [_job(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_job, jobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, help="episodes per row (default: 50 with --phrasings env, every row of a set)")
    parser.add_argument("--seeds", "--seed", type=int, default=TEST_SEEDS,
                        help="first seed with --phrasings env: seeds S, S+1, ... (default: the test range)")
    parser.add_argument("--phrasings", default="env", help="'env' (the env's instructions) or an instruction set's folder")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--backend", default="native")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="backend option (repeatable)")
    parser.add_argument("--workers", type=int, default=1, help="processes to run episodes in")
    parser.add_argument("--out", default="benchmarks/results/planner_success.json")
    parser.add_argument("--markdown", help="also write the table here")
    args = parser.parse_args()

    start = time.perf_counter()
    backend_options = parse_options(args.option)
    plans = []  # (split label, task, planner, seeds, instructions)
    if args.phrasings == "env":
        seeds = list(range(args.seeds, args.seeds + (args.episodes or 50)))
        for split, (instructions, variants) in ENV_SPLITS.items():
            env_options = {"instruction_split": instructions, "variant_split": variants}
            for task in args.tasks:
                for planner in ("oracle", "vlm") if task in RATIO_TASKS else ("vlm",):
                    plans.append((split, task, planner, seeds, None, env_options))
    else:
        folder = Path(args.phrasings)
        by_task = load_set(folder)
        problems = [p for task in args.tasks for p in check_targets(task, by_task.get(task, [])[: args.episodes])]
        if problems:
            raise SystemExit(f"{folder}: {len(problems)} rows do not match the env's goals; the set was made for other "
                             "scenes or goals:\n" + "\n".join(problems[:20]))
        for task in args.tasks:
            rows = by_task.get(task, [])[: args.episodes]
            if not rows:
                raise SystemExit(f"{folder}: no rows for task {task}")
            for planner in ("oracle", "vlm") if task in RATIO_TASKS else ("vlm",):
                plans.append(("set", task, planner, [r.seed for r in rows], [r.reset_options() for r in rows], {}))
    all_seeds = sorted({s for p in plans for s in p[3]})
    chunk = max(1, -(-len(all_seeds) // max(1, args.workers)))
    jobs, owners = [], []
    for k, (_, task, planner, seeds, texts, env_options) in enumerate(plans):
        for a, b in _runs(seeds, chunk):
            jobs.append((task, planner, seeds[a:b], texts[a:b] if texts else None, args.backend if planner == "vlm" else None,
                         backend_options, env_options))
            owners.append(k)
    results = run_jobs(jobs, args.workers)
    episodes: dict[int, list[dict]] = {}
    for k, result in zip(owners, results):
        episodes.setdefault(k, []).extend(result)

    rows, latencies, failures, by = [], [], [], {}
    for k, (split, task, planner, *_) in enumerate(plans):
        row = aggregate(task, planner, args.backend, split, episodes[k])
        rows.append(row)
        by[(split, task, planner)] = (row, episodes[k])
        if planner == "vlm":
            latencies += [d["total_ms"] for e in episodes[k] if e["planner_log"] for d in e["planner_log"]["decisions"]]
        row["failures"] = {kind: sum(failure_kind(task, e) == kind for e in episodes[k] if not e["success"]) for kind in FAILURE_KINDS}
        failures += [{"task": task, "planner": planner, "split": split, "seed": e["seed"], "instruction": e["instruction"],
                      "kind": failure_kind(task, e),
                      "decisions": [f"{d['action']} ({d['reason']})" for d in e["planner_log"]["decisions"]] if e["planner_log"] else None}
                     for e in episodes[k] if not e["success"]]
    summary = {}
    for split in dict.fromkeys(p[0] for p in plans):
        targets = TARGETS["set" if split == "set" else "env"]
        part: dict = {"manipulation": []}
        for task in (t for t in args.tasks if t in RATIO_TASKS):
            oracle, vlm = by[(split, task, "oracle")][0], by[(split, task, "vlm")][0]
            ratio = vlm["success"] / oracle["success"] if oracle["success"] else None
            part["manipulation"].append({"task": task, "oracle": oracle["success"], "vlm": vlm["success"], "ratio": ratio,
                                         "target": targets[task], "met": ratio is not None and ratio >= targets[task]})
        if (split, "CountTools", "vlm") in by:
            right = by[(split, "CountTools", "vlm")][0]["success"]
            part["count_answers_right"] = {"value": right, "target": TARGETS["count"], "met": right >= TARGETS["count"]}
        if (split, "ClarifyTool", "vlm") in by:
            clarify = by[(split, "ClarifyTool", "vlm")][0]
            part["clarify"] = {"asked": clarify["asked"], "success": clarify["success"],
                               "met": clarify["asked"] >= TARGETS["clarify_asked"] and clarify["success"] >= TARGETS["clarify_success"]}
        clear = [e["planner_log"]["asked"] for t in CLEAR_TASKS if (split, t, "vlm") in by for e in by[(split, t, "vlm")][1] if e["planner_log"]]
        if clear:
            needless = float(np.mean(clear))
            part["needless_ask"] = {"rate": needless, "episodes": len(clear), "target": TARGETS["needless_ask"],
                                    "met": needless <= TARGETS["needless_ask"]}
        summary[split] = part
    summary["latency_ms"] = {"mean": float(np.mean(latencies)), "p95": float(np.percentile(latencies, 95)), "decisions": len(latencies),
                             "target": TARGETS["latency_ms"], "met": bool(np.mean(latencies) <= TARGETS["latency_ms"]),
                             "workers_sharing_cores": [args.workers, os.cpu_count()],
                             "note": None if args.workers <= 1 else "taken while episodes ran in parallel processes on shared cores: "
                                     "quote benchmarks/planner_latency.py (uncached, one process)"} if latencies else None
    summary["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "command": "python benchmarks/planner_success.py " + " ".join(sys.argv[1:]),
        "phrasings": args.phrasings,
        "seeds": {"first": all_seeds[0], "last": all_seeds[-1], "count": len(all_seeds), "range": seed_range(all_seeds)},
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(), "workers": args.workers},
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
    print(json.dumps({"seeds": out["seeds"], "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
