"""Shared machinery of tasks that move tools into zones (bins, the parts tray, the hand-over area).

A `PlacementTask` assigns each goal tool a `Zone` (`scenes.zones`); partial credit is the fraction of goal tools in
their zone, and the oracle picks the first misplaced tool and puts it in its zone, spreading tools
that share a zone over slots so they do not land on one another.
"""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.grasping import place_action
from workbench_gym.envs.high_level import Done, HighLevelAction
from workbench_gym.envs.task import Task
from workbench_gym.envs.tasks.shaping import carry_credit, holds, reach_credit
from workbench_gym.scenes.spec import ObjectSpec
from workbench_gym.scenes.zones import HANDOVER, Zone
from workbench_gym.sim.world import World


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
                    tool_yaw = zone.yaw if zone.name != HANDOVER else None
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
