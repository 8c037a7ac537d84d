"""What a TinyRenderer capture draws: the scene split into a cached background and a per-frame foreground, and culling.

TinyRenderer's cost is pixel fill and per-triangle work, and it skips fully transparent shapes,
so hiding what a capture need not draw saves its cost. A fixed camera draws its background once
(bench, pedestal, containers, and every tool still lying where it settled) and afterwards only the
arm and the tools that moved, composited over it by depth; when another tool moves, the background
is drawn again without it. A camera without a background (the wrist's) skips the bodies whose
bounding boxes lie wholly outside its view (most of the arm and the tools out of its sight).
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import numpy as np

Link = tuple[int, int, tuple]  # (body, link index, RGBA it is drawn with)
#: Bounding boxes are grown by this much (metres) before culling: the test stays on the safe side of rounding.
CULL_MARGIN = 0.01


class SceneLayers:
    """The scenery, the arm's links and the tools of one episode, and the tools' poses when the episode began.

    A tool is still while its pose is bit for bit the one it settled in; the background holds the
    scenery and the still tools. Which tools are still follows from the world's state alone, never
    from when frames were drawn, so every frame is the same whoever asked for frames before it.
    """

    _episodes = itertools.count()

    def __init__(self, client, scenery: list[Link], arm: list[Link], tools: list[Link]):
        self.client = client
        self.scenery, self.arm, self.tools = scenery, arm, tools
        self.rest: dict[int, tuple] = {}  # tool body -> pose it settled in; the world fills it in once settled
        self.episode = next(self._episodes)  # cameras key their cached background by (episode, still tools)

    def still(self) -> frozenset[int]:
        """Bodies of the tools that have not left the pose they settled in."""
        pose = self.client.getBasePositionAndOrientation
        return frozenset(body for body, rest in self.rest.items() if pose(body) == rest)

    def background(self, still: frozenset[int]):
        """Show only the scenery and the still tools."""
        return self.hidden(self.arm + [link for link in self.tools if link[0] not in still])

    def foreground(self, still: frozenset[int]):
        """Show only the arm and the tools that moved."""
        return self.hidden(self.scenery + [link for link in self.tools if link[0] in still])

    @contextmanager
    def hidden(self, links: list[Link]):
        """Make links transparent for the duration, then restore their colours."""
        for body, link, rgba in links:
            self.client.changeVisualShape(body, link, rgbaColor=[*rgba[:3], 0.0])
        try:
            yield
        finally:
            for body, link, rgba in links:
                self.client.changeVisualShape(body, link, rgbaColor=list(rgba))

    def culled(self, extrinsics: np.ndarray, intrinsics: np.ndarray, size: tuple[int, int], near: float, far: float) -> list[Link]:
        """The links whose bounding boxes lie wholly outside a camera's view."""
        links = self.scenery + self.arm + self.tools
        aabb = self.client.getAABB
        boxes = np.array([aabb(body, link) for body, link, _ in links])
        return [link for link, out in zip(links, outside_view(boxes, extrinsics, intrinsics, size, near, far)) if out]


def outside_view(boxes: np.ndarray, extrinsics: np.ndarray, intrinsics: np.ndarray, size: tuple[int, int], near: float, far: float) -> np.ndarray:
    """Which axis-aligned boxes (n, 2, 3: min and max corners, world frame) lie wholly outside a camera's view.

    A box is outside when all 8 corners are beyond one plane of the view frustum (behind the near
    plane, past the far plane, or beyond an image edge), which never calls a visible box outside.
    """
    lo, hi = boxes[:, 0] - CULL_MARGIN, boxes[:, 1] + CULL_MARGIN
    corners = np.stack([np.where(np.array([i & 1, i & 2, i & 4], bool), hi, lo) for i in range(8)], axis=1)  # (n, 8, 3)
    cam = corners @ extrinsics[:3, :3].T + extrinsics[:3, 3]
    x, y, z = cam[..., 0], cam[..., 1], cam[..., 2]
    width, height = size
    # Image edges in camera coordinates: pixel u in [0, W] is x/z in [-cx/f, (W - cx)/f], and likewise for v.
    (fx, cx), (fy, cy) = (intrinsics[0, 0], intrinsics[0, 2]), (intrinsics[1, 1], intrinsics[1, 2])
    left, right, top, bottom = -cx / fx, (width - cx) / fx, -(cy + 1) / fy, (height - cy) / fy
    beyond = [z < near, z > far, x < left * z, x > right * z, y < top * z, y > bottom * z]
    return np.any([np.all(b, axis=1) for b in beyond], axis=0)
