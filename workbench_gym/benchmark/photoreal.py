"""Photoreal frames for a planner: the simulated state as it is now, drawn by another renderer (Cycles), and how far
two renderers agree on the planners they rank.

`PhotorealFrames` wraps an env: after every reset and step it writes the simulated poses back into a copy of the
spec (`World.current_spec`), adds the arm's joint angles, and replaces each camera's RGB and depth (and segmentation,
when the observation has it) with the renderer's frames of that state, through the same camera, so intrinsics and
extrinsics stay as they were. A wrist camera is handed to the renderer as a world camera at the pose the hand has
now (same intrinsics), so the planner's second look is drawn by Cycles too. Physics stays PyBullet's: only what the planner sees changes. The
renderer is BlenderProc's (`synth_data.blenderproc_renderer`, a GPL-3.0 child process) or anything with its
`render(spec, robot)`. `agreement` compares the success of several planners under the two renderers: Pearson's r and
SimplerEnv's MMRV (the PyBullet side plays "simulation", the Cycles side the reference).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from workbench_gym.benchmark.stats import mmrv, pearson
from workbench_gym.scenes.spec import CameraSpec, SceneSpec
from workbench_gym.sim.camera import CameraFrame, mounted_eye
from workbench_gym.sim.robot import HAND_LINK


class StateRenderer(Protocol):
    """Draws a spec's world cameras with the arm at `robot` = (7 joint angles, finger opening)."""

    def render(self, spec: SceneSpec, robot: tuple | None = None) -> dict[str, CameraFrame]: ...


def state_scene(env: gym.Env, cameras: tuple[str, ...]) -> tuple[SceneSpec, tuple]:
    """The env's scene as it is now (privileged: poses read back from the simulation) with only the named cameras,
    wrist cameras placed in the world where the hand holds them now, and the arm's pose (joint angles, finger
    opening)."""
    unwrapped = env.unwrapped
    world = unwrapped.world
    spec = dataclasses.replace(world.current_spec(), cameras=[placed_camera(unwrapped.camera_specs[name], world) for name in cameras])
    proprio = world.robot.proprio()
    return spec, (tuple(float(q) for q in proprio.joint_positions[:7]), float(proprio.gripper_width))


def placed_camera(camera: CameraSpec, world) -> CameraSpec:
    """A world camera as it is; a wrist camera as the world camera it is now (at the hand's simulated pose)."""
    if camera.mount == "world":
        return camera
    if camera.mount != "wrist":
        raise ValueError(f"camera {camera.name!r}: unknown mount {camera.mount!r}; expected 'world' or 'wrist'")
    eye, target, up = (tuple(float(v) for v in a) for a in mounted_eye(camera, world.robot.link_pose(HAND_LINK)))
    return dataclasses.replace(camera, eye=eye, target=target, up=up, mount="world")


class PhotorealFrames(gym.ObservationWrapper):
    """An env whose camera observations come from `renderer` drawing the simulated state (see the module docstring)."""

    def __init__(self, env: gym.Env, renderer: StateRenderer, draw_last: bool = True):
        """`draw_last=False` leaves an episode's last observation (after termination or truncation, which no decision
        reads) with PyBullet's frames: a one-step episode then costs one Cycles draw instead of two."""
        super().__init__(env)
        self.renderer, self.draw_last = renderer, draw_last
        config = env.unwrapped.config
        if config.obs_mode == "state":
            raise ValueError("photoreal frames replace camera observations; make the env with obs_mode='rgb', 'rgbd' or 'rgbd_seg'")
        self.cameras = tuple(config.cameras)

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        if (terminated or truncated) and not self.draw_last:
            return observation, reward, terminated, truncated, info
        return self.observation(observation), reward, terminated, truncated, info

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        spec, robot = state_scene(self.env, self.cameras)
        frames = self.renderer.render(spec, robot)
        out = {**observation, "cameras": {}}
        for name, view in observation["cameras"].items():
            frame = frames[name]
            if frame.rgb.shape != view["rgb"].shape:
                raise ValueError(f"the renderer drew camera {name!r} at {frame.rgb.shape[:2]} (rows, columns); the observation "
                                 f"expects {view['rgb'].shape[:2]}: render at the env's image_size")
            replaced = {"rgb": frame.rgb, "depth": frame.depth, "segmentation": frame.segmentation}
            out["cameras"][name] = {k: replaced.get(k, v) for k, v in view.items()}
        return out


def agreement(simulated: Mapping[str, float], reference: Mapping[str, float]) -> dict:
    """Pearson's r and MMRV between two renderers' success rates of the same planners (planner name -> rate)."""
    names = sorted(simulated)
    if sorted(reference) != names or len(names) < 2:
        raise ValueError(f"agreement needs the same two or more planners on both sides, got {sorted(simulated)} and {sorted(reference)}")
    a, b = np.array([simulated[n] for n in names]), np.array([reference[n] for n in names])
    return {"planners": names, "pearson": pearson(a, b), "mmrv": mmrv(a, b)}
