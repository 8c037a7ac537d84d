"""The suite's photoreal section: the wrist camera drawn at the hand's simulated pose, the section run end to end with
a stand-in renderer (no Blender), resumed, and its card's rates and agreement computed from the row files."""

import json
from importlib import resources

import gymnasium as gym
import numpy as np
import pytest

from workbench_gym.benchmark.photoreal import PhotorealFrames, agreement
from workbench_gym.benchmark.photoreal_runner import photoreal_rows, run_photoreal
from workbench_gym.benchmark.planners import PlannerChoice
from workbench_gym.benchmark.suite import parse_suite
from workbench_gym.policies import OraclePlanner
from workbench_gym.sim.camera import CameraFrame, look_at


class FlatRenderer:
    """Draws every camera it is given as one flat grey frame; records what it was asked to draw."""

    name = "flat"

    def __init__(self):
        self.calls = []

    def render(self, spec, robot=None):
        self.calls.append((spec, robot))
        return {c.name: CameraFrame(np.full((c.height, c.width, 3), 7, np.uint8), np.full((c.height, c.width), 0.5, np.float32), None,
                                    np.eye(3), np.eye(4)) for c in spec.cameras}


def test_the_wrist_frame_is_drawn_at_the_hands_simulated_pose():
    renderer = FlatRenderer()
    env = PhotorealFrames(gym.make("workbench_gym/PickTool-v0", control_mode="primitive", obs_mode="rgbd", cameras=("front", "wrist"),
                                   image_size=(48, 40)), renderer)
    try:
        obs, _ = env.reset(seed=5204)
        obs, *_ = env.step(OraclePlanner(env).act(obs))  # the tool is lifted: the hand is far from where it started
        (first, _), (spec, _) = renderer.calls[0], renderer.calls[-1]
        wrist = next(c for c in spec.cameras if c.name == "wrist")
        mounted = env.unwrapped.camera_specs["wrist"]
        assert wrist.mount == "world" and (wrist.fov, wrist.near, wrist.far, wrist.width, wrist.height) == (
            mounted.fov, mounted.near, mounted.far, 48, 40), "the same intrinsics"
        pybullet = env.unwrapped.world.render("wrist")
        assert np.allclose(look_at(wrist.eye, wrist.target, wrist.up), pybullet.extrinsics, atol=1e-5), "the wrist camera's pose now"
        assert np.allclose(obs["cameras"]["wrist"]["extrinsics"], pybullet.extrinsics, atol=1e-5)
        before = next(c for c in first.cameras if c.name == "wrist")
        assert np.linalg.norm(np.subtract(before.eye, wrist.eye)) > 0.05, "the wrist camera follows the hand between frames"
        assert (obs["cameras"]["wrist"]["rgb"] == 7).all() and (obs["cameras"]["wrist"]["depth"] == 0.5).all(), "the renderer's frame"
        assert not (pybullet.rgb == 7).all()
    finally:
        env.close()


def tiny_suite():
    """suite v1 with a two-seed photoreal block of PickTool (the suite's own frame size: the native planner's second look
    assumes it)."""
    data = json.loads(resources.files("workbench_gym.benchmark").joinpath("suite_v1.json").read_text())
    data["photoreal"].update(tasks=["PickTool"], seeds={"first": 104000, "count": 2})
    return parse_suite(data)


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    """The tiny section run once on one development seed per task: (suite, folder, renderer, card)."""
    suite, out, renderer = tiny_suite(), tmp_path_factory.mktemp("photoreal"), FlatRenderer()
    card = run_photoreal(suite, out, episodes_per_task=1, dev=True, progress=False, renderer=renderer)
    return suite, out, renderer, card


def test_the_section_runs_every_planner_with_both_renderers(section):
    suite, out, renderer, card = section
    rows = {p.stem for p in (out / "rows").glob("*.json")}
    planners = suite.photoreal.planners
    assert rows == {f"photoreal__{r}__{p.replace('/', '__')}__PickTool" for p in planners for r in ("pybullet", "cycles")} - {
        "photoreal__cycles__random__PickTool"}, "random reads no camera: one set of episodes"
    assert card["subset"] and card["episodes_per_task"] == 1 and card["section_episodes_per_task"] == 2 and card["dev_seeds"]
    assert card["seeds"] == {"first": 104000 - 95000, "count": 1}
    assert card["episodes"] == {"pybullet": 4, "cycles": 3} and card["frames_rendered"] > 0
    # Every observation of the three camera planners' Cycles episodes was drawn: the front and the wrist camera.
    assert len(renderer.calls) * 2 == card["frames_rendered"]
    assert all([c.name for c in spec.cameras] == ["front", "wrist"] for spec, _ in renderer.calls)
    cycles = json.loads((out / "rows" / "photoreal__cycles__vlm__native__PickTool.json").read_text())["episodes"][0]
    # Both cameras of every observation a decision reads: after the reset and each step but the last.
    assert cycles["frames_rendered"] == 2 * cycles["steps"] and cycles["render_seconds"] >= 0
    md = (out / "card.md").read_text()
    assert md.startswith("# workbench-gym suite v1: photoreal section (SUBSET) — DEVELOPMENT SEEDS")
    assert "1 of the section's 2 episodes per task" in md and "| vlm/native(second_look=false) | camera |" in md


def test_the_card_is_computed_from_the_row_files_and_a_rerun_resumes(section, tmp_path):
    suite, finished, _, _ = section
    import shutil

    out = tmp_path / "run"
    shutil.copytree(finished, out)
    wanted = {("pybullet", "vlm/native+oracle_grounding"): True, ("cycles", "vlm/native+oracle_grounding"): True,
              ("pybullet", "vlm/native"): True, ("cycles", "vlm/native"): False,
              ("pybullet", "vlm/native(second_look=false)"): False, ("cycles", "vlm/native(second_look=false)"): False,
              ("pybullet", "random"): False}
    for (renderer, planner), success in wanted.items():  # outcomes the card must read back
        path = out / "rows" / f"photoreal__{renderer}__{planner.replace('/', '__')}__PickTool.json"
        data = json.loads(path.read_text())
        data["episodes"][0]["success"] = success
        path.write_text(json.dumps(data))
    renderer = FlatRenderer()
    card = run_photoreal(suite, out, episodes_per_task=1, dev=True, progress=False, renderer=renderer)
    assert renderer.calls == [], "finished rows are not run again"
    rates = {side: {p: float(wanted.get((side, p), wanted[("pybullet", p)])) for p in suite.photoreal.planners} for side in ("pybullet", "cycles")}
    assert {p: (e["pybullet"]["value"], e["cycles"]["value"]) for p, e in card["success"].items()} == {
        p: (rates["pybullet"][p], rates["cycles"][p]) for p in suite.photoreal.planners}
    expected = agreement(rates["pybullet"], rates["cycles"])
    assert card["agreement"] == expected and expected["mmrv"] > 0 and 0 < expected["pearson"] < 1
    assert card["success"]["vlm/native"]["change"]["value"] == -1.0
    with pytest.raises(ValueError, match="another run"):
        run_photoreal(suite, out, episodes_per_task=2, dev=True, progress=False, renderer=renderer)


def test_the_suites_planner_names_and_seed_prefixes():
    assert PlannerChoice.named("vlm/native(second_look=false)") == PlannerChoice("vlm", {"backend": "native", "second_look": False})
    assert PlannerChoice.named("vlm/native+oracle_grounding").oracle_grounding and PlannerChoice.named("random").privileged
    with pytest.raises(ValueError, match="NAME"):
        PlannerChoice.named("vlm native")
    suite = tiny_suite()
    assert {r.seeds for r in photoreal_rows(suite, 1)} == {(104000,)}
    with pytest.raises(ValueError, match="fewer than 3"):
        photoreal_rows(suite, 3)
    with pytest.raises(ValueError, match="not in the section"):
        photoreal_rows(suite, tasks=("SortTools",))


def test_command_line_refuses_what_the_section_does_not_take(tmp_path, capsys):
    from workbench_gym.cli import main

    assert main(["eval", "--suite", "v1", "--section", "photoreal", "--quick", "--out", str(tmp_path / "x")]) == 2
    assert "drop ['--quick']" in capsys.readouterr().err and not (tmp_path / "x").exists()
    assert main(["eval", "--suite", "v1", "--episodes-per-task", "3", "--planner", "oracle", "--out", str(tmp_path / "y")]) == 2
    assert "--section photoreal" in capsys.readouterr().err and not (tmp_path / "y").exists()
