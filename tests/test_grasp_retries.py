"""Grasp retries: a part held as well across other sides (a hex nut) closes across them before anything else;
other tools keep flipping the fit and sliding along the region. Planner and oracle read the same `GraspRegion.turns`."""

import math

import numpy as np
import pytest

from workbench_gym.control.grasp_regions import region_grasp, turned
from workbench_gym.policies.grasp_poses import pick_at, retry_kind
from workbench_gym.policies.perception.tool_fit import ToolEstimate
from workbench_gym.scenes.geometry import build_geometry


def estimate(category: str, size: str, yaw: float = 0.3) -> ToolEstimate:
    return ToolEstimate(category, size, (0.4, -0.1, 0.75), yaw, length=0.1, top=0.01, fit=1.0, points=100)


def closing_line(yaw: float) -> float:
    """A gripper yaw as the line the fingers close along, in [0, 180) degrees."""
    return math.degrees(yaw) % 180


def test_a_nut_is_retried_across_its_other_flats():
    nut = estimate("nut", "large")
    picks = [pick_at(nut, attempt) for attempt in range(3)]
    assert all(np.allclose(p.pose[:3], picks[0].pose[:3], atol=1e-9) for p in picks)  # a nut's grasp point is its middle
    lines = sorted(closing_line(p.pose[3]) for p in picks)
    gaps = np.diff(lines + [lines[0] + 180])
    assert np.allclose(gaps, 60, atol=1e-6)  # the three pairs of flats, each once
    assert "60 degrees round" in retry_kind(nut, 1) and "60 degrees round" in retry_kind(nut, 2)
    assert retry_kind(nut, 3) == "taking it the other way round"


def test_a_tape_measure_is_retried_across_its_other_sides_then_flipped():
    tape = estimate("tape_measure", "medium")
    first, second, third = (pick_at(tape, a) for a in range(3))
    assert abs((closing_line(second.pose[3]) - closing_line(first.pose[3])) % 180 - 90) < 1e-6
    assert third.pose == pick_at(tape.flipped()).pose


@pytest.mark.parametrize("category,size", [("combination_wrench", "medium"), ("flathead_screwdriver", "small"), ("screw", "large")])
def test_other_tools_flip_then_slide(category, size):
    tool = estimate(category, size)
    grasp = build_geometry(category, size).grasp
    assert grasp.turns == ()
    assert pick_at(tool, 1).pose == pick_at(tool.flipped()).pose
    point, yaw = region_grasp(tool.position, tool.rotation, grasp, 0.7)
    assert np.allclose(pick_at(tool, 2).pose, (*point, yaw))
    assert retry_kind(tool, 1) == "taking it the other way round" and retry_kind(tool, 2) == "sliding along its grasp region"


def test_turned_regions_keep_everything_but_the_closing_direction():
    grasp = build_geometry("nut", "small").grasp
    assert turned(grasp, 0.0) is grasp
    other = turned(grasp, grasp.turns[0])
    assert other.closing_yaw == pytest.approx(grasp.closing_yaw + math.pi / 3)
    assert (other.center, other.width, other.half_length) == (grasp.center, grasp.width, grasp.half_length)
