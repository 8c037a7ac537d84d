"""Export the scenes of the language-control set's seeds for its independent writer (goals.jsonl + a writer's view)."""

import json
import sys
from collections import Counter

import gymnasium as gym

import workbench_gym  # noqa: F401
from workbench_gym.scenes.catalog import get_category

out = sys.argv[1]
rows, view = [], []
for task in ("PickTool", "PlaceTool", "FetchTool", "SortTools", "CollectScrews", "CountTools"):
    env = gym.make(f"workbench_gym/{task}-v0", control_mode="primitive")
    for seed in range(100_000, 100_020):
        obs, info = env.reset(seed=seed)
        spec = env.unwrapped.world.spec
        bench = Counter(f"{t.colour} {get_category(t.category).display}" for t in spec.tools)
        bins = [f"{c.colour} {get_category(c.category).display}" for c in spec.containers]
        kinds = ("contradictory", "impossible", "no_task") if task in ("PickTool", "PlaceTool", "FetchTool") else ("no_task",)
        for kind in kinds:
            gid = f"{kind}-{task}-{seed}"
            rows.append({"id": gid, "task": task, "seed": seed, "label": kind, "targets": info["goal"], "expected": ["ask", "refuse"]})
            goal = info["goal"]
            tool = goal if "object" in goal else (goal["objects"][0] if len(goal.get("objects", [])) == 1 else None)
            v = {"id": gid, "task": task, "kind": kind, "bench_tools": dict(sorted(bench.items())), "containers": bins}
            if tool is not None and kind != "no_task":
                v["task_tool"] = f"{tool['colour']} {get_category(tool['category']).display}"
                if "zone" in tool:
                    v["task_container"] = tool["zone"]
            view.append(v)
    env.close()
open(f"{out}/goals.jsonl", "w").write("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
open(f"{out}/goals_for_writer.jsonl", "w").write("".join(json.dumps(v) + "\n" for v in view))
print(len(rows))
