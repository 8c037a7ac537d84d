"""Observation spaces and observations, by `obs_mode` name.

"state": proprioception, the instruction and privileged object poses and goal (for RL).
"rgb" / "rgbd" / "rgbd_seg": proprioception, the instruction and per-camera images with
intrinsics and extrinsics; no privileged state, so planners can be handed them as they are.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

import numpy as np
from gymnasium import spaces

from workbench_gym.envs.config import EnvConfig
from workbench_gym.envs.text_space import InstructionText
from workbench_gym.scenes.sampler import MAX_TOOLS
from workbench_gym.scenes.spec import CameraSpec
from workbench_gym.sim.robot import PROPRIO_SIZE
from workbench_gym.sim.world import FIRST_OBJECT_ID, World

if TYPE_CHECKING:  # tasks import this module's spaces
    from workbench_gym.envs.task import Task

INSTRUCTION_CHARSET = string.ascii_letters + string.digits + " ,.'?!-:;()/"
MAX_INSTRUCTION_LENGTH = 256
MAX_CONTAINERS = 8
MAX_INSTANCE_ID = FIRST_OBJECT_ID + MAX_CONTAINERS + MAX_TOOLS
OBJECT_FEATURES = 8  # present flag, position (3), quaternion (4)
_BUFFERS = {"rgb": ("rgb",), "rgbd": ("rgb", "depth"), "rgbd_seg": ("rgb", "depth", "segmentation")}


def instruction_space(min_length: int = 1) -> spaces.Text:
    """The space of instructions and dialog; stays current through async vector envs' shared memory."""
    return InstructionText(max_length=MAX_INSTRUCTION_LENGTH, min_length=min_length, charset=INSTRUCTION_CHARSET)


def check_text(text: str, what: str) -> str:
    """`text` if the instruction space can hold it, else `ValueError` naming the problem."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{what} must be a non-empty string, got {text!r}")
    if len(text) > MAX_INSTRUCTION_LENGTH:
        raise ValueError(f"{what} is {len(text)} characters long; at most {MAX_INSTRUCTION_LENGTH} fit")
    bad = sorted(set(text) - set(INSTRUCTION_CHARSET))
    if bad:
        raise ValueError(f"{what} has characters outside the instruction charset: {bad}")
    return text


def _camera_space(cam: CameraSpec, buffers: tuple[str, ...]) -> spaces.Dict:
    h, w = cam.height, cam.width
    out = {
        "intrinsics": spaces.Box(-np.inf, np.inf, (3, 3), np.float32),
        "extrinsics": spaces.Box(-np.inf, np.inf, (4, 4), np.float32),
    }
    if "rgb" in buffers:
        out["rgb"] = spaces.Box(0, 255, (h, w, 3), np.uint8)
    if "depth" in buffers:
        out["depth"] = spaces.Box(0.0, cam.far * 1.001, (h, w), np.float32)
    if "segmentation" in buffers:
        out["segmentation"] = spaces.Box(0, MAX_INSTANCE_ID, (h, w), np.int32)
    return spaces.Dict(out)


def observation_space(config: EnvConfig, task: Task, cameras: dict[str, CameraSpec]) -> spaces.Dict:
    out = {
        "instruction": instruction_space(),
        "dialog": instruction_space(min_length=0),  # the supervisor's last reply to an Ask
        "proprio": spaces.Box(-np.inf, np.inf, (PROPRIO_SIZE,), np.float32),
    }
    if config.obs_mode == "state":
        out["objects"] = spaces.Box(-np.inf, np.inf, (MAX_TOOLS, OBJECT_FEATURES), np.float32)
        out["goal"] = spaces.Box(-np.inf, np.inf, (task.goal_size,), np.float32)
    else:
        buffers = _BUFFERS[config.obs_mode]
        out["cameras"] = spaces.Dict({name: _camera_space(cameras[name], buffers) for name in config.cameras})
    return spaces.Dict(out)


def object_states(world: World) -> np.ndarray:
    """Present flag, position and quaternion of every tool, zero-padded to MAX_TOOLS rows. Privileged."""
    out = np.zeros((MAX_TOOLS, OBJECT_FEATURES), np.float32)
    positions, quaternions = world.tool_poses()
    n = len(positions)
    out[:n, 0], out[:n, 1:4], out[:n, 4:] = 1.0, positions, quaternions
    return out


def observe(config: EnvConfig, world: World, task: Task, instruction: str, dialog: str = "") -> dict:
    """The observation for `config.obs_mode`; renders only the buffers that mode asks for."""
    obs = {"instruction": instruction, "dialog": dialog, "proprio": world.robot.proprio().vector()}
    if config.obs_mode == "state":
        obs["objects"] = object_states(world)
        obs["goal"] = task.goal_vector(world)
        return obs
    buffers = _BUFFERS[config.obs_mode]
    obs["cameras"] = {}
    for name in config.cameras:
        frame = world.render(name, rgb=True, depth="depth" in buffers, segmentation="segmentation" in buffers)
        view = {"intrinsics": frame.intrinsics, "extrinsics": frame.extrinsics, "rgb": frame.rgb}
        if frame.depth is not None:
            view["depth"] = frame.depth
        if frame.segmentation is not None:
            view["segmentation"] = frame.segmentation
        obs["cameras"][name] = view
    return obs
