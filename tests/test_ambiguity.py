"""When a bare family word fits two kinds of tool, how a reply chooses among the tools asked about, and counts across views."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_planner_parts import SCREWDRIVER, apart, observation

from workbench_gym.envs.high_level import Answer, Ask, Pick, decode
from workbench_gym.language.reader import read_instruction
from workbench_gym.language.task import ToolReference
from workbench_gym.policies.ambiguity import as_named_kind, family_rivals
from workbench_gym.policies.backend import Region
from workbench_gym.policies.perception import ToolEstimate, analyse
from workbench_gym.policies.scene_reader import PlannerConfig, SceneReader
from workbench_gym.policies.vlm_planner import VLMPlanner


def estimate(category: str, size: str, x: float, y: float, length: float, fit: float = 0.9) -> ToolEstimate:
    return ToolEstimate(category, size, (x, y, 0.75), 0.0, length, 0.01, fit, 200)


def wrenches(combination_score: float) -> list:
    """An adjustable wrench the backend is sure of and a combination wrench it scores lower, best first."""
    return [(estimate("adjustable_wrench", "medium", 0.4, 0.2, 0.2), 0.95),
            (estimate("combination_wrench", "medium", 0.4, -0.2, 0.17), combination_score)]


def test_the_reader_reads_a_bare_wrench_as_the_family_of_both_kinds():
    ref = read_instruction("Bring me the wrench.").reference
    assert ref.category == "wrench"  # not one kind: resolving must allow adjustable and combination alike


def test_a_bare_family_word_asks_when_both_kinds_of_the_family_are_on_the_bench():
    reader = SceneReader(backend=None, config=PlannerConfig())
    chosen, why = reader.resolve(ToolReference("wrench"), wrenches(0.5))  # 0.5 < tie_ratio * 0.95: no score tie
    assert chosen is None and "I see 2" in why
    assert {e.category for e in reader.tied} == {"adjustable_wrench", "combination_wrench"}


def test_a_named_kind_or_a_weak_rival_is_no_question():
    reader = SceneReader(backend=None, config=PlannerConfig())
    chosen, _ = reader.resolve(ToolReference("adjustable_wrench"), wrenches(0.5)[:1])
    assert chosen is not None and chosen[0].category == "adjustable_wrench"
    chosen, _ = reader.resolve(ToolReference("wrench"), wrenches(0.2))  # the other kind scores below `confident`
    assert chosen is not None and chosen[0].category == "adjustable_wrench"
    assert family_rivals(ToolReference("wrench", size="large"), wrenches(0.5), 0.45, 0.5) == []  # a size word measures
    assert family_rivals(ToolReference("wrench"), [wrenches(0.5)[0], (estimate("adjustable_wrench", "small", 0.3, 0, 0.15), 0.5)], 0.45, 0.5) == []


def test_tools_asked_about_are_compared_as_the_kind_the_reply_names():
    pair = [(estimate("phillips_screwdriver", "medium", 0.3, -0.1, 0.2), 0.5), (estimate("flathead_screwdriver", "large", 0.38, -0.2, 0.25), 0.45)]
    relabelled = as_named_kind(ToolReference("phillips_screwdriver", size="large"), pair)
    assert [e.category for e, _ in relabelled] == ["phillips_screwdriver"] * 2
    assert relabelled[1][0].size == "large" and relabelled[1][0].length == 0.25
    assert as_named_kind(ToolReference("screwdriver", size="large"), pair) is pair  # a family names no one kind


class SiblingBackend:
    """Depth proposals scored alike; the longer tool is recognised as the sibling kind (flathead for Phillips)."""

    name = "sibling"

    def ground(self, view, phrase):
        analysis = analyse(view.rgb, view.depth, view.intrinsics, view.extrinsics)
        return [Region(p.box, 0.8, p.mask, "flathead_screwdriver" if p.extent[0] > 0.2 else SCREWDRIVER) for p in analysis.proposals if not p.is_container]

    def answer(self, view, question):
        return ""

    def plan(self, view, instruction):
        return None


def test_the_reply_picks_the_member_it_names_when_the_backend_calls_it_a_sibling():
    tools, large, small = apart()
    planner = VLMPlanner(SiblingBackend())
    text = "pick up the red screwdriver"
    planner.reset(text)
    assert isinstance(decode(planner.act(observation(tools, text))), Ask)
    pick = decode(planner.act(observation(tools, text, dialog="I mean the large red Phillips screwdriver")))
    assert isinstance(pick, Pick)
    assert np.linalg.norm(planner.target.estimate.xy - np.asarray(large)) < 0.03, (planner.target.estimate, large)
    assert planner.target.estimate.category == "flathead_screwdriver"  # the tool as it was fitted, not relabelled
    assert not math.isclose(np.linalg.norm(planner.target.estimate.xy - np.asarray(small)), 0.0, abs_tol=0.05)


def test_a_lone_region_the_catalog_shape_hardly_covers_is_asked_about():
    """Two touching same-colour hammers the front view merges fit one hammer's footprint poorly: ask, don't guess."""
    reader = SceneReader(backend=None, config=PlannerConfig())
    merged = (estimate("claw_hammer", "medium", 0.38, -0.42, 0.30, fit=0.47), 0.86)
    chosen, why = reader.resolve(ToolReference("claw_hammer", "yellow"), [merged])
    assert chosen is None and "two run together" in why and reader.tied == [merged[0]]
    whole = (estimate("claw_hammer", "medium", 0.38, -0.42, 0.31, fit=0.95), 0.86)
    assert reader.resolve(ToolReference("claw_hammer", "yellow"), [whole])[0] is whole
    assert reader.resolve(ToolReference("claw_hammer", "yellow", size="small"), [merged])[0] is merged  # a size word measures


class FrontMissesOneBackend(SiblingBackend):
    """The front view finds only one of the two screwdrivers (a part too small there); the wrist view finds both."""

    def ground(self, view, phrase):
        analysis = analyse(view.rgb, view.depth, view.intrinsics, view.extrinsics)
        regions = [Region(p.box, 0.8, p.mask, SCREWDRIVER) for p in analysis.proposals if not p.is_container]
        return regions[:1] if view.camera == "front" else regions

    def answer(self, view, question):
        return "1"


@pytest.mark.parametrize("second_look, expected", [(True, "2"), (False, "1")])
def test_a_count_adds_the_tools_only_the_wrist_view_sees(second_look, expected):
    tools, _, _ = apart()
    planner = VLMPlanner(FrontMissesOneBackend(), PlannerConfig(second_look=second_look))
    text = "how many screwdrivers are there?"
    planner.reset(text)
    answer = decode(planner.act(observation(tools, text)))
    assert isinstance(answer, Answer) and answer.text == expected
