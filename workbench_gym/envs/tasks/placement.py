"""Shared machinery of tasks that move tools into zones (bins, the parts tray, the hand-over area).

A `PlacementTask` assigns each goal tool a `Zone`; partial credit is the fraction of goal tools in
their zone, and the oracle picks the first misplaced tool and puts it in its zone, spreading tools
that share a zone over slots so they do not land on one another.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from workbench_gym.envs.grasping import place_action
from workbench_gym.envs.high_level import Done, HighLevelAction
from workbench_gym.envs.task import Task
from workbench_gym.envs.tasks.shaping import carry_credit, holds, reach_credit
from workbench_gym.scenes.geometry import container_interior
from workbench_gym.scenes.spec import ObjectSpec
from workbench_gym.sim.world import World

#: Where fetched tools go: a free patch of bench at the arm's front right, kept clear of clutter.
HANDOVER_AREA = ((0.24, -0.62), (0.42, -0.44))


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
    lo, hi = container_interior(container.category, container.size)
    x, y, z = container.pose.position
    rim = z + container.geometry.bounds[1, 2]
    zone = Zone(container.name, (x, y), container.pose.rpy[2], tuple((hi - lo) / 2), z + 0.005, rim)
    return dataclasses.replace(zone, slots=TRAY_SLOTS) if container.category == "parts_tray" else zone


def handover_zone(bench_height: float) -> Zone:
    (x0, y0), (x1, y1) = HANDOVER_AREA
    return Zone("hand-over area", ((x0 + x1) / 2, (y0 + y1) / 2), 0.0, ((x1 - x0) / 2, (y1 - y0) / 2), bench_height, bench_height + 0.05)


def fits(tool: ObjectSpec, zone: Zone, margin: float = 0.01) -> bool:
    """Whether the tool lies flat in the zone with its long axis along the zone's x axis."""
    size = np.ptp(tool.geometry.bounds[:, :2], axis=0)
    return bool(size[0] <= 2 * zone.half[0] - margin and size[1] <= 2 * zone.half[1] - margin)


def in_zone(world: World, tool: ObjectSpec, zone: Zone) -> bool:
    lo, hi = (np.asarray(v) for v in world.client.getAABB(world.bodies[tool.name]))
    return zone.contains((lo + hi) / 2)


class PlacementTask(Task):
    """Base of tasks whose goal is tools in zones; subclasses set `self.goals` in `reset`."""

    goals: list[tuple[ObjectSpec, Zone]]

    def progress(self, world: World) -> float:
        return sum(in_zone(world, tool, zone) for tool, zone in self.goals) / len(self.goals)

    def dense_reward(self, world: World) -> float:
        """Tools in place, plus the first misplaced one's stage: reach 0.25 (full while held), grasp 0.25, carry to its zone 0.5."""
        placed = [in_zone(world, tool, zone) for tool, zone in self.goals]
        for (tool, zone), done in zip(self.goals, placed):
            if not done:
                held = holds(world, tool)
                stage = 0.5 + 0.5 * carry_credit(world, tool, zone) if held else 0.25 * reach_credit(world, tool)
                return (sum(placed) + stage) / len(self.goals)
        return 1.0

    def goal_info(self, world: World) -> dict:
        return {"objects": [{"object": t.name, "category": t.category, "size": t.size, "colour": t.colour, "zone": z.name} for t, z in self.goals]}

    def oracle(self, world: World, held: str | None) -> HighLevelAction:
        if held is not None:
            for tool, zone in self.goals:
                if tool.name == held:
                    # The next free slot: every tool already there counts (a chain's earlier steps may have left some).
                    slot = sum(in_zone(world, other, zone) for other in world.spec.tools if other.name != held)
                    tool_yaw = zone.yaw if zone.name != "hand-over area" else None
                    return place_action(world, tool, zone.slot(slot), zone.floor_z, tool_yaw)
            # A neighbour came up instead of the goal tool: put it back down where it is.
            stray = next(o for o in world.spec.objects if o.name == held)
            return place_action(world, stray, world.robot.ee_pose()[0][:2], world.spec.bench.height)
        misplaced = [tool for tool, zone in self.goals if not in_zone(world, tool, zone)]
        if misplaced:
            # Fewest grasps first: a tool whose grasp keeps failing (fingers landing on a neighbour) waits until the
            # other goal tools, often that neighbour, have been moved away, instead of using up the primitive budget.
            return self.oracle_pick(world, min(misplaced, key=lambda tool: self.pick_attempts[tool.name]))
        return Done()
