"""Photoreal frames for a planner: the simulated state as it is now, drawn by another renderer (Cycles), and how far
two renderers agree on the planners they rank.

`PhotorealFrames` wraps an env: after every reset and step it writes the simulated poses back into a copy of the
spec (`World.current_spec`), adds the arm's joint angles, and replaces each world camera's RGB and depth (and
segmentation, when the observation has it) with the renderer's frames of that state, through the same camera, so
intrinsics and extrinsics stay as they were. Physics stays PyBullet's: only what the planner sees changes. The
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
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.sim.camera import CameraFrame


class StateRenderer(Protocol):
    """Draws a spec's world cameras with the arm at `robot` = (7 joint angles, finger opening)."""

    def render(self, spec: SceneSpec, robot: tuple | None = None) -> dict[str, CameraFrame]: ...


def state_scene(env: gym.Env, cameras: tuple[str, ...]) -> tuple[SceneSpec, tuple]:
    """The env's scene as it is now (privileged: poses read back from the simulation) with only the named cameras,
    and the arm's pose (joint angles, finger opening)."""
    unwrapped = env.unwrapped
    spec = unwrapped.world.current_spec()
    spec = dataclasses.replace(spec, cameras=[unwrapped.camera_specs[name] for name in cameras])
    proprio = unwrapped.world.robot.proprio()
    return spec, (tuple(float(q) for q in proprio.joint_positions[:7]), float(proprio.gripper_width))


class PhotorealFrames(gym.ObservationWrapper):
    """An env whose camera observations come from `renderer` drawing the simulated state (see the module docstring)."""

    def __init__(self, env: gym.Env, renderer: StateRenderer):
        super().__init__(env)
        self.renderer = renderer
        config = env.unwrapped.config
        if config.obs_mode == "state":
            raise ValueError("photoreal frames replace camera observations; make the env with obs_mode='rgb', 'rgbd' or 'rgbd_seg'")
        wrist = [c for c in config.cameras if env.unwrapped.camera_specs[c].mount != "world"]
        if wrist:
            raise ValueError(f"photoreal frames are drawn for world cameras only; drop {wrist} from the env's cameras")
        self.cameras = tuple(config.cameras)

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        spec, robot = state_scene(self.env, self.cameras)
        frames = self.renderer.render(spec, robot)
        out = {**observation, "cameras": {}}
        for name, view in observation["cameras"].items():
            frame = frames[name]
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
