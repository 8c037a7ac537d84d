"""Running the suite: language controls judged for an asking and a guessing planner, the random floor, the privileged
providers, resume after a kill, the command line, photoreal frames of the simulated state, and held-out training."""

import json
import shutil
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

from workbench_gym.benchmark import PlannerChoice, load_suite, run_suite
from workbench_gym.benchmark import runner as runner_module
from workbench_gym.benchmark.language_controls import control_rng, corrupt, generate, judge
from workbench_gym.benchmark.photoreal import PhotorealFrames
from workbench_gym.benchmark.privileged import PrivilegedBackend, oracle_plan
from workbench_gym.benchmark.runner import Resources, run_chunk
from workbench_gym.benchmark.suite import Row, parse_suite
from workbench_gym.envs.high_level import Ask, Done, Pick, decode
from workbench_gym.policies.planner import HEIGHTS, WORKSPACE, RandomPlanner
from workbench_gym.sim.camera import CameraFrame
from workbench_gym.sim.robot import MAX_FINGER_WIDTH


class Scripted:
    """A planner factory for tests: the planner's first action is `first`, then `Done` (it reads no observation)."""

    privileged = True  # state observations: nothing to render

    def __init__(self, label, first):
        self.label = self.kind = label
        self.first = first

    def make(self, env, seed):
        first = self.first

        class Planner:
            def reset(self, instruction):
                self.acted = False

            def act(self, obs):
                action, self.acted = (Done() if self.acted else first), True
                return action

        return Planner()

    def substituted(self, plan, grounding):
        return None

    def with_options(self, **options):
        return self


ASKING = Scripted("asking", Ask("Sorry, which tool do you mean?"))
GUESSING = Scripted("guessing", Pick((0.42, 0.0, 0.76, 0.0), 0.05))


def test_a_corrupted_instruction_is_judged_for_an_asking_and_a_guessing_planner():
    suite = load_suite("v1")
    row = Row("language/corrupted/PickTool", "language", "corrupted", "PickTool", {}, (5201,), instructions="corrupted",
              scoring="right_action", right=("ask", "refuse", "succeed"))
    asked = run_chunk(suite, row, ASKING, [5201], Resources())[0]
    guessed = run_chunk(suite, row, GUESSING, [5201], Resources())[0]
    assert (asked["outcome"], asked["right"]) == ("asked", True)
    assert (guessed["outcome"], guessed["right"], guessed["success"]) == ("acted", False, False)
    env = gym.make("workbench_gym/PickTool-v0", control_mode="primitive")
    try:
        original = env.reset(seed=5201)[0]["instruction"]
    finally:
        env.close()
    assert asked["instruction"] == guessed["instruction"] == corrupt(original, control_rng(5201, "corrupted")) != original


def test_instruction_set_sentences_run_on_the_goals_they_were_written_for(tmp_path):
    env = gym.make("workbench_gym/PickTool-v0", control_mode="primitive")
    try:
        goal = env.reset(seed=5205)[1]["goal"]
    finally:
        env.close()
    goals = [{"id": "right", "task": "PickTool", "seed": 5205, "label": "paraphrase", "targets": {"category": goal["category"], "colour": goal["colour"]}},
             {"id": "wrong", "task": "PickTool", "seed": 5205, "label": "goal-level", "targets": {"object": "tool_99"}}]
    (tmp_path / "goals.jsonl").write_text("".join(json.dumps(g) + "\n" for g in goals))
    (tmp_path / "instructions.jsonl").write_text(json.dumps({"id": "right", "text": f"raise the {goal['display_name']} off the bench"}) + "\n"
                                                 + json.dumps({"id": "wrong", "text": "I need something to drive nails"}) + "\n")
    row = Row("L4/PickTool", "levels", "L4", "PickTool", {}, (5205,), instructions="set", requires="instruction_set")
    episodes = run_chunk(load_suite("v1"), row, ASKING, [5205], Resources(instruction_set=tmp_path))
    assert [(e["item"], e["label"]) for e in episodes] == [("right", "paraphrase"), ("wrong", "goal-level")]
    assert episodes[0]["instruction"] == f"raise the {goal['display_name']} off the bench" and "skipped" not in episodes[0]
    assert episodes[1]["skipped"] == "the env's goal does not match the sentence's targets"


def test_judging_rules():
    right = ("ask", "refuse")
    assert judge(right, [{"verb": "ask", "text": "which?"}], False) == ("asked", True)
    assert judge(right, [{"verb": "done", "text": None}], False) == ("refused", True)
    assert judge(right, [{"verb": "answer", "text": "I can't see a tape measure"}], False) == ("refused", True)
    assert judge(right, [{"verb": "answer", "text": "three"}], False) == ("answered", False)
    assert judge(right, [{"verb": "pick", "text": None}, {"verb": "ask", "text": "?"}], True) == ("acted", False)
    assert judge(("ask", "refuse", "succeed"), [{"verb": "pick", "text": None}], True) == ("acted", True), "the meaning survived"


def test_built_in_controls_name_what_the_bench_lacks():
    env = gym.make("workbench_gym/PlaceTool-v0", control_mode="primitive")
    try:
        obs, info = env.reset(seed=5202)
        spec, goal = env.unwrapped.world.spec, info["goal"]
        tool = goal["objects"][0]
        contradictory = generate("contradictory", "PlaceTool", obs["instruction"], goal, spec, control_rng(5202, "contradictory"))
        assert tool["colour"] in contradictory and contradictory.startswith("put the")
        impossible = generate("impossible", "PlaceTool", obs["instruction"], goal, spec, control_rng(5202, "impossible"))
        named = impossible.removeprefix("put the ").split(" in the ")[0]
        assert not any(t.display_name.endswith(named) or named.endswith(t.display_name.split(" ", 2)[-1]) and named.split()[0] in (t.colour,)
                       for t in spec.tools)
        assert generate("contradictory", "CountTools", "how many nuts?", {"question": "count"}, spec, control_rng(1, "contradictory")) is None
        assert generate("empty", "SortTools", "sort", {}, spec, control_rng(1, "empty")).strip()
    finally:
        env.close()


def test_random_planner_sends_well_formed_actions_in_the_workspace():
    env = gym.make("workbench_gym/PickTool-v0", control_mode="primitive")
    try:
        a, b = RandomPlanner(env, seed=3), RandomPlanner(env, seed=3)
        actions = [decode(a.act({})) for _ in range(200)]
        assert [decode(b.act({})) for _ in range(200)] == actions, "seeded"
        verbs = {type(x).__name__ for x in actions}
        assert verbs == {"Pick", "Place", "Answer", "Ask", "Done"}
        for x in actions:
            if hasattr(x, "pose"):
                (x0, y0), (x1, y1) = WORKSPACE
                assert x0 <= x.pose[0] <= x1 and y0 <= x.pose[1] <= y1 and HEIGHTS[0] <= x.pose[2] <= HEIGHTS[1]
            if hasattr(x, "width"):
                assert 0 < x.width <= MAX_FINGER_WIDTH
            if hasattr(x, "text"):
                assert x.text.strip()
    finally:
        env.close()


def test_privileged_plan_and_grounding(torch_one_thread):
    from workbench_gym.policies.backend import View
    from workbench_gym.policies.backends import make_backend
    from workbench_gym.policies.perception.camera import decimate
    from workbench_gym.policies.vlm_planner import ENV_OPTIONS, make_vlm_planner
    from workbench_gym.rollout import play_episode

    env = gym.make("workbench_gym/PlaceTool-v0", control_mode="primitive", **ENV_OPTIONS)
    try:
        obs, info = env.reset(seed=5203)
        u = env.unwrapped
        tool, zone = u.task.goals[0]
        task = oracle_plan(u.task, u.world.spec, obs["instruction"])
        assert task.intent == "place" and task.reference.category == tool.category and task.container == {
            "bin_left": "left bin", "bin_middle": "middle bin", "bin_right": "right bin", "parts_tray": "parts tray"}[zone.name]
        backend = PrivilegedBackend(make_backend("native"), env, plan=True, grounding=True)
        phrase = f"{tool.colour} {tool.display_name.split(' ', 2)[-1]}"
        views = {name: View(np.zeros((*frame.segmentation.shape, 3), np.uint8), None, frame.intrinsics, frame.extrinsics, name)
                 for name in ("front", "wrist") for frame in [u.world.render(name, rgb=False, depth=False, segmentation=True)]}
        regions = backend.ground(views["front"], phrase)
        segmentation = u.world.render("front", rgb=False, depth=False, segmentation=True).segmentation
        assert any(np.array_equal(r.mask, segmentation == u.world.instance_ids[tool.name]) for r in regions)
        assert all(r.label == tool.category and r.score == 1.0 for r in regions)
        # A second look asks about the wrist view, read at half size: the regions are the wrist camera's, at that size.
        wrist = u.world.render("wrist", rgb=False, depth=False, segmentation=True).segmentation[::2, ::2]
        halved = decimate(views["wrist"], 2)
        seen = backend.ground(halved, phrase)
        assert seen and all(any(np.array_equal(r.mask, wrist == i) for i in u.world.instance_ids.values()) for r in seen)
        result = play_episode(env, make_vlm_planner(env.observation_space, backend), 5203)
        assert result.success, "the planner's own execution with the oracle's plan and grounding"
        with pytest.raises(ValueError, match="neither"):
            PrivilegedBackend(backend, env)
    finally:
        env.close()


# --- the runner ---------------------------------------------------------------------------------------------
def tiny_suite_file(tmp_path):
    from importlib import resources

    data = json.loads(resources.files("workbench_gym.benchmark").joinpath("suite_v1.json").read_text())
    data["tasks"] = ["PickTool", "CountTools"]
    data["levels"] = [{"id": "L1", "name": "placements", "tasks": "all", "env": {}, "seeds": {"first": 100000, "count": 2}}]
    data["factors"].update(tasks=["CountTools"], episodes=1)
    data["language"].update(episodes=1, controls=[{"id": "corrupted", "tasks": ["CountTools"], "right": ["ask", "refuse", "succeed"]}],
                            target_swap={"tasks": ["PickTool"], "compare_with": "L1"})
    data["chains"]["seeds"]["count"] = 1
    data["attribution"]["tasks"] = ["PickTool"]
    data["photoreal"]["tasks"] = ["PickTool"]
    data["quick"] = {"episodes_per_row": 2, "chain_episodes": 1, "instruction_set_items_per_task": 1}
    path = tmp_path / "tiny_suite.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tiny suite run once through the command line (oracle, quick subset, development seeds): (suite file, results)."""
    folder = tmp_path_factory.mktemp("tiny")
    suite, out = tiny_suite_file(folder), folder / "cli"
    cmd = [sys.executable, "-m", "workbench_gym.cli", "eval", "--suite", str(suite), "--planner", "oracle", "--quick", "--dev-seeds",
           "--out", str(out), "--quiet"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return suite, out


def test_command_line_runs_a_suite(tiny_run, tmp_path):
    _, out = tiny_run
    card = json.loads((out / "card.json").read_text())
    assert card["planner"] == "oracle" and card["dev_seeds"] and card["quick"]
    assert card["levels"]["L1"]["success"]["n"] == 4 and card["chains"]["episodes"] == 1
    assert card["attribution"]["skipped"] == ["the planner has no plan or grounding to swap for the oracle's"]
    assert (out / "card.md").read_text().startswith("# workbench-gym suite v1: oracle (quick subset)")
    assert (out / "card.png").stat().st_size > 10_000
    bad = subprocess.run([sys.executable, "-m", "workbench_gym.cli", "eval", "--planner", "oracle", "--out", str(tmp_path / "x")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--task" in bad.stderr


def test_run_resumes_after_a_kill_and_keeps_what_was_written(tiny_run, tmp_path, monkeypatch):
    suite_file, finished = tiny_run
    suite = parse_suite(json.loads(suite_file.read_text()))
    out = tmp_path / "run"
    shutil.copytree(finished, out)
    card = json.loads((out / "card.json").read_text())
    # A kill in the middle of row L1/PickTool: its first episode was written, its second half-written.
    row_file = out / "rows" / "L1__PickTool.json"
    episodes = json.loads(row_file.read_text())["episodes"]
    row_file.unlink()
    (out / "rows" / "L1__PickTool.partial.jsonl").write_text(json.dumps(episodes[0]) + "\n" + json.dumps(episodes[1])[:20])
    calls = []

    def rerun(suite, row, planner, seeds, resources, on_episode=None):
        calls.append((row.id, seeds))
        on_episode(dict(episodes[1]))
        return [dict(episodes[1])]

    monkeypatch.setattr(runner_module, "run_chunk", rerun)
    again = run_suite(suite, PlannerChoice("oracle"), out, quick=True, dev=True, progress=False)
    assert calls == [("L1/PickTool", [episodes[1]["seed"]])], "only the missing episode runs again"
    assert json.loads(row_file.read_text())["episodes"] == episodes
    assert again["levels"] == card["levels"] and again["chains"] == card["chains"]
    with pytest.raises(ValueError, match="another run"):
        run_suite(suite, PlannerChoice("random"), out, quick=True, dev=True, progress=False)


# --- photoreal frames ---------------------------------------------------------------------------------------
class StubRenderer:
    """Records what it is asked to draw and draws a flat grey frame."""

    def __init__(self):
        self.calls = []

    def render(self, spec, robot=None):
        self.calls.append((spec, robot))
        return {c.name: CameraFrame(np.full((c.height, c.width, 3), 7, np.uint8), np.ones((c.height, c.width), np.float32), None,
                                    np.eye(3), np.eye(4)) for c in spec.cameras}


def test_photoreal_frames_draw_the_simulated_state():
    from workbench_gym.synth_data.robot_mesh import panda_home_meshes, panda_meshes

    renderer = StubRenderer()
    env = PhotorealFrames(gym.make("workbench_gym/PickTool-v0", control_mode="primitive", obs_mode="rgbd", cameras=("front",),
                                   image_size=(48, 40)), renderer)
    try:
        obs, info = env.reset(seed=5204)
        u = env.unwrapped
        from workbench_gym.policies import OraclePlanner

        obs, *_ = env.step(OraclePlanner(env).act(obs))  # the tool is lifted: the arm is away from home
        spec, robot = renderer.calls[-1]
        assert [c.name for c in spec.cameras] == ["front"] and (spec.cameras[0].width, spec.cameras[0].height) == (48, 40)
        target = info["goal"]["object"]
        lifted = next(t for t in spec.tools if t.name == target).pose.position
        assert lifted[2] > u.world.spec.bench.height + 0.05 and np.allclose(lifted, u.world.object_pose(target)[0])
        assert np.allclose(robot[0], u.world.robot.proprio().joint_positions[:7])
        view = obs["cameras"]["front"]
        assert (view["rgb"] == 7).all() and (view["depth"] == 1).all()
        assert np.array_equal(view["intrinsics"], u.world.render("front").intrinsics), "calibration is the simulator's"
        hand = next(m for m in panda_meshes(*robot) if m.link == "panda_hand").mesh.bounds.mean(0)
        home = next(m for m in panda_home_meshes() if m.link == "panda_hand").mesh.bounds.mean(0)
        from workbench_gym.sim.robot import HAND_LINK
        from workbench_gym.sim.world import ROBOT_BASE

        pybullet_hand = u.world.robot.link_pose(HAND_LINK)[0] - np.array([*ROBOT_BASE, u.world.spec.bench.height])
        assert np.linalg.norm(hand - pybullet_hand) < 0.05 < np.linalg.norm(home - pybullet_hand)
        with pytest.raises(ValueError, match="obs_mode"):
            PhotorealFrames(gym.make("workbench_gym/PickTool-v0", obs_mode="state"), renderer)
    finally:
        env.close()


# --- held-out training ----------------------------------------------------------------------------------------
def test_held_out_categories_leave_training():
    from workbench_gym.policies.native.training import Examples, without_categories
    from workbench_gym.policies.native.vocabulary import BANK, CATEGORIES

    hammer, pliers, slip = (CATEGORIES.index(c) for c in ("claw_hammer", "needle_nose_pliers", "slip_joint_pliers"))
    examples = Examples(torch.zeros(5, 3, 4, 4), torch.zeros(5, 2), torch.tensor([hammer, pliers, slip, -1, hammer]), torch.zeros(5, dtype=torch.long))
    kept, bank = without_categories(examples, ["claw_hammer", "needle_nose_pliers"])
    assert kept.category.tolist() == [slip, -1]
    assert "claw hammer" not in bank and "nail hammer" not in bank and "needle-nose pliers" not in bank
    assert "pliers" in bank and "slip-joint pliers" in bank, "words other categories share stay"
    assert set(bank) < set(BANK)
    with pytest.raises(ValueError, match="unknown categories"):
        without_categories(examples, ["laser_saw"])
