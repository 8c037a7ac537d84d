"""Erratum 1: the ClarifyTool rows whose label named a family where the env's instruction named an unlisted tool.

Run once, as `python select_rows.py SET_DIR OUT_DIR`, on `../language-v1` and on `benchmarks/data/dev_instructions`: it resets
ClarifyTool on each row's seed, keeps the rows whose env instruction names one of the env's `UNFAMILIAR` tools while
the label's category is not `unlisted`, and writes what the new writer saw: `goals_for_writer.jsonl` (those goals with
category `unlisted`), `BRIEF.md` and `catalog.txt`.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import gymnasium as gym

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.tasks.clarify_tool import UNFAMILIAR
from workbench_gym.language.task import UNLISTED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("set_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    env = gym.make("workbench_gym/ClarifyTool-v0", control_mode="primitive")
    out = []
    for line in (args.set_dir / "goals.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["task"] != "ClarifyTool" or row["label"]["reference"]["category"] == UNLISTED:
            continue
        obs, _ = env.reset(seed=row["seed"])
        if any(name in obs["instruction"] for name in UNFAMILIAR):
            goal = {**row["label"], "reference": {**row["label"]["reference"], "category": UNLISTED}}
            out.append({"id": row["id"], "task": row["task"], "goal": goal})
    env.close()
    (args.out_dir / "goals_for_writer.jsonl").write_text("".join(json.dumps(o, sort_keys=True) + "\n" for o in out))
    for name in ("BRIEF.md", "catalog.txt"):
        shutil.copy(args.set_dir / name, args.out_dir)
    print(f"{len(out)} rows to rewrite -> {args.out_dir}")


if __name__ == "__main__":
    main()
