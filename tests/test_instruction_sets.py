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


def test_failed_episodes_are_sorted_by_what_the_hand_held():
    """A pick that came up with a tool the goal does not name is a wrong tool, whatever else happened; a pick that held
    nothing is a failed grasp; a question on a clear task is a needless ask; the rest is other."""
    from planner_success import failure_kind

    def episode(*held, asked=False, goal=None):
        return {"goal": goal or {"object": "tool_01"}, "planner_log": {"asked": asked},
                "actions": [{"verb": "pick", "held": h} for h in held]}

    assert failure_kind("PickTool", episode(None, "tool_02", asked=True)) == "wrong tool"
    assert failure_kind("PlaceTool", episode("tool_03", goal={"objects": [{"object": "tool_01"}, {"object": "tool_02"}]})) == "wrong tool"
    assert failure_kind("PickTool", episode(None, "tool_01")) == "grasp failed"
    assert failure_kind("PickTool", episode(asked=True)) == "asked needlessly"
    assert failure_kind("ClarifyTool", episode(asked=True)) == "other"  # there a question is the task
    assert failure_kind("PickTool", episode("tool_01")) == "other"
