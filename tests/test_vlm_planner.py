"""The VLM planner: no privileged access, 3D lifting, parsing, asking, answering, retries, its log, and `eval`."""

import json
import logging

import gymnasium as gym
import numpy as np
import pytest
from scripted_backend import ScriptedBackend

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.grasping import grasp_action
from workbench_gym.envs.high_level import Answer, Ask, Done, Pick, Place, decode
from workbench_gym.language.reader import read_instruction
from workbench_gym.language.task import UNLISTED, StructuredTask, ToolReference
from workbench_gym.policies import PLANNERS
from workbench_gym.policies.backend import Region
from workbench_gym.policies.backends import make_backend
from workbench_gym.policies.grasp_poses import pick_at as _pick
from workbench_gym.policies.perception import fit_tool, project
from workbench_gym.policies.perception import view_bench_height as bench_height
from workbench_gym.policies.perception import view_points as backproject
from workbench_gym.policies.perception.shapes import min_area_rectangle as _min_area_rectangle
from workbench_gym.policies.steps import grounding_phrase, plan_steps
from workbench_gym.policies.vlm_planner import ENV_OPTIONS, PROPRIO_WIDTH, VLMPlanner, make_vlm_planner, observation_view
from workbench_gym.sim.robot import MAX_FINGER_WIDTH

PRIMITIVE = {"control_mode": "primitive", **ENV_OPTIONS}


def make_env(task, **options):
    return gym.make(f"workbench_gym/{task}-v0", **{**PRIMITIVE, **options})


def run_episode(env, planner, seed):
    """Plan a whole episode; the decoded actions, the last info and the last observation."""
    obs, _ = env.reset(seed=seed)
    planner.reset(obs["instruction"])
    actions, done = [], False
    while not done:
        action = planner.act(obs)
        actions.append(decode(action))
        obs, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    return actions, info, obs


class ReplayBackend:
    """Answers with regions recorded earlier, phrase by phrase: needs no env at all."""

    name = "replay"

    def __init__(self, recorded):
        self.recorded = recorded

    def ground(self, view, phrase):
        return self.recorded.get(phrase, [])

    def answer(self, view, question):
        return "three"

    def plan(self, view, instruction):
        return None


# --- no privileged state ----------------------------------------------------------------------------------
def test_factory_takes_only_the_observation_space_and_refuses_state():
    env = make_env("PickTool")
    try:
        planner = PLANNERS["vlm"][0](env, 0, backend=ReplayBackend({}))
        assert isinstance(planner, VLMPlanner)
        assert not any(isinstance(v, gym.Env) for v in vars(planner).values())
    finally:
        env.close()
    state = gym.make("workbench_gym/PickTool-v0", control_mode="primitive", obs_mode="state")
    try:
        with pytest.raises(ValueError, match="obs_mode='rgbd'"):
            make_vlm_planner(state.observation_space, ReplayBackend({}))
        obs, _ = state.reset(seed=0)
        with pytest.raises(ValueError, match="privileged state"):
            observation_view(obs, "front")
    finally:
        state.close()


def test_planner_works_from_observations_alone_and_ignores_segmentation():
    """Record observations and grounding with the env, close it, then plan from the records alone."""
    env = make_env("PickTool", obs_mode="rgbd_seg", n_tools=6)
    obs, info = env.reset(seed=4)
    tool = next(t for t in env.unwrapped.world.spec.tools if t.name == info["goal"]["object"])
    oracle = grasp_action(env.unwrapped.world, tool)
    phrase = grounding_phrase(read_instruction(obs["instruction"]).reference)
    recorded = {phrase: ScriptedBackend(env).ground(observation_view(obs, "front"), phrase)}
    env.close()

    def plan(observation):
        planner = VLMPlanner(ReplayBackend(recorded))
        planner.reset(observation["instruction"])
        return decode(planner.act(observation))

    first = plan(obs)
    garbled = {**obs, "cameras": {"front": {**obs["cameras"]["front"], "segmentation": np.zeros_like(obs["cameras"]["front"]["segmentation"])}}}
    stripped = {**obs, "cameras": {"front": {k: v for k, v in obs["cameras"]["front"].items() if k != "segmentation"}}}
    assert isinstance(first, Pick) and first == plan(garbled) == plan(stripped)
    assert np.linalg.norm(np.subtract(first.pose[:2], oracle.pose[:2])) < 0.02


# --- 3D lifting -------------------------------------------------------------------------------------------
def test_lifting_puts_pixels_where_the_scene_is():
    env = make_env("PickTool", obs_mode="rgbd_seg", n_tools=1)
    try:
        obs, _ = env.reset(seed=2)
        world = env.unwrapped.world
        cam = obs["cameras"]["front"]
        view = observation_view(obs, "front")
        assert bench_height(view) == pytest.approx(world.spec.bench.height, abs=1e-3)
        tool = world.spec.tools[0]
        rows, cols = np.nonzero(cam["segmentation"] == world.instance_ids[tool.name])
        points = backproject(view, rows, cols)
        lo, hi = (np.asarray(v) for v in world.client.getAABB(world.bodies[tool.name]))
        assert np.all(points >= lo - 0.003) and np.all(points <= hi + 0.003)  # every lifted pixel on the tool, to mm
        assert np.allclose(project(view, points), np.stack([cols, rows], 1), atol=1e-3)
        bench_rows, bench_cols = np.nonzero(cam["segmentation"] == 1)
        bench = backproject(view, bench_rows, bench_cols)
        top = bench[bench[:, 0] < world.spec.bench.hi[0] - 0.005]  # leave out the slab's front face
        assert len(top) > 0.8 * len(bench) and np.abs(top[:, 2] - world.spec.bench.height).max() < 1e-3
        mask = cam["segmentation"] == world.instance_ids[tool.name]
        estimate = fit_tool(view, Region((0, 0, 1, 1), 1.0, mask, tool.category), (tool.category,), bench_height(view))
        pick, oracle = _pick(estimate), grasp_action(world, tool)
        assert estimate.size == tool.size
        error = np.subtract(pick.pose[:3], oracle.pose[:3])
        yaw = oracle.pose[3]  # the fingers close along the gripper's y axis
        across, along = abs(error[:2] @ [-np.sin(yaw), np.cos(yaw)]), abs(error[:2] @ [np.cos(yaw), np.sin(yaw)])
        assert across < 0.006 and along < tool.geometry.grasp.half_length and abs(error[2]) < 0.002
        assert abs((pick.pose[3] - oracle.pose[3] + np.pi / 2) % np.pi - np.pi / 2) < np.radians(5)
        assert pick.width == pytest.approx(oracle.width)
    finally:
        env.close()


def test_smallest_rectangle_holds_the_points_and_no_turn_beats_it():
    rng = np.random.default_rng(3)
    for _ in range(20):
        xy = rng.normal(size=(60, 2)) * rng.uniform(0.01, 0.2, size=2) @ np.linalg.qr(rng.normal(size=(2, 2)))[0]
        yaw, lo, hi = _min_area_rectangle(xy)
        local = xy @ np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
        assert np.all(local >= lo - 1e-9) and np.all(local <= hi + 1e-9)
        for turn in np.radians(np.arange(0.0, 180.0, 0.5)):
            other = xy @ np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
            assert np.prod(hi - lo) <= np.prod(np.ptp(other, axis=0)) + 1e-12


def test_checking_one_tool_fits_only_the_regions_around_it(torch_one_thread):
    """`near` skips far regions before fitting them, and keeps every candidate within the radius."""
    env = make_env("PickTool", n_tools=8)
    try:
        obs, _ = env.reset(seed=4)
        planner = VLMPlanner(make_backend("native"))
        planner.reset(obs["instruction"])
        planner.scene.look(obs)
        ref = ToolReference()  # any tool
        every = planner.scene.candidates(ref, all_candidates=True)
        assert len(every) >= 4
        for estimate, _ in every:
            around = planner.scene.candidates(ref, all_candidates=True, near=(estimate.xy, 0.03))
            assert 1 <= len(around) < len(every)
            close = [e.xy.tolist() for e, _ in every if np.linalg.norm(e.xy - estimate.xy) < 0.03]
            assert all(xy in [e.xy.tolist() for e, _ in around] for xy in close)
    finally:
        env.close()


# --- structured tasks -------------------------------------------------------------------------------------
def test_a_backend_plan_is_used_before_the_reader():
    class Planning(ReplayBackend):
        def plan(self, view, instruction):
            return StructuredTask("place", ToolReference("combination_wrench", colour="blue"), "right bin")

    planner = VLMPlanner(Planning({}))
    planner.reset("do whatever the backend says")
    plan = planner._make_plan()
    assert [(s.verb, s.target.category, s.target.colour, s.destination) for s in plan.steps] == [("move", "combination_wrench", "blue", "right bin")]


def test_steps_of_each_intent_and_a_question_naming_a_missing_slot():
    sort = plan_steps(StructuredTask("sort"))  # each family its own bin: the planner's default bins, pliers first
    assert [(s.target.category, s.destination, s.every) for s in sort.steps] == [
        ("pliers", "right bin", True), ("screwdriver", "middle bin", True), ("wrench", "left bin", True)]
    told = read_instruction("sort the tools: wrenches in the left bin, screwdrivers in the middle bin, pliers in the right bin")
    assert plan_steps(told).steps == sort.steps  # the same bins named: the same steps, in the same order
    named = plan_steps(StructuredTask("sort", groups=(("pliers", "left bin"), ("wrench", "green bin"))))
    assert [(s.target.category, s.destination) for s in named.steps] == [("pliers", "left bin"), ("wrench", "green bin")]
    fetch = plan_steps(StructuredTask("fetch", ToolReference("claw_hammer", order="largest")))
    assert [(s.verb, s.destination) for s in fetch.steps] == [("move", "hand-over area")]
    count = plan_steps(StructuredTask("count", ToolReference("claw_hammer", every=True)), "hammers: how many have we got?")
    assert [(s.verb, s.text) for s in count.steps] == [("answer", "how many hammers are there?")]  # the backend gets a plain question
    away = plan_steps(StructuredTask("place", ToolReference("claw_hammer"), missing=("container",)))
    assert away.steps[0].verb == "ask" and "container" in away.steps[0].text and away.steps[1].verb == "move"
    unclear = plan_steps(StructuredTask("unclear", missing=("category",)), "blorp")
    assert [s.verb for s in unclear.steps] == ["ask"] and "blorp" in unclear.steps[0].text


# --- asking, answering, retrying --------------------------------------------------------------------------
def test_asks_when_two_tools_fit_then_picks_the_one_meant():
    env = make_env("ClarifyTool")
    try:
        for seed in range(8):  # find an episode whose instruction names two tools (not an unknown one)
            obs, _ = env.reset(seed=seed)
            if read_instruction(obs["instruction"]).reference.category not in ("", UNLISTED):
                break
        planner = VLMPlanner(ScriptedBackend(env))
        actions, info, _ = run_episode(env, planner, seed)
        assert isinstance(actions[0], Ask) and "Which one" in actions[0].text
        assert "I see 2" in actions[0].text
        assert info["is_success"]
    finally:
        env.close()


def test_asks_about_an_unknown_tool_and_on_a_tie_in_scores():
    env = make_env("PickTool", n_tools=4)
    try:
        obs, _ = env.reset(seed=0)
        view = observation_view(obs, "front")
        masks = [r.mask for phrase in ("screwdriver", "pliers") for r in ScriptedBackend(env).ground(view, phrase)]
    finally:
        env.close()
    scene = VLMPlanner(ReplayBackend({})).scene
    scene.look(obs)
    chosen, question = scene.resolve(ToolReference(UNLISTED), [])
    assert chosen is None and "(category)" in question
    chosen, question = scene.resolve(ToolReference(), [])
    assert chosen is None and "(category)" in question
    regions = [Region((0, 0, 1, 1), score, mask, "phillips_screwdriver") for score, mask in zip((0.8, 0.78, 0.3), masks)]
    candidates = [(fit_tool(view, r, (r.label,), scene.bench_z), r.score) for r in regions]
    chosen, question = scene.resolve(ToolReference("phillips_screwdriver"), candidates)
    assert chosen is None and "I see 2" in question and ("(which size)" in question or "(which place)" in question)
    chosen, _ = scene.resolve(ToolReference("phillips_screwdriver"), [candidates[0], candidates[2]])
    assert chosen is candidates[0]


def test_answers_count_questions():
    env = make_env("CountTools")
    try:
        for seed in range(3):
            actions, info, _ = run_episode(env, VLMPlanner(ScriptedBackend(env)), seed)
            assert isinstance(actions[0], Answer) and info["is_success"], (seed, actions)
    finally:
        env.close()


def test_retries_after_a_failed_pick():
    """The first grasp is knocked 6 cm sideways off the tool (as a bad depth reading would): the planner sees empty fingers and retries."""
    env = make_env("PickTool", n_tools=3)
    try:
        planner = VLMPlanner(ScriptedBackend(env))
        obs, _ = env.reset(seed=1)
        planner.reset(obs["instruction"])
        first = decode(planner.act(obs))
        x, y, z, yaw = first.pose
        obs, _, _, _, info = env.step(Pick((x, y + 0.06, z, yaw), first.width))
        assert not info["primitive"]["success"]
        retry = decode(planner.act(obs))
        assert isinstance(retry, Pick) and "retry 1" in planner.decisions[-1].reason
        obs, _, terminated, _, info = env.step(retry)
        assert terminated and info["is_success"]
        report = planner.finish(obs)
        assert "came up empty" in report and "The gripper is holding a tool" in report
    finally:
        env.close()


def test_holding_is_read_from_the_opening_last_commanded():
    """Fingers short of the pick's opening hold something wherever the hand stopped; at that opening they do not."""
    planner = VLMPlanner(backend=None)
    proprio = np.zeros(PROPRIO_WIDTH + 1)
    for last, width, holds in [(None, MAX_FINGER_WIDTH, False), (None, 0.02, True),
                               (Pick((0.4, 0.0, 0.76, 0.0), 0.04), 0.04, False),  # stalled on the way down, fingers still set
                               (Pick((0.4, 0.0, 0.76, 0.0), 0.04), 0.018, True),  # closed on a tool, stalled while lifting
                               (Place((0.3, -0.5, 0.78, 0.0)), MAX_FINGER_WIDTH, False)]:
        planner.last, proprio[PROPRIO_WIDTH] = last, width
        assert planner._holds(proprio) is holds, (last, width)


def test_every_decision_is_logged_with_inputs_and_timing(caplog):
    env = make_env("PlaceTool", n_tools=6)
    try:
        planner = VLMPlanner(ScriptedBackend(env))
        with caplog.at_level(logging.INFO, logger="workbench_gym.policies.vlm_planner"):
            actions, info, obs = run_episode(env, planner, 0)
        assert info["is_success"] and len(planner.decisions) == len(actions)
        assert sum("decision" in r.message for r in caplog.records) == len(actions)
        first = planner.decisions[0]
        assert first.inputs["instruction"] == obs["instruction"] and "gripper_width" in first.inputs
        assert first.inputs["grounded"] and first.reason
        for d in planner.decisions:
            assert 0 <= d.backend_ms <= d.total_ms and d.total_ms == pytest.approx(d.backend_ms + d.planner_ms, abs=0.02)
        logged = json.dumps(planner.summary()["decisions"])
        report = planner.finish(obs)  # the episode ended on the place: the report still sees it
        assert json.dumps(planner.summary()["decisions"]) == logged  # the last look is no decision: the log stays as it was
        assert "Put the" in report and "1 in the" in report and "The gripper is empty" in report
        summary = planner.summary()
        assert summary["report"] == report
        assert summary["latency_ms"]["p95"] >= summary["latency_ms"]["mean"] > 0
        assert len(summary["decisions"]) == len(actions)
    finally:
        env.close()


# --- eval -------------------------------------------------------------------------------------------------
def test_eval_cli_writes_json_and_table(tmp_path, monkeypatch):
    import workbench_gym.policies.backends as backends
    from workbench_gym.cli import main

    monkeypatch.setattr(backends, "make_backend", lambda name, **options: ReplayBackend({}))
    out, table = tmp_path / "results.json", tmp_path / "table.md"
    code = main(["eval", "--planner", "vlm", "--backend", "replay", "--task", "CountTools", "--episodes", "1", "--out", str(out),
                 "--markdown", str(table), "--quiet"])
    assert code == 0
    result = json.loads(out.read_text())
    row = result["rows"][0]
    assert row["task"] == "CountTools" and row["split"] == "train/seen" and row["episodes"] == 1
    assert row["latency_ms_mean"] > 0 and row["primitives"] >= 1
    episode = result["episodes"]["CountTools"][0]
    assert episode["planner_log"]["decisions"][0]["action"] == "answer: three"
    assert episode["planner_log"]["report"].startswith("Instruction:")
    assert "| CountTools | vlm | replay |" in table.read_text()


# --- the step machine, task by task -----------------------------------------------------------------------
@pytest.mark.parametrize("task, seed", [("FetchTool", 0), ("SortTools", 0), ("CollectScrews", 1)])
def test_the_step_machine_carries_out_fetch_sort_and_collect(task, seed):
    """With perfect grounding every pick is followed by a place into the step's zone until nothing fits: the task
    is done, each place put a tool somewhere (none set aside), and the plan's steps are what the task needs."""
    env = make_env(task, n_tools=4)
    try:
        planner = VLMPlanner(ScriptedBackend(env))
        actions, info, _ = run_episode(env, planner, seed)
        assert info["is_success"], [f"{d.action} ({d.reason})" for d in planner.decisions]
        verbs = [type(a).__name__ for a in actions if not isinstance(a, Done)]
        assert verbs and verbs == ["Pick", "Place"] * (len(verbs) // 2)  # no retries, no asks: pick, place, pick, place
        steps = planner.plan.steps
        assert all(s.verb == "move" for s in steps) and all(s.every for s in steps) == (task != "FetchTool")
        if task == "FetchTool":
            assert steps[0].destination == "hand-over area"
        assert all("holding a tool the plan did not ask for" != d.reason for d in planner.decisions)
    finally:
        env.close()
