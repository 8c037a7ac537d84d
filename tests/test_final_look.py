"""The look before Done: a move-every step checks the whole bench from the overhead camera before it is called done."""

import gymnasium as gym
import numpy as np
from scripted_backend import ScriptedBackend
from test_vlm_planner import run_episode

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.high_level import Done
from workbench_gym.language.task import ToolReference
from workbench_gym.policies.scene_reader import FINAL_CAMERA, SceneReader
from workbench_gym.policies.vlm_planner import ENV_OPTIONS, PlannerConfig, VLMPlanner

SEED = 1  # CollectScrews with 4 tools: three screws, each picked and placed cleanly with perfect grounding


class FrontBlindBackend(ScriptedBackend):
    """Perfect grounding, except that one tool is invisible to the front and wrist cameras (as a screw beside a
    bigger tool, or a tool behind a bin, is to the front view); the overhead camera sees it."""

    def __init__(self, env, hidden: str):
        super().__init__(env)
        self.hidden = hidden

    def hides(self, view) -> bool:
        """Whether this view misses the hidden tool."""
        return view.camera != FINAL_CAMERA

    def ground(self, view, phrase):
        regions = super().ground(view, phrase)
        if not self.hides(view):
            return regions
        hidden = self._segmentation(view) == self.env.world.instance_ids[self.hidden]
        return [r for r in regions if not (np.asarray(r.mask, bool) & hidden).any()]


def _episode(config: PlannerConfig):
    env = gym.make("workbench_gym/CollectScrews-v0", control_mode="primitive", n_tools=4, **ENV_OPTIONS)
    try:
        obs, info = env.reset(seed=SEED)
        screws = [t.name for t in env.unwrapped.world.spec.tools if t.category == "screw"]
        assert len(screws) >= 2 and {o["object"] for o in info["goal"]["objects"]} == set(screws)
        backend = FrontBlindBackend(env, hidden=screws[0])
        planner = VLMPlanner(backend, config)
        planner.scene.look(obs)
        front = planner.scene.candidates(ToolReference("screw", every=True))
        actions, info, _ = run_episode(env, planner, SEED)
        return len(screws), front, actions, info, planner
    finally:
        env.close()


def test_a_screw_the_front_view_misses_is_found_from_overhead_before_done():
    """With one screw invisible from the front, the front-only planner says Done with it still on the bench; with
    the look before Done it finds the screw from overhead, moves it too and the task succeeds."""
    screws, front, actions, info, _ = _episode(PlannerConfig(final_look=False))
    assert len(front) == screws - 1  # the front view misses one screw
    assert isinstance(actions[-1], Done) and not info["is_success"] and info["progress"] < 1.0

    screws, front, actions, info, planner = _episode(PlannerConfig())
    assert len(front) == screws - 1
    assert info["is_success"], [f"{d.action} ({d.reason})" for d in planner.decisions]
    assert not any(isinstance(a, Done) for a in actions)  # success ended the episode: Done was never said early
    looked = [d for d in planner.decisions if "final_look" in d.inputs]
    assert looked and looked[0].inputs["final_look"]["screw"]["camera"] == FINAL_CAMERA
    assert looked[0].action.startswith("pick") and "left to move" in looked[0].reason


def test_no_overhead_camera_means_no_final_look():
    """An env rendering only the front (and wrist) camera gives the look before Done nothing to read: no candidates."""
    env = gym.make("workbench_gym/CollectScrews-v0", control_mode="primitive", n_tools=4,
                   **{**ENV_OPTIONS, "cameras": ("front", "wrist")})
    try:
        obs, _ = env.reset(seed=SEED)
        reader = SceneReader(ScriptedBackend(env), PlannerConfig())
        reader.look(obs)
        assert reader.bench_check(ToolReference("screw", every=True)) == []
        assert len(reader.candidates(ToolReference("screw", every=True))) >= 2  # the front view does see the screws
    finally:
        env.close()
