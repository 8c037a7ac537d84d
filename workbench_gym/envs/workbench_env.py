"""`WorkbenchEnv`: a Gymnasium env of the Panda at a cluttered workbench, one task per instance.

Each `reset` samples a scene spec from the env's RNG, rebuilds the PyBullet world from it and lets
the task choose its goal, so `reset(seed=s)` gives the same episode in any process.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np

from workbench_gym.envs.config import EnvConfig
from workbench_gym.envs.controllers import CONTROLLERS, check_action
from workbench_gym.envs.observations import observation_space, observe
from workbench_gym.envs.task import get_task
from workbench_gym.scenes.spec import SceneSpec, default_cameras
from workbench_gym.sim.world import World

RENDER_CAMERA = "render"


class WorkbenchEnv(gym.Env):
    """Franka Panda, hand tools and a language instruction. Options: see `EnvConfig`."""

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 25}

    def __init__(self, task: str = "PickTool", render_mode: str | None = None, **options: Any):
        self.config = EnvConfig.from_kwargs(render_mode=render_mode, **options)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": self.config.control_freq}
        self.task = get_task(task)(self.config)
        self.camera_specs = self._camera_specs()
        self.action_space = CONTROLLERS[self.config.control_mode].action_space
        self.observation_space = observation_space(self.config, self.task, self.camera_specs)
        self.world = World(self.config.sim)
        self.instruction = ""
        self._controller = None

    def _camera_specs(self) -> dict:
        width, height = self.config.image_size
        specs = {c.name: dataclasses.replace(c, width=width, height=height) for c in default_cameras()}
        if self.render_mode == "rgb_array":
            w, h = self.config.render_size
            specs[RENDER_CAMERA] = dataclasses.replace(specs["front"], name=RENDER_CAMERA, width=w, height=h)
        return specs

    # --- gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if options:
            raise ValueError(f"unknown reset option(s) {sorted(options)}")
        spec = self.task.sample_scene(self.np_random)
        self.build(dataclasses.replace(spec, cameras=list(self.camera_specs.values())))
        self.instruction = self.task.reset(self.world, self.np_random)
        obs = observe(self.config, self.world, self.task, self.instruction)
        return obs, {"is_success": False, "goal": self.task.goal_info(self.world), "scene_seed": spec.seed}

    def build(self, spec: SceneSpec) -> None:
        """Build the world from a spec and attach the controller (the task's goal is not chosen)."""
        self.world.build(spec)
        self._controller = CONTROLLERS[self.config.control_mode](self.world)

    def step(self, action):
        if self._controller is None:
            raise RuntimeError("call reset() before step()")
        self._controller.apply(check_action(action, self.action_space, self.config.control_mode))
        self.world.step(self.config.substeps)
        obs = observe(self.config, self.world, self.task, self.instruction)
        success = self.task.is_success(self.world)
        reward = self.task.reward(self.world)
        info = {"is_success": success, "sim_time": self.world.sim_time}
        return obs, reward, success, False, info

    def render(self) -> np.ndarray | None:
        """The front view at `render_size` for "rgb_array"; the GUI window draws itself for "human"."""
        if self.render_mode != "rgb_array":
            return None
        if self._controller is None:
            raise RuntimeError("call reset() before render()")
        return self.world.render(RENDER_CAMERA, depth=False, segmentation=False).rgb

    def close(self) -> None:
        self.world.close()
        super().close()
