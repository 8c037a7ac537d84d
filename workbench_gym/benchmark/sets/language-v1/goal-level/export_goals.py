"""Export SortTools scenes on test seeds 100060-100099 for goal-level requests (sort, any bins): goals.jsonl + a writer's view."""

import json
import sys
from collections import Counter

import gymnasium as gym

import workbench_gym  # noqa: F401
from workbench_gym.scenes.catalog import get_category

out = sys.argv[1]
rows, view = [], []
env = gym.make("workbench_gym/SortTools-v0", control_mode="primitive")
for seed in range(100_060, 100_100):
    obs, info = env.reset(seed=seed)
    spec = env.unwrapped.world.spec
    bench = Counter(f"{t.colour} {get_category(t.category).display}" for t in spec.tools)
    bins = [f"{c.colour} {get_category(c.category).display}" for c in spec.containers]
    gid = f"SortTools-goal-level-{seed}"
    label = {"intent": "sort", "reference": None, "container": "", "groups": [], "missing": []}
    rows.append({"id": gid, "task": "SortTools", "seed": seed, "label": label, "targets": info["goal"]})
    view.append({"id": gid, "task": "SortTools", "goal": {"intent": "sort", "groups": []}, "bench_tools": dict(sorted(bench.items())), "containers": bins})
env.close()
open(f"{out}/goals.jsonl", "w").write("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
open(f"{out}/goals_for_writer.jsonl", "w").write("".join(json.dumps(v) + "\n" for v in view))
print(len(rows))
