"""The dev instruction set as data, and the planner benchmark's check that a set's goals are the env's."""

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from workbench_gym.benchmark.instruction_sets import read_instruction_set
from workbench_gym.language.task import StructuredTask

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "benchmarks" / "data" / "dev_instructions"
sys.path.insert(0, str(ROOT / "benchmarks"))

from planner_success import check_targets, seed_range  # noqa: E402
from reader_accuracy import load_set  # noqa: E402


def test_the_dev_set_pairs_up_and_its_labels_are_structured_tasks():
    rows = load_set(DEV)
    assert len(rows) == 420 and len({r["id"] for r in rows}) == 420
    assert {r["task"] for r in rows} == {"PickTool", "PlaceTool", "FetchTool", "SortTools", "CollectScrews", "CountTools", "ClarifyTool"}
    assert seed_range([r["seed"] for r in rows]) == "dev"  # tuned on: never seeds of the test range
    for row in rows:
        assert StructuredTask.from_dict(row["label"]).to_dict() == row["label"], row["id"]
        assert row["text"].strip(), row["id"]
    assert "independent writer" in (DEV / "PROVENANCE.md").read_text()


def test_a_set_made_for_other_goals_is_caught(tmp_path):
    items = [i for i in read_instruction_set(DEV) if i.task == "PlaceTool"][:2]
    assert check_targets("PlaceTool", items) == []
    wrong = [dataclasses.replace(items[0], targets=[{**items[0].targets[0], "colour": "purple"}])]
    problems = check_targets("PlaceTool", wrong)
    assert len(problems) == 1 and items[0].id in problems[0] and "purple" in problems[0]
    goal = json.loads((DEV / "goals.jsonl").read_text().splitlines()[0])
    (tmp_path / "goals.jsonl").write_text(json.dumps(goal) + "\n")
    (tmp_path / "instructions.jsonl").write_text("")
    with pytest.raises(ValueError, match="no instruction"):
        load_set(tmp_path)


def test_structured_labels_give_kinds_and_goal_level_sorts_their_reset_option(tmp_path):
    """A label that is a structured task is the sentence's meaning; a sort naming no bins runs as goal-level."""
    sort = {"intent": "sort", "reference": None, "container": "", "groups": [], "missing": []}
    named = {**sort, "groups": [["pliers", "right bin"]]}
    goals = [{"id": "a", "task": "SortTools", "seed": 5, "label": sort, "targets": {}},
             {"id": "b", "task": "SortTools", "seed": 6, "label": named, "targets": {}},
             {"id": "c", "task": "PickTool", "seed": 7, "label": "paraphrase", "targets": {}}]
    (tmp_path / "goals.jsonl").write_text("".join(json.dumps(g) + "\n" for g in goals))
    (tmp_path / "instructions.jsonl").write_text("".join(json.dumps({"id": g["id"], "text": "tidy up"}) + "\n" for g in goals))
    a, b, c = read_instruction_set(tmp_path)
    assert (a.label, a.reset_options()) == ("goal-level", {"instruction": "tidy up", "goal_level": True})
    assert (b.label, b.reset_options()) == ("paraphrase", {"instruction": "tidy up"})
    assert c.meaning is None and c.label == "paraphrase"
    goals[0]["label"] = {"intent": "tidy"}
    (tmp_path / "goals.jsonl").write_text("".join(json.dumps(g) + "\n" for g in goals))
    with pytest.raises(ValueError, match="goals.jsonl:1: 'label' is not a structured task"):
        read_instruction_set(tmp_path)
