"""`WorkbenchEnv`: a Gymnasium env of the Panda at a cluttered workbench, one task per instance.

Each `reset` samples a scene spec from the env's RNG, rebuilds the PyBullet world from it and lets
the task choose its goal, so `reset(seed=s)` gives the same episode in any process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from workbench_gym.control.primitives import MotionPrimitives, PrimitiveResult, Reason
from workbench_gym.envs import high_level
from workbench_gym.envs.config import EnvConfig
from workbench_gym.envs.controllers import CONTROLLERS, check_action
from workbench_gym.envs.high_level import Answer, Ask, Done, HighLevelAction, Pick, Place
from workbench_gym.envs.observations import check_text, observation_space, observe
from workbench_gym.envs.perturbation import named_tool, perturbed_spec, swapped_spec
from workbench_gym.envs.task import get_task
from workbench_gym.scenes.spec import SceneSpec, default_cameras
from workbench_gym.sim.world import World

RENDER_CAMERA = "render"


class WorkbenchEnv(gym.Env):
    """Franka Panda, hand tools and a language instruction. Options: see `EnvConfig`.

    With `control_mode="primitive"` an action is a high-level action (`Pick`, `Place`, `Answer`,
    `Ask`, `Done`, or its Dict encoding) and one step runs it whole. Malformed actions (unknown
    verb, NaN pose) raise `ValueError`; well-formed ones that cannot be carried out (unreachable
    pose, nothing to grasp, empty text) return a failed result in `info["primitive"]` and the
    episode goes on. `reset(options={"instruction": text})` rephrases the instruction, same goal.
    """

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 25}

    def __init__(self, task: str = "PickTool", render_mode: str | None = None, **options: Any):
        self.config = EnvConfig.from_kwargs(render_mode=render_mode, **options)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": self.config.control_freq}
        self.task = get_task(task)(self.config)
        self.camera_specs = self._camera_specs()
        primitive = self.config.control_mode == "primitive"
        self.action_space = high_level.action_space() if primitive else CONTROLLERS[self.config.control_mode].action_space
        self.observation_space = observation_space(self.config, self.task, self.camera_specs)
        self.world = World(self.config.sim)
        self.instruction = ""
        self.dialog = ""
        self._controller = None
        self._primitives_run = 0
        self._progress = 0.0
        self._closed = False

    def _camera_specs(self) -> dict:
        width, height = self.config.image_size
        specs = {c.name: dataclasses.replace(c, width=width, height=height) for c in default_cameras()}
        if self.render_mode == "rgb_array":
            w, h = self.config.render_size
            specs[RENDER_CAMERA] = dataclasses.replace(specs["front"], name=RENDER_CAMERA, width=w, height=h)
        return specs

    # --- gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self._check_open("reset")
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(f"reset options must be a dict such as {{'instruction': text}} or None, "
                            f"got {type(options).__name__}: {options!r:.80}")
        super().reset(seed=seed)
        options = dict(options or {})
        instruction = options.pop("instruction", None)
        goal_level = options.pop("goal_level", False)
        if options:
            raise ValueError(f"unknown reset option(s) {sorted(options)}; expected 'instruction' and 'goal_level'")
        if instruction is not None:
            check_text(instruction, "options['instruction']")
        if not isinstance(goal_level, bool) or (goal_level and instruction is None):
            raise ValueError(f"reset option 'goal_level' is a bool that comes with an 'instruction', got {goal_level!r}")
        spec = dataclasses.replace(self.task.sample_scene(self.np_random), cameras=list(self.camera_specs.values()))
        if self.config.perturb:
            spec = perturbed_spec(spec, self.task)
        self.build(spec)
        self.instruction = self.task.start(self.world, self.np_random)
        swap = self._swap_target() if self.config.swap_target else None
        if instruction is not None:
            self.instruction = instruction
            self.task.instructed(goal_level)
        self.dialog, self._primitives_run, self._progress = "", 0, self.task.progress(self.world)
        obs = observe(self.config, self.world, self.task, self.instruction, self.dialog)
        info = {"is_success": False, "goal": self.task.goal_info(self.world), "scene_seed": spec.seed}
        if self.config.swap_target:
            info["target_swap"] = swap
        return obs, info

    def _swap_target(self) -> dict | None:
        """Rebuild the world with the named tool and another in each other's places (`EnvConfig.swap_target`)."""
        target = named_tool(self.task, self.world)
        swapped = swapped_spec(self.world.spec, target, self.instruction, self.np_random)
        if swapped is None:
            return None
        self.build(swapped[0])
        return {"target": target.name, "with": swapped[1]}

    def build(self, spec: SceneSpec) -> None:
        """Build the world from a spec and attach the controller (the task's goal is not chosen)."""
        self.world.build(spec)
        if self.config.control_mode == "primitive":
            self._controller = MotionPrimitives(self.world)
        else:
            self._controller = CONTROLLERS[self.config.control_mode](self.world)

    @property
    def held(self) -> str | None:
        """Name of the object the gripper holds after the last primitive (privileged)."""
        return getattr(self._controller, "held", None)

    def step(self, action):
        self._check_open("step")
        if self._controller is None:
            raise RuntimeError("call reset() before step()")
        if self.config.control_mode == "primitive":
            return self._step_primitive(high_level.decode(action))
        self._controller.apply(check_action(action, self.action_space, self.config.control_mode))
        self.world.step(self.config.substeps)
        self._advance()
        obs = observe(self.config, self.world, self.task, self.instruction, self.dialog)
        success = self.task.is_success(self.world)
        reward = self.task.reward(self.world, self.config.reward_mode)
        info = {"is_success": success, "sim_time": self.world.sim_time, **self.task.step_info(self.world)}
        return obs, reward, success, False, info

    def _advance(self) -> None:
        """Take the task's next instruction, if it hands out a new one (a chain whose current step is done)."""
        instruction = self.task.advance(self.world)
        if instruction is not None:
            self.instruction, self.dialog = instruction, ""

    def _run(self, action: HighLevelAction) -> PrimitiveResult:
        """Carry out one high-level action; motion for Pick/Place, none for the rest."""
        if isinstance(action, Pick):
            return self._controller.pick(action.pose[:3], action.pose[3], action.width)
        if isinstance(action, Place):
            return self._controller.place(action.pose[:3], action.pose[3])
        if isinstance(action, (Answer, Ask)) and not action.text.strip():
            return PrimitiveResult(False, Reason.EMPTY_TEXT, 0, self.held, f"{type(action).__name__} needs text")
        return PrimitiveResult(True, Reason.OK, 0, self.held)

    def _step_primitive(self, action: HighLevelAction):
        result = self._run(action)
        if result.success:
            self.dialog = self.task.hear(action, self.world) or self.dialog
        self._primitives_run += 1
        self._advance()
        progress = self.task.progress(self.world)
        reward, self._progress = progress - self._progress, progress
        success = self.task.is_success(self.world)
        info = {
            "is_success": success,
            "sim_time": self.world.sim_time,
            "progress": progress,
            "primitive": {"verb": type(action).__name__.lower(), "success": result.success, "reason": result.reason.value,
                          "detail": result.detail, "held": result.held, "sim_steps": result.sim_steps},
            **self.task.step_info(self.world),
        }
        terminated = success or isinstance(action, Done)
        truncated = not terminated and self._primitives_run >= self.task.max_primitives
        obs = observe(self.config, self.world, self.task, self.instruction, self.dialog)
        return obs, float(reward), terminated, truncated, info

    def render(self) -> np.ndarray | None:
        """The front view at `render_size` for "rgb_array"; the GUI window draws itself for "human"."""
        self._check_open("render")
        if self.render_mode != "rgb_array":
            return None
        if self._controller is None:
            raise RuntimeError("call reset() before render()")
        return self.world.render(RENDER_CAMERA, depth=False, segmentation=False).rgb

    def close(self) -> None:
        self.world.close()
        self._closed = True
        super().close()

    def _check_open(self, call: str) -> None:
        if self._closed:
            raise RuntimeError(f"env is closed: {call}() after close(); make a new env")
