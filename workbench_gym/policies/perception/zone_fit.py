"""Fitting a container's inner floor, as a `Zone`, to its lifted points."""

from __future__ import annotations

import math

import numpy as np

from workbench_gym.policies.backend import Region, View
from workbench_gym.policies.perception.regions import lift_region
from workbench_gym.policies.perception.shapes import min_area_rectangle, rotation
from workbench_gym.scenes.zones import TRAY_SLOTS, Zone

CONTAINER_WALL = 0.006  # metres from a container's outer edge to its inner floor (catalog bins and tray)
CONTAINER_FLOOR = 0.005  # metres from the bench to a container's floor top


def fit_zone(view: View, region: Region, bench_z: float, name: str, tray: bool = False) -> Zone | None:
    """A container's inner floor as a `Zone`, from the smallest rectangle around the region's lifted points."""
    return zone_of_points(lift_region(view, region, bench_z).points, bench_z, name, tray)


def zone_of_points(points: np.ndarray, bench_z: float, name: str, tray: bool = False) -> Zone | None:
    """A container's inner floor as a `Zone` from its world points (N, 3); None from fewer than 10 points.

    The zone's x axis runs along the container's long side; the tray's compartments become its slots.
    """
    rectangle = min_area_rectangle(points[:, :2]) if len(points) >= 10 else None
    if rectangle is None:
        return None
    yaw, lo, hi = rectangle
    rot = rotation(yaw)[:2, :2]
    if hi[1] - lo[1] > hi[0] - lo[0]:
        yaw += math.pi / 2
        rot = rotation(yaw)[:2, :2]
        local = points[:, :2] @ rot
        lo, hi = local.min(0), local.max(0)
    centre = rot @ ((lo + hi) / 2)
    half = tuple(float(v) for v in np.maximum((hi - lo) / 2 - CONTAINER_WALL, 0.005))
    yaw = (yaw + math.pi / 2) % math.pi - math.pi / 2
    zone = Zone(name, (float(centre[0]), float(centre[1])), yaw, half, bench_z + CONTAINER_FLOOR, float(points[:, 2].max()))
    if tray:  # the tray's compartments as four quadrants: the same set whichever way round its x axis was fitted
        zone = Zone(zone.name, zone.center, zone.yaw, zone.half, zone.floor_z, zone.rim_z, TRAY_SLOTS[1:])
    return zone
