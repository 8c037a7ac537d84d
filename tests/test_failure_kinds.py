"""The planner benchmark's failure kinds: what the hand held after each pick says why a failed episode failed."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from planner_success import failure_kind  # noqa: E402


def test_failed_episodes_are_sorted_by_what_the_hand_held():
    """A pick that came up with a tool the goal does not name is a wrong tool, whatever else happened; a pick that held
    nothing is a failed grasp; a question on a clear task is a needless ask; the rest is other."""
    def episode(*held, asked=False, goal=None):
        return {"goal": goal or {"object": "tool_01"}, "planner_log": {"asked": asked},
                "actions": [{"verb": "pick", "held": h} for h in held]}

    assert failure_kind("PickTool", episode(None, "tool_02", asked=True)) == "wrong tool"
    assert failure_kind("PlaceTool", episode("tool_03", goal={"objects": [{"object": "tool_01"}, {"object": "tool_02"}]})) == "wrong tool"
    assert failure_kind("PickTool", episode(None, "tool_01")) == "grasp failed"
    assert failure_kind("PickTool", episode(asked=True)) == "asked needlessly"
    assert failure_kind("ClarifyTool", episode(asked=True)) == "other"  # there a question is the task
    assert failure_kind("PickTool", episode("tool_01")) == "other"
