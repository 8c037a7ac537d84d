"""The interface every VLM backend implements: ground phrases in a camera view and answer questions about it.

Backends see only what a real robot's camera gives (`View`), never simulator state. The planner turns their
`Region`s into 3D grasps with the view's depth and calibration. A backend that plans returns the instruction's
meaning as a `StructuredTask` (`language.task`), the same value the instruction reader gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from workbench_gym.language.task import StructuredTask


@dataclass(frozen=True)
class View:
    """One camera frame: RGB, metric depth, and OpenCV calibration (K; world-to-camera 4x4)."""

    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray | None  # (H, W) float32, metres along the optical axis
    intrinsics: np.ndarray  # (3, 3)
    extrinsics: np.ndarray  # (4, 4), world to camera
    camera: str = "front"


@dataclass(frozen=True)
class Region:
    """An image region a backend proposes for a phrase, best first by `score` in [0, 1]."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive
    score: float
    mask: np.ndarray | None = None  # (H, W) bool, where the backend segments
    label: str = ""  # catalog category the backend recognised ("" when it does not say)
    point: tuple[int, int] | None = None  # (column, row) the backend would grasp at, if it gives one


@runtime_checkable
class Backend(Protocol):
    """Grounds phrases and answers questions about one view. `plan` may return None to leave reading the instruction
    to the planner's instruction reader."""

    name: str

    def ground(self, view: View, phrase: str) -> list[Region]: ...

    def answer(self, view: View, question: str) -> str: ...

    def plan(self, view: View, instruction: str) -> StructuredTask | None: ...
