"""Instruction reader accuracy on a labelled instruction set: intent, all slots exact, per slot and per task, and time.

    python benchmarks/reader_accuracy.py --set benchmarks/data/dev_instructions --out benchmarks/results/reader_accuracy_dev.json

A set is a folder with `goals.jsonl` (id, task, seed, label: the structured task) and `instructions.jsonl` (id, text).
An instruction counts as all-slots-exact when the reader's `StructuredTask.to_dict()` equals its label in every field.
Time is wall-clock milliseconds per `read_instruction` call after the model is loaded (mean and p95), on this machine,
and the process's CPU milliseconds per call (what reading costs on a machine not shared with other work).
Targets (issue 12, on the independent test set): intent >= 98%, all slots exact >= 92%.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from workbench_gym.benchmark.instruction_sets import read_instruction_set

sys.path.insert(0, str(Path(__file__).parent))
from report import emit  # noqa: E402

SLOT_FIELDS = ("intent", "category", "colour", "size", "order", "relation", "every", "container", "groups", "missing")
TARGETS = {"intent": 0.98, "exact": 0.92}


def load_set(folder: Path) -> list[dict]:
    """Labelled rows of a set: id, task, seed, label (the structured task's dict), kind, text; sentences whose goal
    gives no structured task (a control's kind) are left out."""
    return [{"id": i.id, "task": i.task, "seed": i.seed, "label": i.meaning.to_dict(), "kind": i.label, "text": i.text}
            for i in read_instruction_set(folder) if i.meaning is not None]


def fields(task: dict) -> dict:
    """A structured task's dict as flat slot fields."""
    ref = task.get("reference") or {}
    return {"intent": task["intent"], "category": ref.get("category", ""), "colour": ref.get("colour", ""),
            "size": ref.get("size", ""), "order": ref.get("order", ""), "relation": ref.get("relation", ""),
            "every": bool(ref.get("every", False)), "container": task.get("container", ""),
            "groups": sorted(map(list, task.get("groups", []))), "missing": sorted(task.get("missing", []))}


def _shown(path: Path) -> str:
    """A path relative to the working directory when it lies under it (results read the same on every machine)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True, help="folder with goals.jsonl and instructions.jsonl")
    parser.add_argument("--weights", help="reader weights (default: the shipped ones)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--no-errors", action="store_true", help="leave the misread instructions out of the JSON")
    parser.add_argument("--out", help="write the JSON result here too")
    args = parser.parse_args()

    import torch

    from workbench_gym.language.reader import DEFAULT_WEIGHTS, InstructionReader

    torch.set_num_threads(args.threads)
    folder = Path(args.set)
    rows = load_set(folder)
    weights = Path(args.weights or DEFAULT_WEIGHTS)
    reader = InstructionReader(weights)
    reader.read("pick up the red hammer")  # load MiniLM before timing
    times, cpu, results = [], [], []
    for row in rows:
        start, start_cpu = time.perf_counter(), time.process_time()
        task = reader.read(row["text"])
        times.append(1e3 * (time.perf_counter() - start))
        cpu.append(1e3 * (time.process_time() - start_cpu))
        results.append((row, fields(task.to_dict()), fields(row["label"])))
    per_slot = {f: float(np.mean([got[f] == want[f] for _, got, want in results])) for f in SLOT_FIELDS}
    exact = [got == want for _, got, want in results]
    per_task: dict[str, list] = defaultdict(list)
    for (row, got, want), ok in zip(results, exact):
        per_task[row["task"]].append((got["intent"] == want["intent"], ok))
    seeds = sorted({row["seed"] for row in rows})
    out = {
        "command": "python benchmarks/reader_accuracy.py " + " ".join(sys.argv[1:]),
        "set": str(folder), "instructions": len(rows), "seeds": {"first": seeds[0], "last": seeds[-1], "count": len(seeds)},
        "tasks": sorted(per_task),
        "weights": {"path": _shown(weights), "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()[:16]},
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(), "threads": args.threads},
        "intent_accuracy": per_slot["intent"], "exact_accuracy": float(np.mean(exact)),
        "targets": TARGETS, "met": {"intent": per_slot["intent"] >= TARGETS["intent"], "exact": float(np.mean(exact)) >= TARGETS["exact"]},
        "per_slot": per_slot,
        "per_task": {t: {"n": len(v), "intent": float(np.mean([a for a, _ in v])), "exact": float(np.mean([b for _, b in v]))}
                     for t, v in sorted(per_task.items())},
        "ms_per_instruction": {"mean": float(np.mean(times)), "p95": float(np.percentile(times, 95)), "max": float(np.max(times))},
        # CPU time of this process: what reading costs without the other loads a shared machine runs
        "cpu_ms_per_instruction": {"mean": float(np.mean(cpu)), "p95": float(np.percentile(cpu, 95))},
    }
    if not args.no_errors:
        out["errors"] = [{"id": row["id"], "text": row["text"], "wrong": {f: {"got": got[f], "want": want[f]} for f in SLOT_FIELDS if got[f] != want[f]}}
                         for (row, got, want), ok in zip(results, exact) if not ok]
    emit(out, args.out)


if __name__ == "__main__":
    main()
