"""What a move-every step remembers: a tool it saw and has not moved is not forgotten when the views stop finding it
(the arm hides it, or the backend reads it as another kind), and containers are fitted once, each to its own."""

import gymnasium as gym
import numpy as np
from depth_frames import FRONT, bin_boxes, render
from test_final_look import FrontBlindBackend

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.high_level import Done, Pick, decode
from workbench_gym.policies.backend import Region
from workbench_gym.policies.perception import ToolEstimate
from workbench_gym.policies.scene_reader import SceneReader
from workbench_gym.policies.vlm_planner import ENV_OPTIONS, PlannerConfig, VLMPlanner, _Target

SEED = 1  # CollectScrews with 4 tools: three screws, each picked and placed cleanly with perfect grounding


class ForgetfulBackend(FrontBlindBackend):
    """Perfect grounding until `blind` is set; from then on one tool is invisible to every camera."""

    def __init__(self, env, hidden: str):
        super().__init__(env, hidden)
        self.blind = False

    def hides(self, view) -> bool:
        return self.blind


def _episode(config: PlannerConfig):
    """The planner collects screws; after its first pick the screw farthest from it vanishes from every view."""
    env = gym.make("workbench_gym/CollectScrews-v0", control_mode="primitive", n_tools=4, **ENV_OPTIONS)
    try:
        obs, _ = env.reset(seed=SEED)
        world = env.unwrapped.world
        screws = [t.name for t in world.spec.tools if t.category == "screw"]
        backend = ForgetfulBackend(env, hidden=screws[0])
        planner = VLMPlanner(backend, config)
        planner.reset(obs["instruction"])
        actions, done = [], False
        while not done:
            action = planner.act(obs)
            actions.append(decode(action))
            if len(actions) == 1:
                aimed = np.asarray(actions[0].pose[:2])
                backend.hidden = max(screws, key=lambda n: np.linalg.norm(np.asarray(world.object_pose(n)[0][:2]) - aimed))
                backend.blind = True
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        return actions, info, planner
    finally:
        env.close()


def test_a_screw_the_views_stop_finding_is_still_collected():
    """Without memory the step is called done with the vanished screw on the bench; with it the planner grasps where it
    saw the screw (the depth still shows something lying there) and the task succeeds."""
    actions, info, _ = _episode(PlannerConfig(remember=False))
    assert isinstance(actions[0], Pick) and isinstance(actions[-1], Done) and not info["is_success"]

    actions, info, planner = _episode(PlannerConfig())
    assert info["is_success"], [f"{d.action} ({d.reason})" for d in planner.decisions]
    assert any("seen earlier still lies" in d.reason for d in planner.decisions)


class _TwoBins:
    """A backend that finds two bins for any bin phrase, the first (best) always the same one."""

    name = "two-bins"

    def __init__(self, masks):
        self.masks = masks

    def ground(self, view, phrase):
        return [Region((0, 0, 1, 1), 0.9, self.masks[0], "bin"), Region((0, 0, 1, 1), 0.6, self.masks[1], "bin")]


def test_a_container_already_fitted_to_one_destination_is_not_fitted_to_another():
    """"The middle bin" scoring best on the bin already fitted as "the left bin" (as when the arm hides the middle one)
    is fitted to the other bin instead."""
    view, owner = render(bin_boxes(0, (0.6, 0.25), 0.0, (0.28, 0.2), 0.084) + bin_boxes(1, (0.6, 0.0), 0.0, (0.28, 0.2), 0.084),
                         size=256, **FRONT)
    reader = SceneReader(_TwoBins([owner == 0, owner == 1]), PlannerConfig())
    reader.look({"cameras": {"front": {"rgb": view.rgb, "depth": view.depth, "intrinsics": view.intrinsics, "extrinsics": view.extrinsics}}})
    left, middle = reader.zone("left bin"), reader.zone("middle bin")
    assert np.allclose(left.center, (0.6, 0.25), atol=0.01) and np.allclose(middle.center, (0.6, 0.0), atol=0.01)
    assert reader.zone("right bin") is None  # both bins are taken: no third to fit


def _estimate(xy, category: str = "screw", length: float = 0.025) -> ToolEstimate:
    return ToolEstimate(category, "medium", (float(xy[0]), float(xy[1]), 0.75), 0.0, length, 0.01, 1.0, 50)


def test_a_remembered_tool_is_merged_by_its_middle_and_dropped_after_an_empty_grasp():
    """Sightings of one screwdriver 3 cm apart count as one (seen twice), two screws 3 cm apart stay two; an empty
    grasp at a remembered tool forgets it without marking the place done, so a view that finds it again brings it back."""
    planner = VLMPlanner(_TwoBins([None, None]), PlannerConfig())
    screwdriver = _estimate((0.40, 0.10), "phillips_screwdriver", 0.20)
    planner._remember([(screwdriver, 0.9), (_estimate((0.40, -0.10)), 0.9)])
    planner._remember([(_estimate((0.43, 0.11), "phillips_screwdriver", 0.20), 0.9), (_estimate((0.43, -0.09)), 0.9)])
    assert sorted((e.category, n) for e, n in planner.to_move) == [("phillips_screwdriver", 2), ("screw", 1), ("screw", 1)]
    planner.target = _Target(planner.to_move[0][0], attempts=1, remembered=True)  # a screw
    planner._after_pick(holding=False)
    assert len(planner.to_move) == 2 and planner.done_targets == []
    assert planner._still_out([(planner.target.estimate, 0.9)], None)  # seen again later, it is a candidate
