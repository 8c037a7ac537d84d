"""High-level actions (`Pick`, `Place`, `Answer`, `Ask`, `Done`) and their gymnasium space encoding.

The same action flows from a planner, a script or an RL policy: typed values for people, a Dict
sample ({"verb", "pose", "width", "text"}) for gymnasium. `decode` accepts either and raises `ValueError`
naming the field for what is not an action at all (an unknown verb; a pose that is not 4 finite numbers; a width
that is not one number in (0, 8 cm]; text that is not a string within the space's length and charset). Whether a
well-formed action can be carried out (a reachable pose, a non-empty answer) is the env's to report.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from workbench_gym.envs.observations import INSTRUCTION_CHARSET, MAX_INSTRUCTION_LENGTH
from workbench_gym.messages import brief
from workbench_gym.sim.robot import MAX_FINGER_WIDTH

VERBS = ("pick", "place", "answer", "ask", "done")
#: Bounds of a pose (x, y, z, yaw) in the world frame: a box around the bench.
POSE_LOW = np.array([-0.5, -1.0, 0.0, -np.pi], np.float32)
POSE_HIGH = np.array([1.5, 1.0, 2.0, np.pi], np.float32)
_CHARSET = frozenset(INSTRUCTION_CHARSET)


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
    """The Dict-space sample of a typed action (checked first: `ValueError` names a malformed field)."""
    action = decode(action)
    verb = VERBS.index(type(action).__name__.lower())
    pose = np.asarray(getattr(action, "pose", np.zeros(4)), np.float32)
    width = np.array(getattr(action, "width", MAX_FINGER_WIDTH), np.float32)
    return {"verb": verb, "pose": pose, "width": width, "text": getattr(action, "text", "")}


def fit_text(text: str) -> str:
    """`text` made to fit the action space's `text`: accents dropped, other characters outside its charset turned
    into spaces, whitespace collapsed, cut to its maximum length. For planners that pass on a model's free text."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    kept = "".join(c if c in _CHARSET else " " for c in ascii_text)
    return " ".join(kept.split())[:MAX_INSTRUCTION_LENGTH].rstrip()


def decode(action: HighLevelAction | dict) -> HighLevelAction:
    """A typed action from a typed action or a Dict-space sample; `ValueError` names the malformed field.

    A typed action's pose and width go through float32 as in its Dict encoding, so both run identically.
    """
    if isinstance(action, (Pick, Place, Answer, Ask, Done)):
        fields = {"verb": type(action).__name__.lower(), **vars(action)}
        return _decode(fields, typed=True)
    if not isinstance(action, dict) or "verb" not in action:
        raise ValueError(f"a high-level action is Pick/Place/Answer/Ask/Done or a dict with a 'verb', got {brief(action)}")
    return _decode(action, typed=False)


def _decode(action: dict, typed: bool) -> HighLevelAction:
    verb = action["verb"]
    if isinstance(verb, str):
        if verb not in VERBS:
            raise ValueError(f"verb: unknown verb {brief(verb)}; expected one of {VERBS}")
        verb = VERBS.index(verb)
    if isinstance(verb, (bool, np.bool_)) or not isinstance(verb, (int, np.integer)) or not 0 <= int(verb) < len(VERBS):
        raise ValueError(f"verb must be an index in [0, {len(VERBS)}) or one of {VERBS}, got {brief(verb)}")
    name = VERBS[int(verb)]
    if name in ("pick", "place"):
        pose = _pose(action.get("pose"), name, typed)
        if name == "place":
            return Place(pose)
        return Pick(pose, _width(action.get("width", MAX_FINGER_WIDTH), typed))
    if name in ("answer", "ask"):
        return _TYPES[name](_text(action.get("text", ""), name))
    return Done()


def _numeric(value: Any) -> np.ndarray | None:
    """`value` as a float64 array when it holds only numbers (no text, bools or objects numpy would convert), else None."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):  # ragged nesting
        return None
    return raw.astype(np.float64) if raw.dtype.kind in "iuf" else None


def _pose(value: Any, name: str, typed: bool) -> tuple[float, float, float, float]:
    pose = _numeric(value)
    if pose is None:
        raise ValueError(f"{name} pose must be 4 numbers (x, y, z, yaw), got {type(value).__name__} {brief(value)}")
    if pose.shape != (4,):
        raise ValueError(f"{name} pose must be (x, y, z, yaw), got shape {pose.shape}")
    if not np.all(np.isfinite(pose)):
        raise ValueError(f"{name} pose has non-finite values: {pose.tolist()}")
    if typed and np.all(np.abs(pose) <= np.finfo(np.float32).max):
        pose = pose.astype(np.float32)  # as in the Dict encoding; a value beyond float32 stays: the arm finds it unreachable
    return tuple(float(v) for v in pose)


def _width(value: Any, typed: bool) -> float:
    expected = f"one number in (0, {MAX_FINGER_WIDTH}] metres"
    width = _numeric(value)
    if width is None:
        raise ValueError(f"pick width must be {expected}, got {type(value).__name__} {brief(value)}")
    if width.size != 1:
        raise ValueError(f"pick width must be {expected}, got an array of shape {width.shape}")
    width = float(np.float32(width.item())) if typed else float(width.item())
    if not 0.0 < width <= MAX_FINGER_WIDTH + 1e-6:  # NaN fails this too
        raise ValueError(f"pick width must be {expected}, got {width}")
    return width


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} text must be a string, got {type(value).__name__}")
    if len(value) > MAX_INSTRUCTION_LENGTH:
        raise ValueError(f"{name} text is {len(value)} characters long; the action space holds at most {MAX_INSTRUCTION_LENGTH} "
                         "(fit_text cuts it)")
    bad = sorted(set(value) - _CHARSET)
    if bad:
        raise ValueError(f"{name} text has characters outside the action space's charset: {brief(bad[:10])} (fit_text replaces them)")
    return value
