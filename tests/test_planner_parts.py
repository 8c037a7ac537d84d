"""The planner's three parts on hand-built RGB-D frames (no simulator): the scene reader's second look, the step machine
asking and reading the supervisor's reply, the decision log, and the switch that turns the second look off."""

from __future__ import annotations

import math

import numpy as np
import pytest
from depth_frames import BENCH_Z, FRONT, catalog_tool, render

from workbench_gym.envs.high_level import Ask, Pick, decode
from workbench_gym.language.task import ToolReference
from workbench_gym.policies.backend import Region
from workbench_gym.policies.perception import analyse
from workbench_gym.policies.scene_reader import PlannerConfig, SceneReader
from workbench_gym.policies.vlm_planner import VLMPlanner, make_vlm_planner
from workbench_gym.sim.robot import MAX_FINGER_WIDTH, PROPRIO_SIZE, PROPRIO_SLICES

SCREWDRIVER = "phillips_screwdriver"  # large 25 cm, small 15 cm long


class ProposalBackend:
    """Class-agnostic depth proposals of the view, every one scored alike and labelled a screwdriver: it cannot tell
    two touching tools apart where the view does not, which is what the second look is for."""

    name = "proposals"

    def __init__(self):
        self.views = []

    def ground(self, view, phrase):
        self.views.append((view.camera, view.rgb.shape[:2]))
        analysis = analyse(view.rgb, view.depth, view.intrinsics, view.extrinsics)
        return [Region(p.box, 0.8, p.mask, SCREWDRIVER) for p in analysis.proposals if not p.is_container]

    def answer(self, view, question):
        return "two"

    def plan(self, view, instruction):
        return None


def observation(tools, instruction="", dialog=""):
    """An observation as the env gives it, of the hand-built scene: front camera and a wrist camera 30 cm above it."""
    front, _ = render(tools, size=384, camera="front", **FRONT)
    wrist, _ = render(tools, eye=(0.45, 0.1, BENCH_Z + 0.3), target=(0.45, 0.1, BENCH_Z), up=(1.0, 0.0, 0.0), fov=70.0, size=384, camera="wrist")
    proprio = np.zeros(PROPRIO_SIZE, np.float32)
    proprio[PROPRIO_SLICES["ee_orientation"]] = (1.0, 0.0, 0.0, 0.0)  # the hand points down
    proprio[PROPRIO_SLICES["gripper_width"]] = MAX_FINGER_WIDTH
    cameras = {v.camera: {"rgb": v.rgb, "depth": v.depth, "intrinsics": v.intrinsics, "extrinsics": v.extrinsics} for v in (front, wrist)}
    return {"instruction": instruction, "dialog": dialog, "proprio": proprio, "cameras": cameras}


def touching():
    """A large and a small screwdriver side by side, 4 cm between their axes: the front view sees one region."""
    large, small = (0.47, 0.1), (0.43, 0.1)
    return catalog_tool(0, SCREWDRIVER, "large", large, math.pi / 2) + catalog_tool(1, SCREWDRIVER, "small", small, math.pi / 2), large, small


def apart():
    """The same two screwdrivers 12 cm apart: the front view tells them apart on its own."""
    large, small = (0.5, 0.16), (0.4, 0.04)
    return catalog_tool(0, SCREWDRIVER, "large", large, math.pi / 2) + catalog_tool(1, SCREWDRIVER, "small", small, math.pi / 2), large, small


# --- second look ------------------------------------------------------------------------------------------------------
def test_the_second_look_splits_two_touching_tools_the_front_view_merges():
    tools, large, small = touching()
    small_one = ToolReference(SCREWDRIVER, size="small")
    front_only = SceneReader(ProposalBackend(), PlannerConfig(second_look=False))
    front_only.look(observation(tools))
    merged = front_only.candidates(small_one, second_look=True)
    assert len(merged) == 1  # one region for both: the front view's failure
    chosen, _ = front_only.resolve(small_one, merged)
    assert np.linalg.norm(chosen[0].xy - small) > 0.02  # so "the small one" lands on the large one's place

    backend = ProposalBackend()
    reader = SceneReader(backend, PlannerConfig())
    reader.look(observation(tools))
    fused = reader.candidates(small_one, second_look=True)
    assert ("wrist", (192, 192)) in backend.views  # the wrist view, read at half resolution
    assert sorted(c[0].size for c in fused) == ["large", "small"]
    assert reader.inputs["grounded"]["phillips screwdriver"]["second_look"] == {"front": 1, "fused": 2}
    chosen, why = reader.resolve(small_one, fused)
    assert chosen[0].size == "small" and np.linalg.norm(chosen[0].xy - small) < 0.01, why
    large_one = reader.resolve(ToolReference(SCREWDRIVER, size="large"), fused)[0]
    assert np.linalg.norm(large_one[0].xy - large) < 0.01 and large_one[0].length == pytest.approx(0.25, abs=0.01)


def test_no_second_look_when_the_choice_is_clear_or_it_is_switched_off():
    tools, *_ = apart()
    backend = ProposalBackend()
    reader = SceneReader(backend, PlannerConfig())
    reader.look(observation(tools))
    one = [c for c in reader.candidates(ToolReference(SCREWDRIVER), second_look=False)]
    assert [v for v, _ in backend.views] == ["front"] and len(one) == 2
    assert reader.close(ToolReference(SCREWDRIVER), one)  # two alike: a close choice
    assert not reader.close(ToolReference(SCREWDRIVER), [one[0], (one[1][0], 0.3)])  # a clear winner: no second look
    off = SceneReader(backend, PlannerConfig(second_look=False))
    off.look(observation(tools))
    assert off.second is None


def test_planner_options_set_the_config_and_the_rest_go_to_the_backend():
    from gymnasium import spaces

    frame = spaces.Dict({k: spaces.Box(-np.inf, np.inf, (1,)) for k in ("rgb", "depth", "intrinsics", "extrinsics")})
    space = spaces.Dict({"cameras": spaces.Dict({"front": frame})})
    planner = make_vlm_planner(space, ProposalBackend(), second_look=False)
    assert planner.config.second_look is False and planner.scene.config.second_look is False


# --- the step machine: ask, then the reply --------------------------------------------------------------------------
@pytest.mark.parametrize("reply, meant", [("I mean the small red Phillips screwdriver", "small"),
                                          ("the large one", "large"),
                                          ("I mean the one on the left", "large")])  # the robot's left is +y
def test_after_asking_the_reply_picks_the_member_it_names(reply, meant):
    tools, large, small = apart()
    planner = VLMPlanner(ProposalBackend())
    planner.reset("pick up the red screwdriver")
    first = decode(planner.act(observation(tools, "pick up the red screwdriver")))
    assert isinstance(first, Ask) and "I see 2" in first.text, first
    second = decode(planner.act(observation(tools, "pick up the red screwdriver", dialog=reply)))
    assert isinstance(second, Pick)
    named, other = (large, small) if meant == "large" else (small, large)
    assert np.linalg.norm(np.subtract(second.pose[:2], named)) < 0.12 < np.linalg.norm(np.subtract(second.pose[:2], other)) + 0.02
    assert planner.target.estimate.size == meant and np.linalg.norm(planner.target.estimate.xy - named) < 0.01
    assert any(reply in e for e in planner.log.events)
    summary = planner.summary()
    assert summary["asked"] and [d["action"].split(":")[0].split()[0] for d in summary["decisions"]] == ["ask", "pick"]
