"""Zones on the bench where tools go: a container's inner floor, the parts tray's compartments, the hand-over area.

Pure geometry of the scene, shared by the tasks (goals, success) and the planners (where to put a tool down):
a zone is a rectangle on a floor, and its slots are where successive tools are dropped so they do not land
on one another.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from workbench_gym.scenes.geometry import container_interior
from workbench_gym.scenes.spec import ObjectSpec

#: Where fetched tools go: a free patch of bench at the arm's front right, kept clear of clutter.
HANDOVER_AREA = ((0.24, -0.62), (0.42, -0.44))
HANDOVER = "hand-over area"


@dataclass(frozen=True)
class Zone:
    """A rectangle on a floor: `center` (x, y), `yaw`, inner `half` extents, floor and rim heights."""

    name: str
    center: tuple[float, float]
    yaw: float
    half: tuple[float, float]
    floor_z: float
    rim_z: float
    #: Drop points (local x, y) for successive tools, as fractions of the half extents.
    slots: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.0, 0.55), (0.0, -0.55), (0.0, 0.3), (0.0, -0.3))

    def contains(self, point) -> bool:
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        d = np.asarray(point[:2]) - self.center
        local = np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1]])
        return bool(np.all(np.abs(local) <= self.half) and point[2] < self.rim_z)

    def slot(self, index: int) -> np.ndarray:
        """Drop point of the index-th tool into this zone (side by side in a bin, one per tray compartment)."""
        fx, fy = self.slots[index % len(self.slots)]
        local = np.array([fx * self.half[0], fy * self.half[1]])
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        return np.asarray(self.center) + np.array([c * local[0] - s * local[1], s * local[0] + c * local[1]])


#: The parts tray's compartments: one across its -x half, two side by side in its +x half.
TRAY_SLOTS = ((-0.5, 0.0), (0.5, 0.5), (0.5, -0.5), (-0.5, 0.5), (-0.5, -0.5))


def container_zone(container: ObjectSpec) -> Zone:
    """The inner floor of a container as it lies in the spec (the tray with its compartments as slots)."""
    lo, hi = container_interior(container.category, container.size)
    x, y, z = container.pose.position
    rim = z + container.geometry.bounds[1, 2]
    zone = Zone(container.name, (x, y), container.pose.rpy[2], tuple((hi - lo) / 2), z + 0.005, rim)
    return dataclasses.replace(zone, slots=TRAY_SLOTS) if container.category == "parts_tray" else zone


def handover_zone(bench_height: float) -> Zone:
    """The hand-over area on a bench whose top is at `bench_height`."""
    (x0, y0), (x1, y1) = HANDOVER_AREA
    return Zone(HANDOVER, ((x0 + x1) / 2, (y0 + y1) / 2), 0.0, ((x1 - x0) / 2, (y1 - y0) / 2), bench_height, bench_height + 0.05)
