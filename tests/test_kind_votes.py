"""A move-every step's memory of kinds: each fixed camera votes for what most of its decisions read a tool as."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
from depth_frames import BENCH_Z, FRONT, catalog_tool, render
from scripted_backend import ScriptedBackend, mask_region

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.policies.backend import Region
from workbench_gym.policies.kind_votes import KindVotes
from workbench_gym.policies.perception import ToolEstimate
from workbench_gym.policies.vlm_planner import ENV_OPTIONS, PlannerConfig, VLMPlanner

OVERHEAD = dict(eye=(0.4, 0.0, 1.6), target=(0.4, 0.0, BENCH_Z), up=(1.0, 0.0, 0.0), fov=50.0)
WRENCH = ("adjustable_wrench", "medium", (0.42, 0.12, BENCH_Z), 0.4)
PLIERS = ("needle_nose_pliers", "medium", (0.38, -0.15, BENCH_Z), -0.3)


def _views():
    boxes = catalog_tool(0, *WRENCH) + catalog_tool(1, *PLIERS)
    return render(boxes, size=192, camera="front", **FRONT), render(boxes, size=192, camera="overhead", **OVERHEAD)


def _regions(owner: np.ndarray, labels: tuple[str, str]) -> list[Region]:
    return [mask_region(owner == i, 0.9, label) for i, label in enumerate(labels)]


def _estimate(category, size, position, yaw) -> ToolEstimate:
    return ToolEstimate(category, size, position, yaw, 0.2, 0.01, 1.0, 100)


def test_a_misreading_in_one_frame_is_outvoted_by_the_cameras_that_read_the_tool_right():
    (front, front_owner), (above, above_owner) = _views()
    votes = KindVotes()
    votes.add(front, _regions(front_owner, ("adjustable_wrench", "needle_nose_pliers")))  # the first decision, arm at home
    votes.add(above, _regions(above_owner, ("adjustable_wrench", "needle_nose_pliers")))
    votes.add(front, _regions(front_owner, ("needle_nose_pliers", "needle_nose_pliers")))  # the arm hides half the wrench
    wrench, pliers = _estimate(*WRENCH), _estimate(*PLIERS)
    assert votes.votes(wrench, BENCH_Z) == {"wrench": 1}  # the front camera is split 1-1: no vote; overhead: wrench
    assert votes.read_as_other(wrench, "pliers", BENCH_Z)
    assert not votes.read_as_other(wrench, "wrench", BENCH_Z)
    assert votes.votes(pliers, BENCH_Z) == {"pliers": 2}
    assert not votes.read_as_other(pliers, "pliers", BENCH_Z)


def test_one_camera_repeating_its_mistake_does_not_outvote_another_camera():
    (front, front_owner), (above, above_owner) = _views()
    votes = KindVotes()
    for _ in range(3):  # the front camera reads the pliers as a wrench decision after decision: one viewpoint, one vote
        votes.add(front, _regions(front_owner, ("adjustable_wrench", "adjustable_wrench")))
    votes.add(above, _regions(above_owner, ("adjustable_wrench", "needle_nose_pliers")))
    pliers = _estimate(*PLIERS)
    assert votes.votes(pliers, BENCH_Z) == {"wrench": 1, "pliers": 1}
    assert not votes.read_as_other(pliers, "pliers", BENCH_Z)  # a tie keeps the tool in the step
    assert not votes.read_as_other(pliers, "wrench", BENCH_Z)


def test_a_tool_no_kept_map_covers_has_no_votes():
    (front, front_owner), _ = _views()
    votes = KindVotes()
    votes.add(front, _regions(front_owner, ("adjustable_wrench", "needle_nose_pliers")))
    elsewhere = _estimate("adjustable_wrench", "medium", (0.30, 0.35, BENCH_Z), 0.0)
    assert votes.votes(elsewhere, BENCH_Z) == {}
    assert not votes.read_as_other(elsewhere, "pliers", BENCH_Z)


class MisreadingBackend(ScriptedBackend):
    """Every tool region in every grounding, labelled (as the native backend gives them), and the containers a phrase
    names; once `misread` names a tool, the front camera reads it as needle-nose pliers, as a wrench half hidden by the
    arm was read in dev logs."""

    def __init__(self, env):
        super().__init__(env)
        self.misread = ""

    def ground(self, view, phrase):
        seg = self._segmentation(view)
        out = []
        for obj in self.env.world.spec.objects:
            mask = seg == self.env.world.instance_ids[obj.name]
            container = obj.category in ("bin", "parts_tray")
            if not mask.any() or (container and not self._score(obj, phrase.lower())):
                continue
            if obj.name == self.misread and view.camera == "front":
                obj = dataclasses.replace(obj, category="needle_nose_pliers")
            out.append(mask_region(mask, max(self._score(obj, phrase.lower()), 0.02), obj.category))
        return sorted(out, key=lambda r: -r.score)


def _sort(config: PlannerConfig):
    """SortTools seed 6 (a pliers, two wrenches, a screwdriver): from the second decision on, the front camera reads
    the adjustable wrench (which the overhead camera sees past the arm at home) as pliers."""
    env = gym.make("workbench_gym/SortTools-v0", control_mode="primitive", n_tools=4, **ENV_OPTIONS)
    try:
        obs, info = env.reset(seed=6)
        wrench = next(o["object"] for o in info["goal"]["objects"] if o["category"] == "adjustable_wrench")
        backend = MisreadingBackend(env)
        planner = VLMPlanner(backend, config)
        planner.reset(obs["instruction"])
        done = False
        while not done:
            action = planner.act(obs)
            backend.misread = wrench
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        return info, planner
    finally:
        env.close()


def test_a_sort_does_not_put_a_wrench_the_front_camera_misreads_in_the_pliers_bin():
    info, planner = _sort(PlannerConfig(kind_votes=False))
    assert not info["is_success"], [f"{d.action} ({d.reason})" for d in planner.decisions]
    info, planner = _sort(PlannerConfig())
    assert info["is_success"], [f"{d.action} ({d.reason})" for d in planner.decisions]
