"""The dev instruction set as data, and the planner benchmark's check that a set's goals are the env's."""

import json
import sys
from pathlib import Path

import pytest

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
    rows = [r for r in load_set(DEV) if r["task"] == "PlaceTool"][:2]
    assert check_targets("PlaceTool", rows, {}) == []
    wrong = [{**rows[0], "targets": [{**rows[0]["targets"][0], "colour": "purple"}]}]
    problems = check_targets("PlaceTool", wrong, {})
    assert len(problems) == 1 and rows[0]["id"] in problems[0] and "purple" in problems[0]
    (tmp_path / "goals.jsonl").write_text(json.dumps(rows[0]) + "\n")
    (tmp_path / "instructions.jsonl").write_text("")
    with pytest.raises(ValueError, match="no instruction"):
        load_set(tmp_path)
