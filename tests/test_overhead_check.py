"""The overhead check: a choice made from the front view is checked against the overhead camera before a grasp, lengths
and places are compared as the view that sees more of a tool measures them, and counts take in what it sees."""

import gymnasium as gym
import numpy as np
import pytest
from test_final_look import FrontBlindBackend
from test_vlm_planner import run_episode

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.high_level import Ask, Pick
from workbench_gym.language.reader import read_instruction
from workbench_gym.language.task import ToolReference
from workbench_gym.policies.counting import recount
from workbench_gym.policies.perception import ToolEstimate
from workbench_gym.policies.scene_reader import SceneReader
from workbench_gym.policies.vlm_planner import ENV_OPTIONS, PlannerConfig, VLMPlanner

SEED = 3  # ClarifyTool, 6 tools: "pick up the yellow claw hammer" fits two; the supervisor means the large one


def _clarify(config: PlannerConfig):
    env = gym.make("workbench_gym/ClarifyTool-v0", control_mode="primitive", n_tools=6, **ENV_OPTIONS)
    try:
        env.reset(seed=SEED)
        task = env.unwrapped.task
        twin = next(name for name in task.twin_names if name != task.target.name)
        planner = VLMPlanner(FrontBlindBackend(env, hidden=twin), config)  # the front and wrist views miss the twin
        actions, info, _ = run_episode(env, planner, SEED)
        return task, actions, info, planner
    finally:
        env.close()


def test_a_twin_only_the_overhead_view_sees_makes_the_planner_ask_first():
    """Without the check the planner grasps the one tool it sees and never asks (no credit); with it the overhead view
    shows a second tool the words fit, so it asks, and the reply's size word picks the meant one of the two."""
    task, actions, info, _ = _clarify(PlannerConfig(overhead_check=False))
    assert task.reply == "I mean the large yellow claw hammer"
    assert isinstance(actions[0], Pick) and not info["is_success"]

    task, actions, info, planner = _clarify(PlannerConfig())
    assert isinstance(actions[0], Ask) and "2 that fit the yellow claw hammer" in actions[0].text
    assert info["is_success"], [f"{d.action} ({d.reason})" for d in planner.decisions]


def _estimate(category: str, size: str, xy, length: float, fit: float = 1.0) -> ToolEstimate:
    return ToolEstimate(category, size, (float(xy[0]), float(xy[1]), 0.75), 0.0, length, 0.01, fit, 100)


class _Reader(SceneReader):
    """A scene reader whose overhead view shows the tools it is given (no env, no backend)."""

    def __init__(self, above):
        super().__init__(backend=None, config=PlannerConfig())
        self.above = above

    def bench_check(self, ref, all_candidates=False, record="final_look"):
        return list(self.above)


def test_lengths_are_compared_as_the_view_that_sees_more_of_a_tool_measures_them():
    front = [(_estimate("claw_hammer", "small", (0.40, 0.10), 0.24), 0.9),  # its head hidden from the front
             (_estimate("claw_hammer", "medium", (0.40, -0.20), 0.31), 0.9),
             (_estimate("phillips_screwdriver", "large", (0.30, 0.30), 0.25), 0.5)]
    above = [(_estimate("claw_hammer", "large", (0.405, 0.10), 0.34), 0.95),  # the same hammer, seen whole
             (_estimate("claw_hammer", "small", (0.40, -0.21), 0.27), 0.9),  # the other, partly under the arm: shorter
             (_estimate("flathead_screwdriver", "large", (0.30, 0.30), 0.25), 0.6),  # another kind: the front's label stays
             (_estimate("claw_hammer", "small", (0.20, 0.40), 0.28), 0.8),  # only the overhead view sees this one
             (_estimate("claw_hammer", "small", (0.25, -0.40), 0.05), 0.8)]  # a piece of a tool: dropped
    merged = _Reader(above).measured_from_above(ToolReference("claw_hammer", size="large"), front)
    assert [(e.category, round(e.length, 2)) for e, _ in merged] == [
        ("claw_hammer", 0.34), ("claw_hammer", 0.31), ("phillips_screwdriver", 0.25), ("claw_hammer", 0.28)]
    assert merged[0][1] == 0.95  # the better of the two views' scores


@pytest.mark.parametrize("fit, length, counted", [(1.0, 0.28, True), (0.3, 0.28, False), (1.0, 0.1, False)])
def test_the_overhead_check_counts_whole_tools_the_phrase_fits(fit, length, counted):
    seen = _Reader([(_estimate("claw_hammer", "small", (0.4, 0.1), length, fit), 0.9)]).seen_from_above(ToolReference("claw_hammer"))
    assert len(seen) == counted


def test_a_count_is_raised_to_what_the_overhead_view_sees_never_lowered():
    reader = _Reader([(_estimate("allen_key", "small", (0.4, y), 0.06), 0.9) for y in (-0.2, 0.0, 0.2)])
    reader.second = None  # no wrist view: only the overhead one adds to the backend's answer
    count = read_instruction("how many Allen keys are there?")
    assert recount(reader, count, "1") == "3"
    assert recount(reader, count, "5") == "5"
    assert recount(reader, read_instruction("is there an Allen key on the bench?"), "no") == "yes"
    reader.config = PlannerConfig(overhead_check=False)
    assert recount(reader, count, "1") == "1"
    assert np.isclose(reader.inputs["overhead_count"], 0)


def test_a_tool_seen_partly_hidden_has_its_middle_known_only_to_within_half_the_hidden_length():
    """A screwdriver seen 0.17 m long from above with something nearer bordering it may run on for 0.08 m (its kind's
    longest is 0.25 m): its middle may be 4 cm off, so a tool seen there is no proof of a second one."""
    hidden = ToolEstimate("flathead_screwdriver", "medium", (0.3, -0.2, 0.75), 0.0, 0.17, 0.01, 1.0, 100, occluded=True)
    assert 0.035 < hidden.centre_slack < 0.045
    assert ToolEstimate("flathead_screwdriver", "medium", (0.3, -0.2, 0.75), 0.0, 0.17, 0.01, 1.0, 100).centre_slack == 0.0
