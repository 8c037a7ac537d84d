"""Dense reward terms in [0, 1] shared by the low-level tasks: reach a tool, carry it to a zone. Privileged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workbench_gym.envs.grasping import fingers_touching, grasp_point
from workbench_gym.scenes.spec import ObjectSpec
from workbench_gym.sim.world import World

if TYPE_CHECKING:
    from workbench_gym.scenes.zones import Zone

#: Distance scale of the tanh terms: the credit is 0.76 at 5 cm, 0.24 at 20 cm.
SCALE = 5.0
RIM_CLEARANCE = 0.03  # metres a carried tool's underside keeps above a zone's rim until it is over the zone


def reach_distance(world: World, tool: ObjectSpec) -> float:
    """Metres from the gripper's grasp point to the tool's grasp point."""
    return float(np.linalg.norm(world.robot.ee_pose()[0] - grasp_point(world, tool)))


def reach_credit(world: World, tool: ObjectSpec) -> float:
    """1 with the grasp point on the tool's grasp point, falling off with distance."""
    return float(1.0 - np.tanh(SCALE * reach_distance(world, tool)))


def holds(world: World, tool: ObjectSpec) -> bool:
    """Whether the hand holds the tool: both finger pads touch it, or the assisted grasp welds it to the hand.

    (Once welded, the fingers can close past the tool and stop touching it.)
    """
    if fingers_touching(world, tool):
        return True
    client, robot, body = world.client, world.robot.body, world.bodies[tool.name]
    for i in range(client.getNumConstraints()):
        info = client.getConstraintInfo(client.getConstraintUniqueId(i))
        if info[0] == robot and info[2] == body:
            return True
    return False


def carry_credit(world: World, tool: ObjectSpec, zone: Zone) -> float:
    """1 with the tool resting on the zone's floor, falling off with distance to a path over the rim.

    Until the tool's centre is over the zone, it is drawn to a point above the zone's rim (so a
    tool is carried over a bin wall, not into it); once over the zone, down to the floor.
    """
    lo, hi = (np.asarray(v) for v in world.client.getAABB(world.bodies[tool.name]))
    centre, half_height = (lo + hi) / 2, (hi[2] - lo[2]) / 2
    over = zone.contains((centre[0], centre[1], -np.inf))
    floor = zone.floor_z if over else zone.rim_z + RIM_CLEARANCE
    target = np.array([*zone.center, floor + half_height])
    return float(1.0 - np.tanh(SCALE * np.linalg.norm(centre - target)))
