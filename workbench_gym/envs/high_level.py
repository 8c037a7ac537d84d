"""High-level actions (`Pick`, `Place`, `Answer`, `Ask`, `Done`) and their gymnasium space encoding.

The same action flows from a planner, a script or an RL policy: typed values for people, a Dict
sample ({"verb", "pose", "text"}) for gymnasium. `decode` accepts either and raises `ValueError`
for what is not an action at all (unknown verb, wrong pose shape, NaN); whether a well-formed
action can be carried out (a reachable pose, a non-empty answer) is the env's to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from workbench_gym.envs.observations import INSTRUCTION_CHARSET, MAX_INSTRUCTION_LENGTH
from workbench_gym.sim.robot import MAX_FINGER_WIDTH

VERBS = ("pick", "place", "answer", "ask", "done")
#: Bounds of a pose (x, y, z, yaw) in the world frame: a box around the bench.
POSE_LOW = np.array([-0.5, -1.0, 0.0, -np.pi], np.float32)
POSE_HIGH = np.array([1.5, 1.0, 2.0, np.pi], np.float32)


@dataclass(frozen=True)
class Pick:
    """Grasp at `pose` = (x, y, z, yaw): the point between the finger pads and the gripper's yaw.

    The fingers open to `width` metres before descending; a little wider than the part to grasp
    keeps them off its neighbours.
    """

    pose: tuple[float, float, float, float]
    width: float = MAX_FINGER_WIDTH


@dataclass(frozen=True)
class Place:
    """Lower the held object until the grasp point is at `pose`, then release it."""

    pose: tuple[float, float, float, float]


@dataclass(frozen=True)
class Answer:
    """Reply to a question in the instruction."""

    text: str


@dataclass(frozen=True)
class Ask:
    """Ask the supervisor a question; the reply arrives in the observation's `dialog`."""

    text: str


@dataclass(frozen=True)
class Done:
    """Declare the task finished."""


HighLevelAction = Pick | Place | Answer | Ask | Done
_TYPES = {"pick": Pick, "place": Place, "answer": Answer, "ask": Ask, "done": Done}


def action_space() -> spaces.Dict:
    return spaces.Dict(
        {
            "verb": spaces.Discrete(len(VERBS)),
            "pose": spaces.Box(POSE_LOW, POSE_HIGH, (4,), np.float32),
            "width": spaces.Box(0.0, MAX_FINGER_WIDTH, (), np.float32),
            "text": spaces.Text(max_length=MAX_INSTRUCTION_LENGTH, min_length=0, charset=INSTRUCTION_CHARSET),
        }
    )


def encode(action: HighLevelAction) -> dict[str, Any]:
    """The Dict-space sample of a typed action."""
    verb = VERBS.index(type(action).__name__.lower())
    pose = np.asarray(getattr(action, "pose", np.zeros(4)), np.float32)
    width = np.array(getattr(action, "width", MAX_FINGER_WIDTH), np.float32)
    return {"verb": verb, "pose": pose, "width": width, "text": getattr(action, "text", "")}


def decode(action: HighLevelAction | dict) -> HighLevelAction:
    """A typed action from a typed action or a Dict-space sample; `ValueError` names what is malformed."""
    if isinstance(action, (Pick, Place, Answer, Ask, Done)):
        action = encode(action)
    if not isinstance(action, dict) or "verb" not in action:
        raise ValueError(f"a high-level action is Pick/Place/Answer/Ask/Done or a dict with a 'verb', got {action!r}")
    verb = action["verb"]
    if isinstance(verb, str):
        if verb not in VERBS:
            raise ValueError(f"unknown verb {verb!r}; expected one of {VERBS}")
        verb = VERBS.index(verb)
    if not isinstance(verb, (int, np.integer)) or not 0 <= int(verb) < len(VERBS):
        raise ValueError(f"verb must be an index in [0, {len(VERBS)}) or one of {VERBS}, got {verb!r}")
    name = VERBS[int(verb)]
    if name in ("pick", "place"):
        pose = np.asarray(action.get("pose"), dtype=np.float64)
        if pose.shape != (4,):
            raise ValueError(f"{name} pose must be (x, y, z, yaw), got shape {pose.shape}")
        if not np.all(np.isfinite(pose)):
            raise ValueError(f"{name} pose has non-finite values: {pose.tolist()}")
        pose = tuple(float(v) for v in pose)
        if name == "place":
            return Place(pose)
        width = float(action.get("width", MAX_FINGER_WIDTH))
        if not 0.0 < width <= MAX_FINGER_WIDTH + 1e-6:
            raise ValueError(f"pick width must be in (0, {MAX_FINGER_WIDTH}] metres, got {width}")
        return Pick(pose, width)
    if name in ("answer", "ask"):
        text = action.get("text", "")
        if not isinstance(text, str):
            raise ValueError(f"{name} text must be a string, got {type(text).__name__}")
        return _TYPES[name](text)
    return Done()
