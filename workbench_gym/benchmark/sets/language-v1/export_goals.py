"""Export each test seed's goal as a structured task, for the writer of the independent instruction set.

Run once, before the set was written: for every task and seed it resets the env (default options), reads the
goal's structured meaning from the env's own instruction with the reader of the time, and writes `goals.jsonl`.
The writer saw only `goals.jsonl` (with the task descriptions and the catalog), never the templates or the reader.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
from workbench_gym.policies.instructions import parse_instruction

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.language.task import UNLISTED, StructuredTask, ToolReference
from workbench_gym.scenes.catalog import TOOLS

TASKS = ("PickTool", "PlaceTool", "FetchTool", "SortTools", "CollectScrews", "CountTools", "ClarifyTool")
QUESTION_INTENTS = {"count": "count", "colour": "colour_question", "exists": "existence_question"}


def category_of(categories: tuple[str, ...]) -> str:
    """The most specific catalog category the words fit, or their family when they fit several."""
    if not categories:
        return UNLISTED
    if len(categories) == 1:
        return categories[0]
    families = {TOOLS[c].family for c in categories}
    assert len(families) == 1, categories
    return families.pop()


def family_category(family: str) -> str:
    members = [n for n, c in TOOLS.items() if c.family == family]
    return members[0] if len(members) == 1 else family


def container_of(destination: str) -> str:
    if destination == "hand-over area":
        return "hand-over area"
    if "tray" in destination:
        return "parts tray"
    return destination


def reference_of(ref) -> ToolReference:
    order = ref.superlative or (ref.spatial if ref.spatial in ("leftmost", "rightmost") else "")
    relation = ref.spatial if ref.spatial == "nearest_tray" else ""
    return ToolReference(category_of(ref.categories), ref.colour, ref.size, order, relation, ref.plural)


def structured(task: str, instruction: str, goal: dict) -> StructuredTask:
    if task == "CountTools":
        every = goal["question"] == "count"
        return StructuredTask(QUESTION_INTENTS[goal["question"]], ToolReference(family_category(goal["subject"]), every=every))
    plan = parse_instruction(instruction)
    if plan.kind == "sort":
        named = any(side in instruction for side in ("left", "middle", "right"))
        groups = tuple(sorted((category_of(s.target.categories), s.destination) for s in plan.steps)) if named else ()
        return StructuredTask("sort", groups=groups)
    step = plan.steps[0]
    if task == "CollectScrews":
        return StructuredTask("collect", ToolReference("screw", every=True), "parts tray")
    if step.verb == "pick":
        return StructuredTask("pick", reference_of(step.target))
    intent = "fetch" if step.destination == "hand-over area" else "place"
    container = "" if intent == "fetch" else container_of(step.destination)
    return StructuredTask(intent, reference_of(step.target), container)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs=2, default=(100_000, 100_060), help="first seed, end seed (exclusive)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("goals.jsonl"))
    args = parser.parse_args()
    rows = []
    for task in TASKS:
        env = gym.make(f"workbench_gym/{task}-v0", control_mode="primitive")
        for seed in range(*args.seeds):
            obs, info = env.reset(seed=seed)
            goal = info["goal"]
            targets = goal["objects"] if "objects" in goal else [goal] if "object" in goal else []
            rows.append({
                "id": f"{task}-{seed}", "task": task, "seed": seed,
                "label": structured(task, obs["instruction"], goal).to_dict(),
                "targets": [{k: t[k] for k in ("object", "category", "size", "colour") if k in t} | ({"zone": t["zone"]} if "zone" in t else {})
                            for t in targets],
            })
        env.close()
    args.out.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    print(f"wrote {len(rows)} goals to {args.out}")


if __name__ == "__main__":
    main()
