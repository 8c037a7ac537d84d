"""Instruction sets read from a directory: independent phrasings (level L4) and independently written language controls.

A set is a directory of two JSON-lines files, so people who write sentences never touch code:

- `goals.jsonl`, one goal per line: `{"id", "task", "seed", "label", "targets"}` and, for a control set, `"expected"`
  (the right actions: some of "ask", "refuse", "succeed"). `label` is a kind name (a control's kind, "paraphrase") or
  the sentence's meaning as a `StructuredTask` dict (its kind is then "goal-level" for a sort that names no bins, else
  "paraphrase", unless the goal gives `"kind"`). `targets` must match the env's `info["goal"]` for that task and seed,
  so a sentence is run only on the scene it was written for: a JSON object is a subset match (every key given must be
  equal), a list is matched against the goal's tools (`goal_targets`), each by the keys it gives;
- `instructions.jsonl`, one sentence per line: `{"id", "text"}`, where `id` names a goal (a goal may have several).

`read_instruction_set` checks both files and names the file and line of anything wrong; `set_sha256` hashes them so a
suite can pin the set it was run with.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from workbench_gym.benchmark.suite import RIGHT_ACTIONS
from workbench_gym.envs.observations import check_text
from workbench_gym.envs.task import TASKS
from workbench_gym.language.task import StructuredTask

FILES = ("goals.jsonl", "instructions.jsonl")


class InstructionSetError(ValueError):
    """An instruction-set directory that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Item:
    """One sentence to run: the goal it was written for, its label and (for controls) the right actions."""

    id: str
    task: str
    seed: int
    label: str
    targets: dict | list
    text: str
    expected: tuple[str, ...] = field(default_factory=tuple)
    meaning: StructuredTask | None = None

    @property
    def goal_level(self) -> bool:
        """A sort that names no bins: the env scores it as any bin per family."""
        return self.meaning is not None and self.meaning.intent == "sort" and not self.meaning.groups

    def reset_options(self) -> dict:
        """The env's reset options that run this sentence on its goal."""
        return {"instruction": self.text} | ({"goal_level": True} if self.goal_level else {})


def _lines(path: Path):
    if not path.is_file():
        raise InstructionSetError(f"{path}: missing; an instruction set is a directory holding {FILES}")
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InstructionSetError(f"{path}:{number}: not JSON ({err})") from None
        if not isinstance(record, dict):
            raise InstructionSetError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def _field(record: dict, key: str, kind: type | tuple[type, ...], where: str):
    if key not in record or not isinstance(record[key], kind) or (kind is int and isinstance(record[key], bool)):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise InstructionSetError(f"{where}: expected {key!r} as {names}, got {record.get(key)!r}")
    return record[key]


def _label(record: dict, where: str) -> tuple[str, StructuredTask | None]:
    """The goal's kind name and, when its label is a structured task, that task."""
    label = _field(record, "label", (str, dict), where)
    if isinstance(label, str):
        return label, None
    try:
        meaning = StructuredTask.from_dict(label)
    except (KeyError, TypeError, ValueError) as err:
        raise InstructionSetError(f"{where}: 'label' is not a structured task ({err})") from None
    kind = record.get("kind") or ("goal-level" if meaning.intent == "sort" and not meaning.groups else "paraphrase")
    return kind, meaning


def read_instruction_set(directory: str | Path, control: bool = False) -> list[Item]:
    """The set's sentences with their goals, in `instructions.jsonl` order. `control` sets need `expected` on every goal."""
    directory = Path(directory)
    goals: dict[str, dict] = {}
    for number, record in _lines(directory / "goals.jsonl"):
        where = f"{directory / 'goals.jsonl'}:{number}"
        goal_id = _field(record, "id", str, where)
        if goal_id in goals:
            raise InstructionSetError(f"{where}: duplicate goal id {goal_id!r}")
        task = _field(record, "task", str, where)
        if task not in TASKS:
            raise InstructionSetError(f"{where}: unknown task {task!r}; expected one of {sorted(TASKS)}")
        expected = record.get("expected", [])
        if control and (not isinstance(expected, list) or not expected or any(e not in RIGHT_ACTIONS for e in expected)):
            raise InstructionSetError(f"{where}: a control set's goals need 'expected' as a list of {RIGHT_ACTIONS}, got {expected!r}")
        label, meaning = _label(record, where)
        goals[goal_id] = {"task": task, "seed": _field(record, "seed", int, where), "label": label, "meaning": meaning,
                          "targets": _field(record, "targets", (dict, list), where), "expected": tuple(expected)}
    items = []
    for number, record in _lines(directory / "instructions.jsonl"):
        where = f"{directory / 'instructions.jsonl'}:{number}"
        goal_id, text = _field(record, "id", str, where), _field(record, "text", str, where)
        if goal_id not in goals:
            raise InstructionSetError(f"{where}: id {goal_id!r} names no goal in goals.jsonl")
        try:
            check_text(text, f"{where} text")
        except ValueError as err:
            raise InstructionSetError(str(err)) from None
        items.append(Item(goal_id, text=text, **goals[goal_id]))
    unsaid = sorted(set(goals) - {i.id for i in items})
    if unsaid:
        raise InstructionSetError(f"{directory}: {len(unsaid)} goals have no instruction in instructions.jsonl, e.g. {unsaid[:3]}")
    return items


#: Where the sets a suite names by name ship, in the package (`sets/<name>/`).
SETS_DIR = Path(__file__).with_name("sets")


def packaged_set(name: str) -> Path | None:
    """The folder of the packaged instruction set `name` ("language-v1"), or None when the package has none."""
    path = SETS_DIR / name
    return path if (path / FILES[0]).is_file() else None


def set_sha256(directory: str | Path) -> str:
    """sha256 over the set's two files, in order."""
    digest = hashlib.sha256()
    for name in FILES:
        digest.update((Path(directory) / name).read_bytes())
    return digest.hexdigest()


def goal_targets(goal: dict) -> list[dict]:
    """The goal's tools as a list: its `objects`, or the goal itself when it names one `object`, else none."""
    return list(goal["objects"]) if "objects" in goal else [goal] if "object" in goal else []


def targets_match(targets, goal) -> bool:
    """Whether the env's goal has every key and value that `targets` gives (lists match element by element); a list
    of targets is matched against the goal's tools (`goal_targets`)."""
    if isinstance(targets, list) and isinstance(goal, dict):
        return targets_match(targets, goal_targets(goal))
    if isinstance(targets, dict):
        return isinstance(goal, dict) and all(k in goal and targets_match(v, goal[k]) for k, v in targets.items())
    if isinstance(targets, list):
        return isinstance(goal, (list, tuple)) and len(goal) == len(targets) and all(targets_match(t, g) for t, g in zip(targets, goal))
    return targets == goal
